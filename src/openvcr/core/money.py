"""Money and quantities: ``Decimal`` only, never ``float``.

Rules:
- AMD amounts have at most 2 decimals (the luma, 0.01 AMD, is the smallest unit); quantities at most 3.
- Rounding is half-up (0.005 → 0.01, 0.004 → 0.00), applied only at named points (``round_money``).
- ``money()`` and ``quantity()`` refuse ``float`` and values with too many decimals; arithmetic on Decimals
  runs in a context that traps mixing with floats (``FloatOperation``).
"""

from __future__ import annotations

import decimal
from decimal import ROUND_HALF_UP, Decimal

# Every thread's Decimal context traps float mixing (new threads copy DefaultContext).
decimal.DefaultContext.traps[decimal.FloatOperation] = True
decimal.getcontext().traps[decimal.FloatOperation] = True

CENT = Decimal("0.01")
MILLI = Decimal("0.001")
ZERO = Decimal("0.00")


class MoneyError(ValueError):
    """A value that is not a valid amount or quantity."""


def _to_decimal(value: object) -> Decimal:
    if isinstance(value, bool):
        raise MoneyError("a boolean is not a number")
    if isinstance(value, float):
        raise MoneyError("floats are refused; pass a decimal string")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except decimal.InvalidOperation as exc:
            raise MoneyError(f"{value!r} is not a decimal number") from exc
    else:
        raise MoneyError(f"{type(value).__name__} is not a decimal number")
    if not result.is_finite():
        raise MoneyError("the number must be finite")
    return result


def decimals(value: Decimal) -> int:
    """Number of decimal places written in ``value`` (after normalization of trailing zeros)."""
    exponent = value.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)


def money(value: object) -> Decimal:
    """An AMD amount with at most 2 decimals, quantized to the cent."""
    result = _to_decimal(value)
    if decimals(result) > 2:
        raise MoneyError("an amount has at most 2 decimals")
    return result.quantize(CENT)


def quantity(value: object) -> Decimal:
    """A quantity with at most 3 decimals, quantized to 0.001."""
    result = _to_decimal(value)
    if decimals(result) > 3:
        raise MoneyError("a quantity has at most 3 decimals")
    return result.quantize(MILLI)


def round_money(value: Decimal) -> Decimal:
    """Round half-up to the cent: the one rounding point for amounts."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def to_json_number(value: Decimal) -> int | float:
    """A Decimal amount as a JSON number for responses: an int when whole, else the shortest float."""
    if value == value.to_integral_value():
        return int(value)
    return float(value)
