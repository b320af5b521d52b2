"""Charts of the overview as plain geometry for inline SVG (no script, no library): bars by day, shares.

Pure functions on ``Decimal``: the template draws what they return."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

WIDTH = 600
HEIGHT = 160


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: Decimal


def day_bars(days: list[tuple[str, Decimal]], width: int = WIDTH, height: int = HEIGHT) -> list[Bar]:
    """One bar per day, scaled to the largest value (a negative day, refunds over sales, draws as zero)."""
    if not days:
        return []
    top = max((v for _, v in days), default=Decimal(0))
    slot = width / len(days)
    bars = []
    for index, (label, value) in enumerate(days):
        h = 0.0 if top <= 0 or value <= 0 else float(value / top) * (height - 4)
        bars.append(Bar(index * slot + 1, height - h, max(slot - 2, 1), h, label, value))
    return bars


def share_bars(parts: list[tuple[str, Decimal]], width: int = WIDTH) -> list[Bar]:
    """Horizontal bars, one per part, as long as its share of the largest part."""
    top = max((v for _, v in parts), default=Decimal(0))
    return [
        Bar(0, index * 28, 0.0 if top <= 0 or v <= 0 else float(v / top) * width * 0.6, 20, label, v)
        for index, (label, v) in enumerate(parts)
    ]
