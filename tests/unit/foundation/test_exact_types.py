"""The exact column types (``openvcr.store.types``): integers of the smallest unit, Decimal in Python, nothing
rounded silently."""

from __future__ import annotations

from decimal import Decimal as D  # noqa: N817
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import BigInteger, Column, Integer, MetaData, Table, func
from sqlalchemy.dialects import postgresql, sqlite

from openvcr.store.types import BIGINT_MAX, Money, Quantity, Scaled, exact_sum, from_units, money_sum, to_units

SQLITE = sqlite.dialect()

table = Table(
    "t",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("amount", Money()),
    Column("qty", Quantity()),
    Column("plain", BigInteger),
)


def test_money_is_stored_as_luma_and_read_back_with_two_decimals() -> None:
    assert Money().process_bind_param(D("9999999999999999.99"), SQLITE) == 999_999_999_999_999_999
    assert Money().process_bind_param(D("0.01"), SQLITE) == 1
    assert Money().process_bind_param(D("-0.01"), SQLITE) == -1
    assert Money().process_bind_param(D("1.5"), SQLITE) == 150
    assert Money().process_bind_param(7, SQLITE) == 700
    result = Money().process_result_value(150, SQLITE)
    assert result == D("1.5") and str(result) == "1.50"
    assert str(Money().process_result_value(0, SQLITE)) == "0.00"
    assert str(Money().process_result_value(-1, SQLITE)) == "-0.01"


def test_quantity_is_stored_as_thousandths_and_read_back_with_three_decimals() -> None:
    assert Quantity().process_bind_param(D("1.5"), SQLITE) == 1500
    assert str(Quantity().process_result_value(2000, SQLITE)) == "2.000"


def test_scaled_keeps_its_own_number_of_decimals() -> None:
    rate = Scaled(6)
    assert rate.process_bind_param(D("2.5107"), SQLITE) == 2_510_700
    assert str(rate.process_result_value(2_510_700, SQLITE)) == "2.510700"


def test_a_float_is_refused() -> None:
    with pytest.raises(TypeError, match="float"):
        Money().process_bind_param(1.5, SQLITE)
    with pytest.raises(TypeError):
        Quantity().process_bind_param(0.1, SQLITE)


@pytest.mark.parametrize("value", [True, "1.50", b"1", object()])
def test_a_value_that_is_not_decimal_or_int_is_refused(value: Any) -> None:
    with pytest.raises(TypeError):
        Money().process_bind_param(value, SQLITE)


def test_more_decimals_than_the_column_holds_are_refused_not_rounded() -> None:
    with pytest.raises(ValueError, match="more than 2 decimals"):
        Money().process_bind_param(D("0.001"), SQLITE)
    with pytest.raises(ValueError, match="more than 3 decimals"):
        Quantity().process_bind_param(D("1.0005"), SQLITE)
    # beyond the Decimal context's 28 digits, where scaleb()/quantize() would round
    with pytest.raises(ValueError, match="more than 2 decimals"):
        Money().process_bind_param(D("1.0000000000000000000000000001"), SQLITE)


def test_trailing_zeros_beyond_the_scale_are_exact_and_accepted() -> None:
    assert Money().process_bind_param(D("1.50000"), SQLITE) == 150
    assert Money().process_bind_param(D("1E+3"), SQLITE) == 100_000


@pytest.mark.parametrize("value", [D("NaN"), D("Infinity"), D("-Infinity")])
def test_a_non_finite_value_is_refused(value: D) -> None:
    with pytest.raises(ValueError, match="not a finite number"):
        Money().process_bind_param(value, SQLITE)


def test_a_value_beyond_bigint_is_refused() -> None:
    assert Money().process_bind_param(D(BIGINT_MAX).scaleb(-2), SQLITE) == BIGINT_MAX
    with pytest.raises(ValueError, match="does not fit"):
        Money().process_bind_param(D(BIGINT_MAX + 1).scaleb(-2), SQLITE)


def test_none_passes_through() -> None:
    assert Money().process_bind_param(None, SQLITE) is None
    assert Money().process_result_value(None, SQLITE) is None


def test_a_postgresql_sum_as_an_integral_numeric_reads_back_as_money() -> None:
    assert str(Money().process_result_value(D("12345"), SQLITE)) == "123.45"
    with pytest.raises(ValueError, match="holds integers"):
        Money().process_result_value(D("1.5"), SQLITE)
    with pytest.raises(TypeError):
        Money().process_result_value(1.5, SQLITE)


@given(st.decimals(min_value=D("-9999999999999999.99"), max_value=D("9999999999999999.99"), places=2))
def test_money_round_trips_through_its_integer(value: D) -> None:
    assert from_units(to_units(value, 2), 2) == value


@given(st.integers(min_value=-BIGINT_MAX, max_value=BIGINT_MAX), st.integers(min_value=0, max_value=8))
def test_every_bigint_is_a_value(units: int, places: int) -> None:
    assert to_units(from_units(units, places), places) == units


def test_the_column_type_is_bigint_on_both_backends() -> None:
    assert Money().load_dialect_impl(SQLITE).compile(dialect=SQLITE) == "BIGINT"
    pg = postgresql.dialect()
    assert Quantity().load_dialect_impl(pg).compile(dialect=pg) == "BIGINT"


def test_adding_a_python_amount_in_sql_scales_it_like_the_column() -> None:
    for expression in (table.c.amount + D("1.25"), table.c.amount - D("1.25"), table.c.amount > D("1.25")):
        (bind,) = set(expression.compile(dialect=SQLITE).binds.values())
        assert isinstance(bind.type, Money)
        assert bind.type.process_bind_param(bind.value, SQLITE) == 125


def test_multiplying_an_exact_column_by_a_python_value_is_refused() -> None:
    with pytest.raises(TypeError, match="scale"):
        _ = table.c.amount * 2
    with pytest.raises(TypeError):
        _ = table.c.qty / D("3")


def test_money_sum_is_typed_as_money_and_refuses_other_columns() -> None:
    assert isinstance(money_sum(table.c.amount).type, Money)
    assert money_sum(table.c.amount).name == "sum_amount"
    assert money_sum(table.c.amount, "paid").name == "paid"
    assert isinstance(exact_sum(table.c.qty).type, Quantity)
    with pytest.raises(TypeError):
        money_sum(table.c.qty)
    with pytest.raises(TypeError):
        exact_sum(table.c.plain)
    with pytest.raises(TypeError):
        money_sum(func.count())


def test_the_types_are_cacheable_and_equal_by_scale() -> None:
    assert Money().cache_ok and Quantity().cache_ok and Scaled(4).cache_ok
    assert repr(Money()) == "Money()" and repr(Scaled(4)) == "Scaled(4)"
    with pytest.raises(ValueError, match="negative"):
        Scaled(-1)
