"""Receipt arithmetic, exactly as the SRC e-HDM computes it. ``Decimal`` only.

Rules (SRC manual, checked on its examples):
- Line amount without discounts: ``price × quantity``, rounded half-up to the cent.
- Base discount first, then the additional discount; each result rounded half-up to the cent:
  base ``percent`` (SRC 1): ``price·qty·(1 − d/100)``; ``price`` per unit (SRC 2): ``(price − d)·qty``;
  ``total`` on the line (SRC 4): ``price·qty − d``; additional ``percent`` (SRC 8): ``x·(1 − d/100)``;
  additional ``total`` (SRC 16): ``x − d``. Percentages are ≥ 0 and < 100; a discounted line stays > 0.
- Receipt total = Σ line totals.
- VAT (VAT departments only): ``vat = total × 16.67 / 100`` rounded half-up; the amount without taxes is
  ``total − vat`` (44000 → 36665.20).
- Payments: paid = cash + non-cash + prepayment + compensation ≥ total; non-cash ≤ total; no cash at all
  when non-cash alone covers the total; change = paid − total, and comes from cash only (so the non-cash
  tenders together never exceed the total).
- Refunds: returning ``q`` more units of a line of quantity ``Q`` and total ``T`` of which ``r`` units were
  already refunded for ``A`` is worth ``round(T·(r + q)/Q) − A`` (half-up; never below zero), and the last
  units take exactly what is left of ``T`` — so the pieces of a line always sum to its total. A refund amount
  is split over the tenders as originally paid, the same way, cash taking the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from openvcr.core.money import ZERO, round_money

HUNDRED = Decimal(100)
VAT_RATE = Decimal("16.67")
VAT_REGIME = "vat"


class BaseDiscount(StrEnum):
    PERCENT = "percent"  # SRC 1
    PRICE = "price"  # SRC 2
    TOTAL = "total"  # SRC 4


class AdditionalDiscount(StrEnum):
    PERCENT = "percent"  # SRC 8
    TOTAL = "total"  # SRC 16


SRC_BASE_CODE = {BaseDiscount.PERCENT: 1, BaseDiscount.PRICE: 2, BaseDiscount.TOTAL: 4}
SRC_ADDITIONAL_CODE = {AdditionalDiscount.PERCENT: 8, AdditionalDiscount.TOTAL: 16}


class ArithmeticRuleError(ValueError):
    """A line or payment that breaks an SRC rule. ``field`` names the offending input."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Line:
    quantity: Decimal
    price: Decimal
    base_type: BaseDiscount | None = None
    base_value: Decimal | None = None
    additional_type: AdditionalDiscount | None = None
    additional_value: Decimal | None = None


def _check_percent(value: Decimal, field: str) -> None:
    if not (ZERO <= value < HUNDRED):
        raise ArithmeticRuleError(field, "a percentage discount must be at least 0 and less than 100")


def line_total(line: Line) -> Decimal:
    """The line's amount after its discounts (base first, then additional), rounded half-up to the cent."""
    if line.quantity <= 0:
        raise ArithmeticRuleError("quantity", "quantity must be greater than 0")
    if line.price <= 0:
        raise ArithmeticRuleError("price", "price must be greater than 0")
    gross = line.price * line.quantity
    amount = round_money(gross)
    if line.base_type is not None:
        value = line.base_value if line.base_value is not None else ZERO
        if value < 0:
            raise ArithmeticRuleError("discounts.base.value", "a discount cannot be negative")
        if line.base_type is BaseDiscount.PERCENT:
            _check_percent(value, "discounts.base.value")
            amount = round_money(gross * (HUNDRED - value) / HUNDRED)
        elif line.base_type is BaseDiscount.PRICE:
            if value >= line.price:
                raise ArithmeticRuleError("discounts.base.value", "a per-unit discount must be less than the price")
            amount = round_money((line.price - value) * line.quantity)
        else:
            amount = round_money(gross - value)
    if line.additional_type is not None:
        value = line.additional_value if line.additional_value is not None else ZERO
        if value < 0:
            raise ArithmeticRuleError("discounts.additional.value", "a discount cannot be negative")
        if line.additional_type is AdditionalDiscount.PERCENT:
            _check_percent(value, "discounts.additional.value")
            amount = round_money(amount * (HUNDRED - value) / HUNDRED)
        else:
            amount = round_money(amount - value)
    if amount <= 0:
        raise ArithmeticRuleError("discounts", "the discounts leave nothing to pay on this line")
    return amount


