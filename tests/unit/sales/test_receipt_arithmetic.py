"""The SRC receipt arithmetic: the manual's examples, every rule, and properties (hypothesis)."""

from __future__ import annotations

from decimal import Decimal as D  # noqa: N817

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from openvcr.core.receipt import (
    AdditionalDiscount,
    ArithmeticRuleError,
    BaseDiscount,
    Line,
    Tenders,
    line_refund,
    line_total,
    settle,
    split_refund,
    vat_of,
)

money = st.decimals(min_value=D("0.01"), max_value=D("1000000"), places=2)
qty = st.decimals(min_value=D("0.001"), max_value=D("1000"), places=3)


def test_manual_example_two_organs_with_ten_percent_then_1000_off_is_44000() -> None:
    line = Line(D("2"), D("25000"), BaseDiscount.PERCENT, D("10"), AdditionalDiscount.TOTAL, D("1000"))
    assert line_total(line) == D("44000.00")


def test_manual_vat_of_44000_leaves_36665_20_without_taxes() -> None:
    vat = vat_of(D("44000.00"), "vat")
    assert D("44000.00") - vat == D("36665.20")
    assert vat_of(D("44000.00"), "turnover_tax") == 0


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (Line(D("3"), D("100"), BaseDiscount.PRICE, D("10")), D("270.00")),
        (Line(D("3"), D("100"), BaseDiscount.TOTAL, D("10")), D("290.00")),
        (Line(D("1"), D("100"), None, None, AdditionalDiscount.PERCENT, D("12.5")), D("87.50")),
        (Line(D("0.101"), D("999.99")), D("101.00")),
        (Line(D("1.5"), D("1000")), D("1500.00")),
        (Line(D("1"), D("0.05"), BaseDiscount.PERCENT, D("10")), D("0.05")),  # 0.045 rounds half-up
        (Line(D("1"), D("0.04"), BaseDiscount.PERCENT, D("10")), D("0.04")),  # 0.036 → 0.04
    ],
)
def test_discount_formulas_round_half_up_at_each_step(line: Line, expected: D) -> None:
    assert line_total(line) == expected


@pytest.mark.parametrize(
    ("line", "field"),
    [
        (Line(D("1"), D("100"), BaseDiscount.PERCENT, D("100")), "discounts.base.value"),
        (Line(D("1"), D("100"), BaseDiscount.PRICE, D("100")), "discounts.base.value"),
        (Line(D("1"), D("100"), BaseDiscount.TOTAL, D("100")), "discounts"),
        (Line(D("1"), D("100"), None, None, AdditionalDiscount.PERCENT, D("-1")), "discounts.additional.value"),
        (Line(D("0"), D("100")), "quantity"),
        (Line(D("1"), D("0")), "price"),
    ],
)
def test_impossible_lines_are_rejected_naming_the_field(line: Line, field: str) -> None:
    with pytest.raises(ArithmeticRuleError) as caught:
        line_total(line)
    assert caught.value.field == field


def test_payment_rules() -> None:
    assert settle(D("45500"), Tenders(cash=D("6000"), non_cash=D("40000"))) == D("500")
    with pytest.raises(ArithmeticRuleError, match="less than"):
        settle(D("100"), Tenders(cash=D("99.99")))
    with pytest.raises(ArithmeticRuleError, match="exceeds"):
        settle(D("100"), Tenders(non_cash=D("100.01")))
    with pytest.raises(ArithmeticRuleError, match="redundant"):
        settle(D("100"), Tenders(cash=D("1"), non_cash=D("100")))
    with pytest.raises(ArithmeticRuleError, match="change"):
        settle(D("100"), Tenders(non_cash=D("60"), prepayment=D("50")))


def test_tiny_lines_refunded_in_pieces_never_go_negative() -> None:
    # 0.03 over 6 units: rounding each piece on its own would give 0.01 + 0.01 + 0.02 = 0.04 > 0.03
    pieces, refunded_qty, refunded = [], D(0), D(0)
    for step in (D(1), D(1), D(3), D(1)):
        amount = line_refund(D("0.03"), D(6), refunded_qty, refunded, step)
        pieces.append(amount)
        refunded_qty += step
        refunded += amount
    assert pieces == [D("0.01"), D("0.00"), D("0.02"), D("0.00")]
    assert refunded == D("0.03")


def test_last_units_of_a_line_take_exactly_what_is_left() -> None:
    first = line_refund(D("100.00"), D("3"), D("0"), D("0"), D("1"))
    second = line_refund(D("100.00"), D("3"), D("1"), first, D("1"))
    third = line_refund(D("100.00"), D("3"), D("2"), first + second, D("1"))
    # cumulative shares: round(33.333) = 33.33, round(66.667) − 33.33 = 33.34, the rest 33.33
    assert (first, second, third) == (D("33.33"), D("33.34"), D("33.33"))
    with pytest.raises(ArithmeticRuleError):
        line_refund(D("100.00"), D("3"), D("3"), D("100.00"), D("1"))


@given(line=st.builds(Line, qty, money))
def test_line_total_without_discount_is_price_times_quantity_rounded(line: Line) -> None:
    assume(line.price * line.quantity >= D("0.005"))
    total = line_total(line)
    assert total == (line.price * line.quantity).quantize(D("0.01"), rounding="ROUND_HALF_UP")
    assert total.as_tuple().exponent == -2


@given(price=money, quantity=qty, percent=st.decimals(min_value=0, max_value=D("99.99"), places=2))
def test_a_discount_never_raises_the_amount(price: D, quantity: D, percent: D) -> None:
    assume(price * quantity >= D("0.005"))
    plain = line_total(Line(quantity, price))
    try:
        discounted = line_total(Line(quantity, price, BaseDiscount.PERCENT, percent))
    except ArithmeticRuleError:
        return  # discounted to nothing
    assert D("0") < discounted <= plain


@given(total=money, quantity=st.integers(min_value=1, max_value=20), data=st.data())
def test_refunding_a_line_piece_by_piece_sums_to_its_total(total: D, quantity: int, data: st.DataObject) -> None:
    refunded_qty, refunded = D(0), D(0)
    while refunded_qty < quantity:
        step = D(data.draw(st.integers(min_value=1, max_value=int(quantity - refunded_qty))))
        amount = line_refund(total, D(quantity), refunded_qty, refunded, step)
        assert D(0) <= amount <= total - refunded
        refunded_qty += step
        refunded += amount
    assert refunded == total


@given(
    cash=money, non_cash=money, prepayment=money, parts=st.lists(st.integers(min_value=1, max_value=100), min_size=1)
)
@example(cash=D("0.01"), non_cash=D("0.02"), prepayment=D("0.02"), parts=[1, 1, 1, 1, 1])  # excess past non-cash
def test_refund_splits_never_exceed_a_tender_and_end_exactly_as_paid(
    cash: D, non_cash: D, prepayment: D, parts: list[int]
) -> None:
    paid = Tenders(cash=cash, non_cash=non_cash, prepayment=prepayment)
    total = paid.total
    weights = sum(parts)
    refunded = Tenders()
    given_so_far = D(0)
    for index, part in enumerate(parts):
        final = index == len(parts) - 1
        amount = total - given_so_far if final else (total * part / weights).quantize(D("0.01"), rounding="ROUND_DOWN")
        split = split_refund(amount, paid, refunded, total, final)
        assert split.total == amount
        refunded = refunded.plus(split)
        given_so_far += amount
        for tender in ("cash", "non_cash", "prepayment"):
            assert D(0) <= getattr(refunded, tender) <= getattr(paid, tender)
    assert refunded == paid
