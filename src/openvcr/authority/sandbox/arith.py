"""The manual's receipt arithmetic, on ``Decimal`` only.

Rules:
- A line is ``price × quantity``; the primary discount applies first, then the additional one; each result
  is rounded half-up to 2 decimals (0.005 → 0.01, 0.004 → 0.00):
  * discountType 1 (percent): ``price·qty·(1 − d/100)``; 2 (per unit, dram): ``(price − d)·qty``;
    4 (on the line total, dram): ``price·qty − d``;
  * additionalDiscountType 8 (percent): ``x·(1 − d/100)``; 16 (dram): ``x − d``.
- The receipt total is the sum of the rounded lines.
- VAT departments (regime 1) carry ``vat`` 16.67 and ``totalWithoutTaxes = total − total·16.67/100``
  (20 % VAT included in the price), rounded half-up; other regimes carry vat 0 and no deduction.
- A partial return of a line is proportional (``lineTotal·q/Q``, half-up); the last return of a line takes
  exactly what remains, so returns never drift from the original by rounding.
- QR amounts are printed like Java's ``#,##0.##``: ``40,000``, ``1,234.5``; QR time is ``M/d/yy h:mm a`` in
  Asia/Yerevan.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone, tzinfo
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
VAT_RATE = Decimal("16.67")
PRIMARY_TYPES = frozenset({1, 2, 4})
ADDITIONAL_TYPES = frozenset({8, 16})


def round2(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def apply_discount(base: Decimal, price: Decimal, qty: Decimal, discount: Decimal, discount_type: int) -> Decimal:
    if discount_type == 1:
        return round2(price * qty * (Decimal(100) - discount) / Decimal(100))
    if discount_type == 2:
        return round2((price - discount) * qty)
    if discount_type == 4:
        return round2(price * qty - discount)
    raise ValueError(f"unknown discount type {discount_type}")


def apply_additional(amount: Decimal, discount: Decimal, discount_type: int) -> Decimal:
    if discount_type == 8:
        return round2(amount * (Decimal(100) - discount) / Decimal(100))
    if discount_type == 16:
        return round2(amount - discount)
    raise ValueError(f"unknown additional discount type {discount_type}")


def line_total(
    price: Decimal,
    qty: Decimal,
    discount: Decimal | None = None,
    discount_type: int | None = None,
    additional: Decimal | None = None,
    additional_type: int | None = None,
) -> Decimal:
    amount = round2(price * qty)
    if discount is not None and discount_type is not None:
        amount = apply_discount(amount, price, qty, discount, discount_type)
    if additional is not None and additional_type is not None:
        amount = apply_additional(amount, additional, additional_type)
    return amount


def vat_of_regime(regime: int) -> Decimal:
    return VAT_RATE if regime == 1 else Decimal("0")


def without_taxes(total: Decimal, vat: Decimal) -> Decimal:
    return round2(total - total * vat / Decimal(100))


def proportional(total: Decimal, part: Decimal, whole: Decimal) -> Decimal:
    return round2(total * part / whole)


def format_amount(value: Decimal) -> str:
    """Java ``#,##0.##`` in the en_US locale."""
    q = round2(value)
    if q == q.to_integral_value():
        return f"{int(q):,}"
    return f"{q:,.2f}".rstrip("0").rstrip(".")


def _yerevan() -> tzinfo:
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo("Asia/Yerevan")
    except Exception:  # pragma: no cover - no tz database: Armenia is UTC+4 without DST since 2012
        return timezone(timedelta(hours=4))


YEREVAN = _yerevan()


def format_qr_time(time_ms: int) -> str:
    """``M/d/yy h:mm a`` in Asia/Yerevan: 1721140445000 → ``7/16/24 6:34 PM``."""
    local = datetime.fromtimestamp(time_ms / 1000, tz=UTC).astimezone(YEREVAN)
    hour = local.hour % 12 or 12
    ampm = "AM" if local.hour < 12 else "PM"
    return f"{local.month}/{local.day}/{local:%y} {hour}:{local:%M} {ampm}"


def qr_text(
    *,
    tin: str,
    crn: str,
    sn: str,
    receipt_id: int,
    time_ms: int,
    fiscal: str | None,
    cash: Decimal,
    noncash: Decimal,
    prepayment: Decimal,
    partial: Decimal,
    total: Decimal,
) -> str:
    return (
        f"TIN: {tin}, CRN: {crn}, SERIAL: {sn}, Receipt_ID: {receipt_id}, "
        f"Receipt_Time: {format_qr_time(time_ms)}, FISCAL: {fiscal if fiscal is not None else 'null'}, "
        f"TOTAL_CASH: {format_amount(cash)}, TOTAL_NONCASH: {format_amount(noncash)}, "
        f"PREP_USAGE: {format_amount(prepayment)}, PARTIAL: {format_amount(partial)}, TOTAL: {format_amount(total)}"
    )