def vat_of(total: Decimal, regime: str) -> Decimal:
    """VAT included in ``total`` under the SRC convention (16.67 % of the VAT-inclusive amount)."""
    if regime != VAT_REGIME:
        return ZERO
    return round_money(total * VAT_RATE / HUNDRED)


@dataclass(frozen=True)
class Tenders:
    cash: Decimal = ZERO
    non_cash: Decimal = ZERO
    prepayment: Decimal = ZERO
    compensation: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return self.cash + self.non_cash + self.prepayment + self.compensation

    def minus(self, other: Tenders) -> Tenders:
        return Tenders(
            self.cash - other.cash,
            self.non_cash - other.non_cash,
            self.prepayment - other.prepayment,
            self.compensation - other.compensation,
        )

    def plus(self, other: Tenders) -> Tenders:
        return Tenders(
            self.cash + other.cash,
            self.non_cash + other.non_cash,
            self.prepayment + other.prepayment,
            self.compensation + other.compensation,
        )


def settle(total: Decimal, paid: Tenders) -> Decimal:
    """Check a payment against the SRC rules; return the change (from cash)."""
    for name, value in (
        ("cash", paid.cash),
        ("nonCash", paid.non_cash),
        ("prepayment", paid.prepayment),
        ("compensation", paid.compensation),
    ):
        if value < 0:
            raise ArithmeticRuleError(name, "an amount cannot be negative")
    if paid.total < total:
        raise ArithmeticRuleError("amount", f"paid amount {paid.total} is less than the total {total}")
    if paid.non_cash > total:
        raise ArithmeticRuleError("nonCash", f"non-cash amount {paid.non_cash} exceeds the total {total}")
    if paid.cash > 0 and paid.non_cash >= total:
        raise ArithmeticRuleError("cash", f"cash amount {paid.cash} is redundant: non-cash covers the total")
    change = paid.total - total
    if change > paid.cash:
        raise ArithmeticRuleError("amount", "change can only be given from cash: the non-cash tenders exceed the total")
    return change


def proportional(amount: Decimal, part: Decimal, whole: Decimal) -> Decimal:
    """``amount × part / whole`` rounded half-up to the cent."""
    if whole <= 0:
        raise ArithmeticRuleError("quantity", "nothing to take a share of")
    return round_money(amount * part / whole)


def line_refund(
    total: Decimal, quantity: Decimal, refunded_qty: Decimal, refunded_amount: Decimal, qty: Decimal
) -> Decimal:
    """Value of returning ``qty`` more units of a line (see the module rules)."""
    remaining = quantity - refunded_qty
    if qty <= 0:
        raise ArithmeticRuleError("quantity", "quantity must be greater than 0")
    if qty > remaining:
        raise ArithmeticRuleError("quantity", f"only {remaining} of this line can still be refunded")
    if qty == remaining:
        return total - refunded_amount
    # Cumulative share minus what was already given: the rounding of one piece never overshoots the line.
    share = proportional(total, refunded_qty + qty, quantity) - refunded_amount
    return min(max(share, ZERO), total - refunded_amount)


def split_refund(amount: Decimal, paid: Tenders, refunded: Tenders, sale_total: Decimal, final: bool) -> Tenders:
    """Split a refund ``amount`` over the tenders as originally paid (``paid`` is net of change).

    Rules: every tender's part is its proportional share of ``amount`` (half-up), never more than what is left
    of it; cash takes the rest. When rounding leaves cash above what is left of it, the excess moves to the
    other tenders in order (non-cash, prepayment, compensation) within what is left of each; when it leaves
    cash below zero, the shortfall is taken back from them in reverse order. The final refund of a sale takes
    exactly what is left of every tender.
    """
    left = paid.minus(refunded)
    if final:
        return left
    others = ["non_cash", "prepayment", "compensation"]
    part = {name: min(getattr(left, name), proportional(amount, getattr(paid, name), sale_total)) for name in others}
    cash = amount - sum(part.values(), ZERO)
    for name in reversed(others):  # rounding gave the others more than the amount: take it back
        if cash >= 0:
            break
        back = min(-cash, part[name])
        part[name] -= back
        cash += back
    for name in others:  # rounding pushed too much onto cash: move the excess to what the others have left
        if cash <= left.cash:
            break
        room = getattr(left, name) - part[name]
        moved = min(cash - left.cash, room)
        part[name] += moved
        cash -= moved
    return Tenders(cash, part["non_cash"], part["prepayment"], part["compensation"])
