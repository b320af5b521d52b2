"""Exact numbers at rest: money, quantities and rates stored as integers of their smallest unit.

Rules:
- ``Money`` is a ``BIGINT`` count of luma (0.01 AMD); ``Quantity`` a ``BIGINT`` count of thousandths;
  ``Scaled(places)`` the same for any fixed number of decimals (exchange and tax rates). No backend ever
  stores a REAL: SQLite's ``NUMERIC`` affinity would (``9999999999999999.99`` would read back as
  ``10000000000000000.00``).
- The Python side is always ``Decimal``, read back with exactly ``places`` decimals (``Decimal("1.50")``).
- Binding refuses ``float`` and ``bool`` (``TypeError``), and refuses a value with more decimals than the
  column holds, a non-finite value or one outside ``BIGINT`` (``ValueError``): nothing is rounded silently.
  ``int`` is accepted (whole units); ``None`` passes through.
- In SQL only ``+``, ``-`` and comparisons mix a scaled column with a Python value (the value is scaled like
  the column); ``*``, ``/`` and ``%`` with a Python value are refused, since they would scale it too.
- ``SUM`` over a scaled column is read through ``money_sum`` / ``exact_sum``: typed like the column, so it comes
  back as ``Decimal`` (PostgreSQL answers ``SUM(bigint)`` with an integral ``numeric``, SQLite with an int).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Dialect, func, type_coerce
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import Label
from sqlalchemy.types import TypeDecorator, TypeEngine

BIGINT_MAX = 2**63 - 1
ROW_ID_MAX = 2**31 - 1
"""The largest id an ``INTEGER`` id column holds on every backend (PostgreSQL's ``integer``). An id above it,
which a request may name (the API accepts ids up to 2**53 − 1), names no row: look-ups answer "not found"
instead of sending a number the column would refuse."""


def names_no_row(row_id: int | None) -> bool:
    """True when ``row_id`` cannot be the id of any row (see ``ROW_ID_MAX``)."""
    return row_id is not None and not 0 < row_id <= ROW_ID_MAX


_SCALING_OPERATORS = frozenset({operators.mul, operators.truediv, operators.floordiv, operators.mod})


def to_units(value: object, places: int) -> int:
    """``value`` as an integer count of ``10**-places``; refuses floats and anything that would need rounding."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"an exact column takes Decimal or int, not {type(value).__name__}")
    units: int
    if isinstance(value, int):
        units = value * 10**places
    else:
        if not value.is_finite():
            raise ValueError(f"{value} is not a finite number")
        sign, digits, exponent = value.as_tuple()
        assert isinstance(exponent, int)
        coefficient = int("".join(map(str, digits))) if digits else 0
        shift = exponent + places
        if shift >= 0:
            units = coefficient * 10**shift
        else:
            units, rest = divmod(coefficient, 10**-shift)
            if rest:
                raise ValueError(f"{value} has more than {places} decimals")
        if sign:
            units = -units
    if not -BIGINT_MAX <= units <= BIGINT_MAX:
        raise ValueError(f"{value} does not fit the column")
    return units


def from_units(value: object, places: int) -> Decimal:
    """An integer count of ``10**-places`` (int, or an integral ``Decimal`` from a PostgreSQL ``SUM``) as Decimal."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise TypeError(f"an exact column holds integers, the database returned {type(value).__name__}")
    if isinstance(value, Decimal):
        if not value.is_finite() or value != value.to_integral_value():
            raise ValueError(f"an exact column holds integers, the database returned {value}")
        value = int(value)
    return Decimal(value).scaleb(-places)


class Scaled(TypeDecorator[Decimal]):
    """A ``Decimal`` with ``places`` decimals, stored as a ``BIGINT`` count of ``10**-places``."""

    impl = BigInteger
    cache_ok = True

    def __init__(self, places: int) -> None:
        super().__init__()
        if places < 0:
            raise ValueError("places must not be negative")
        self.places = places

    @property
    def python_type(self) -> type[Decimal]:
        return Decimal

    def process_bind_param(self, value: Any, dialect: Dialect) -> int | None:
        return None if value is None else to_units(value, self.places)

    def process_literal_param(self, value: Any, dialect: Dialect) -> str:
        return "NULL" if value is None else str(to_units(value, self.places))

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else from_units(value, self.places)

    def coerce_compared_value(self, op: Any, value: Any) -> TypeEngine[Any]:
        if op in _SCALING_OPERATORS:
            raise TypeError(f"{op.__name__} of an exact column with a Python value would scale the value too")
        return self

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.places})"


class Money(Scaled):
    """An AMD amount: a ``BIGINT`` count of luma (0.01 AMD)."""

    cache_ok = True

    def __init__(self) -> None:
        super().__init__(2)

    def __repr__(self) -> str:
        return "Money()"


class Quantity(Scaled):
    """A quantity: a ``BIGINT`` count of thousandths."""

    cache_ok = True

    def __init__(self) -> None:
        super().__init__(3)

    def __repr__(self) -> str:
        return "Quantity()"


def exact_sum(column: ColumnElement[Decimal], label: str | None = None) -> Label[Decimal]:
    """``COALESCE(SUM(column), 0)`` typed like the (scaled) column, so it is read back as a ``Decimal``."""
    if not isinstance(column.type, Scaled):
        raise TypeError(f"exact_sum needs a Money, Quantity or Scaled column, not {column.type!r}")
    name = label or f"sum_{getattr(column, 'name', 'value')}"
    return type_coerce(func.coalesce(func.sum(column), 0), column.type).label(name)


def money_sum(column: ColumnElement[Decimal], label: str | None = None) -> Label[Decimal]:
    """``COALESCE(SUM(column), 0)`` of a ``Money`` column, read back as a ``Decimal`` amount (``0.00`` for none)."""
    if not isinstance(column.type, Money):
        raise TypeError(f"money_sum needs a Money column, not {column.type!r}")
    return exact_sum(column, label)
