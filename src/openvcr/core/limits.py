"""Bounds on what a register accepts: hard ones every input obeys, and sane ones each register may set.

Rules:
- Hard bounds (the request schemas, not configurable): an id is 1 … ``MAX_ID`` = 2**53 − 1, the largest
  integer every JSON client reads exactly; an amount is 0 … ``MAX_AMOUNT`` = 9 999 999 999 999.99 AMD
  (10**15 − 1 luma, below 2**53: exact as the binary double SRC's wire and the official SDKs read a money
  number, and far inside the ``BIGINT`` luma column); a quantity is > 0 and at most ``MAX_QUANTITY`` =
  999 999 999.999 (10**12 − 1 thousandths). Non-finite numbers are never amounts or quantities.
- Sane limits (per register, ``Limits``; the defaults below, each settable up to its hard bound): a line's
  quantity, a unit price (in AMD, after any currency conversion), a sale's total and a prepayment are at most
  their limit. Change is refused when it is larger than the sale's total *and* larger than ``max_change``
  (default 100 000 AMD, the largest Armenian banknote): paying a 100 AMD coffee with a 20 000 note is a sale,
  a cash amount many times the total is a typing error.
- A broken limit is a ``LimitExceeded`` naming the input (its ``field``) and the limit; nothing is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import Decimal

MAX_ID = 2**53 - 1
MAX_AMOUNT = Decimal("9999999999999.99")
MAX_QUANTITY = Decimal("999999999.999")


def shown(value: Decimal) -> str:
    """An amount or quantity as a message shows it: ``100000`` for a whole number, else ``1.50``."""
    return f"{value:.0f}" if value == value.to_integral_value() else f"{value:f}"


class LimitExceeded(ValueError):
    """An input above a limit. ``field`` names it (``"quantity"``, ``"price"``, ``"amount.cash"`` …)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Limits:
    """A register's sane limits (AMD amounts, quantities in the line's unit)."""

    max_quantity: Decimal = Decimal("1000000.000")
    max_unit_price: Decimal = Decimal("100000000.00")
    max_sale_total: Decimal = Decimal("1000000000.00")
    max_change: Decimal = Decimal("100000.00")
    max_prepayment: Decimal = Decimal("1000000000.00")

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            ceiling = MAX_QUANTITY if item.name == "max_quantity" else MAX_AMOUNT
            if not isinstance(value, Decimal) or not value.is_finite() or not 0 < value <= ceiling:
                raise ValueError(f"{item.name} must be a number above 0 and at most {ceiling}")

    def check_line(self, quantity: Decimal, unit_price: Decimal) -> None:
        if quantity > self.max_quantity:
            raise LimitExceeded("quantity", f"a line's quantity is at most {shown(self.max_quantity)} on this register")
        if unit_price > self.max_unit_price:
            raise LimitExceeded(
                "price",
                f"a unit price is at most {shown(self.max_unit_price)} AMD on this register (got {shown(unit_price)})",
            )

    def check_total(self, total: Decimal) -> None:
        if total > self.max_sale_total:
            raise LimitExceeded(
                "items",
                f"a sale's total is at most {shown(self.max_sale_total)} AMD on this register (got {shown(total)})",
            )

    def check_change(self, total: Decimal, change: Decimal) -> None:
        if change > total and change > self.max_change:
            raise LimitExceeded(
                "amount.cash",
                f"the change would be {shown(change)} AMD, more than the total and more than "
                f"{shown(self.max_change)} AMD (this register's change limit): a cash overpayment this large is a "
                "typing error",
            )

    def check_prepayment(self, amount: Decimal) -> None:
        if amount > self.max_prepayment:
            raise LimitExceeded(
                "amount",
                f"a prepayment is at most {shown(self.max_prepayment)} AMD on this register (got {shown(amount)})",
            )


DEFAULT_LIMITS = Limits()
