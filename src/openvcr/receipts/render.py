"""HTML of the public receipt page (Jinja2, autoescaped) and the SRC QR code as inline SVG (segno).

Rules:
- Languages hy (default), ru, en; texts in ``receipts.i18n``; offer titles in the page language when the
  offer has it, else Armenian.
- Times are shown in Yerevan time (``Asia/Yerevan``), ``YYYY-MM-DD HH:MM:SS``.
- Amounts with two decimals and a thin space between thousands.
- The QR code encodes SRC's ``qr`` text exactly as SRC returned it; no external asset is referenced.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import segno
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from openvcr.receipts.i18n import LANGUAGES, STRINGS, UNIT_NAMES
from openvcr.receipts.service import ReceiptDocument, ReceiptLine
from openvcr.sales.units import SRC_UNIT_NAMES

YEREVAN = ZoneInfo("Asia/Yerevan")
THIN_SPACE = "\u202f"

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def amount(value: Decimal) -> str:
    """``45500`` → ``45 500.00`` (thin space between thousands)."""
    return f"{value:,.2f}".replace(",", THIN_SPACE)


def quantity(value: Decimal) -> str:
    return format(value.normalize(), "f")


def yerevan_time(time_ms: Any) -> str:
    moment = datetime.fromtimestamp(int(time_ms) / 1000, tz=YEREVAN)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def qr_svg(text: str) -> Markup:
    """SRC's QR text as an inline SVG element."""
    code = segno.make(text, error="m", micro=False)
    svg = code.svg_inline(scale=4, border=2, svgclass="qr-code", lineclass=None)
    return Markup(svg.replace("<svg ", '<svg role="img" aria-label="QR" ', 1))  # noqa: S704 - segno output


def unit_name(unit: str, language: str) -> str:
    if language == "hy":
        return SRC_UNIT_NAMES.get(unit, unit)
    return UNIT_NAMES.get(language, {}).get(unit, unit)


def _discount_text(value: Decimal | None, kind: str | None, t: dict[str, str]) -> str | None:
    if value is None or kind is None:
        return None
    if kind == "percent":
        return f"{quantity(value)}%"
    if kind == "price":
        return f"{amount(value)} {t['per_unit']}"
    return amount(value)


def _line(line: ReceiptLine, language: str, t: dict[str, str]) -> dict[str, Any]:
    return {
        "title": line.title.get(language) or line.title.get("multi") or line.title.get("hy") or "",
        "quantity": quantity(line.quantity),
        "unit": unit_name(line.unit, language),
        "price": None if line.price is None else amount(line.price),
        "discount": _discount_text(line.discount, line.discount_type, t),
        "additional_discount": _discount_text(line.additional_discount, line.additional_discount_type, t),
        "total": amount(line.total),
    }


def render_receipt(document: ReceiptDocument, language: str) -> str:
    t = STRINGS[language]
    receipt = document.receipt
    verification = document.verification
    return _templates.get_template("receipt.html").render(
        t=t,
        lang=language,
        languages=LANGUAGES,
        url_id=document.url_id,
        kind=document.kind,
        title=t[document.kind],
        receipt=receipt,
        time=yerevan_time(receipt["time"]),
        lines=[_line(line, language, t) for line in document.lines],
        total=amount(document.total),
        payments=[(t[label], amount(value)) for label, value in document.payments],
        change=amount(document.change),
        refund_of=document.refund_of,
        qr=qr_svg(str(receipt["qr"])) if receipt.get("qr") else None,
        verified=verification.ok,
        reason=None if verification.reason is None else t[f"reason_{verification.reason}"],
        entry_number=verification.number,
    )


def render_not_found(language: str, notice: str = "not_found") -> str:
    """The page of an address without a receipt: ``not_found``, or ``awaiting`` (kept, not fiscalized yet)."""
    return _templates.get_template("not_found.html").render(t=STRINGS[language], lang=language, notice=notice)
