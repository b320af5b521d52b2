"""Counters only grow; training and pro-forma documents never move money counters."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openvcr.core.errors import InvalidDeltaError, MalformedEntryError
from openvcr.core.journal import DOC_TYPES, MONEY_FIELDS, Counters, CountersDelta

amounts = st.decimals(min_value=0, max_value=Decimal("99999999.99"), places=2)
deltas = st.builds(
    CountersDelta,
    sales=amounts,
    sale_refunds=amounts,
    prepayments=amounts,
    prepayment_refunds=amounts,
    vat=amounts,
    vat_refunds=amounts,
) | st.just(CountersDelta.non_fiscal())
steps = st.lists(st.tuples(st.sampled_from(sorted(DOC_TYPES)), deltas), max_size=30)


@given(steps)
def test_counters_only_grow(history: list[tuple[str, CountersDelta]]) -> None:
    counters = Counters()
    for doc_type, delta in history:
        after = counters.apply(doc_type, delta)
        assert all(b >= a for a, b in zip(counters.money(), after.money(), strict=True))
        assert after.documents == counters.documents + 1
        assert after.by_type[doc_type] == counters.by_type.get(doc_type, 0) + 1
        assert after.non_fiscal >= counters.non_fiscal
        counters = after
    assert counters.documents == len(history) == sum(counters.by_type.values())


@given(steps)
def test_money_counters_are_the_sums_of_the_money_moving_documents(history: list[tuple[str, CountersDelta]]) -> None:
    counters = Counters()
    for doc_type, delta in history:
        counters = counters.apply(doc_type, delta)
    moving = [d for _, d in history if d.moves_money]
    assert counters.sales_total == sum((d.sales for d in moving), Decimal("0.00"))
    assert counters.vat_refunds_total == sum((d.vat_refunds for d in moving), Decimal("0.00"))
    assert counters.non_fiscal == len(history) - len(moving)


@given(steps)
def test_counters_survive_their_json_form(history: list[tuple[str, CountersDelta]]) -> None:
    counters = Counters()
    for doc_type, delta in history:
        counters = counters.apply(doc_type, delta)
    assert Counters.from_json(counters.to_json()) == counters


def test_a_training_document_is_counted_but_moves_no_money() -> None:
    before = Counters().apply("sale", CountersDelta.sale(Decimal("100.00")))
    after = before.apply("vsdc_invoice", CountersDelta.non_fiscal())
    assert after.money() == before.money()
    assert after.non_fiscal == 1
    assert after.documents == 2


def test_a_training_document_with_an_amount_is_refused() -> None:
    with pytest.raises(InvalidDeltaError, match="training"):
        CountersDelta(sales=Decimal("1.00"), moves_money=False)


@pytest.mark.parametrize("field", ["sales", "sale_refunds", "prepayments", "prepayment_refunds", "vat", "vat_refunds"])
def test_a_negative_amount_is_refused(field: str) -> None:
    with pytest.raises(InvalidDeltaError, match="negative"):
        CountersDelta(**{field: Decimal("-0.01")})  # type: ignore[arg-type]


def test_a_float_amount_is_refused() -> None:
    with pytest.raises(InvalidDeltaError, match="float"):
        CountersDelta(sales=1.5)  # type: ignore[arg-type]


def test_an_amount_with_three_decimals_is_refused() -> None:
    with pytest.raises(InvalidDeltaError, match="2 decimals"):
        CountersDelta(sales=Decimal("1.005"))


def test_an_unknown_document_type_is_refused() -> None:
    with pytest.raises(InvalidDeltaError, match="unknown document type"):
        Counters().apply("invoice", CountersDelta())


def test_refunds_move_only_refund_counters() -> None:
    after = Counters().apply("sale_refund", CountersDelta.sale_refund(Decimal("22000.00"), Decimal("3666.67")))
    assert after.sale_refunds_total == Decimal("22000.00")
    assert after.vat_refunds_total == Decimal("3666.67")
    assert after.sales_total == after.vat_total == Decimal("0.00")


def test_money_counters_are_written_with_two_decimals() -> None:
    data = Counters().apply("prepayment", CountersDelta.prepayment(Decimal("5"))).to_json()
    assert data["prepayments_total"] == "5.00"
    assert set(MONEY_FIELDS) <= set(data)


@pytest.mark.parametrize(
    "broken",
    [
        {"documents": 1},
        {"documents": "1", "by_type": {}, "non_fiscal": 0, **dict.fromkeys(MONEY_FIELDS, "0.00")},
        {"documents": 1, "by_type": {}, "non_fiscal": 0, **dict.fromkeys(MONEY_FIELDS, "x")},
        {"documents": 1, "by_type": {}, "non_fiscal": 0, **dict.fromkeys(MONEY_FIELDS, 0.5)},
        {"documents": 1, "by_type": {"sale": "1"}, "non_fiscal": 0, **dict.fromkeys(MONEY_FIELDS, "0.00")},
    ],
)
def test_malformed_counters_are_refused(broken: dict[str, object]) -> None:
    with pytest.raises(MalformedEntryError):
        Counters.from_json(broken)


@pytest.mark.parametrize("value", ["Infinity", "NaN", "-Infinity", "1E+2", "5.5", "5.555", "-1.00", "05.00", 5])
def test_a_money_counter_is_an_amount_written_with_two_decimals(value: object) -> None:
    data = Counters().to_json()
    data["sales_total"] = value
    with pytest.raises(MalformedEntryError):
        Counters.from_json(data)


@given(st.decimals(min_value=0, max_value=Decimal("9999999999999999.99"), places=2))
def test_counters_as_written_parse_back_equal(amount: Decimal) -> None:
    counters = Counters().apply("sale", CountersDelta.sale(amount))
    assert Counters.from_json(counters.to_json()) == counters
