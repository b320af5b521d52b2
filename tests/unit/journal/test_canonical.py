"""The one canonical serializer: exact bytes, Decimals with their scale, floats refused."""

from __future__ import annotations

import json
from decimal import Decimal
from enum import IntEnum, StrEnum

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openvcr.core.canonical import CanonicalError, canonical_bytes, canonical_bytes_of_parsed, parse, to_plain


def test_keys_are_sorted_and_there_is_no_whitespace() -> None:
    assert canonical_bytes({"b": 1, "a": [1, 2], "c": {"z": None, "y": True}}) == (
        b'{"a":[1,2],"b":1,"c":{"y":true,"z":null}}'
    )


def test_non_ascii_is_kept_as_utf8_and_specials_are_escaped() -> None:
    assert canonical_bytes({"name": "Արամ", "q": 'a"b\\c\n'}) == '{"name":"Արամ","q":"a\\"b\\\\c\\n"}'.encode()


def test_decimals_are_strings_that_keep_their_scale() -> None:
    assert canonical_bytes([Decimal("44000.00"), Decimal("1.500"), Decimal("0")]) == b'["44000.00","1.500","0"]'


def test_decimals_in_exponent_form_are_written_in_fixed_point() -> None:
    assert canonical_bytes([Decimal("4.4E+4"), Decimal("1E-7")]) == b'["44000","0.0000001"]'


def test_negative_zero_is_written_without_its_sign() -> None:
    assert canonical_bytes(Decimal("-0.00")) == b'"0.00"'


@pytest.mark.parametrize("value", [1.5, {"a": 0.1}, [1, 2.0]])
def test_floats_are_refused(value: object) -> None:
    with pytest.raises(CanonicalError, match="float"):
        canonical_bytes(value)


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")])
def test_non_finite_decimals_are_refused(value: Decimal) -> None:
    with pytest.raises(CanonicalError, match="finite"):
        canonical_bytes(value)


@pytest.mark.parametrize("value", [{1: "a"}, {("a",): 1}, b"bytes", {1, 2}, object()])
def test_values_without_canonical_form_are_refused(value: object) -> None:
    with pytest.raises(CanonicalError):
        canonical_bytes(value)


def test_integers_outside_64_bits_are_refused() -> None:
    with pytest.raises(CanonicalError, match="64-bit"):
        canonical_bytes(2**70)


def test_a_lone_surrogate_is_refused() -> None:
    with pytest.raises(CanonicalError):
        canonical_bytes("\ud800")


def test_enum_members_are_written_as_their_values() -> None:
    class Kind(StrEnum):
        SALE = "sale"

    class Level(IntEnum):
        TWO = 2

    assert canonical_bytes({"k": Kind.SALE, "l": Level.TWO, "b": False}) == b'{"b":false,"k":"sale","l":2}'


def test_tuples_are_arrays() -> None:
    assert canonical_bytes((1, "a")) == b'[1,"a"]'


def test_the_bytes_equal_the_standard_library_canonical_json() -> None:
    doc = {"z": [1, {"é": "Ա", "a": None}], "a": Decimal("1.50"), "m": "x\ty"}
    expected = json.dumps(to_plain(doc), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert canonical_bytes(doc) == expected.encode("utf-8")


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.text()
    | st.decimals(allow_nan=False, allow_infinity=False, places=2),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@given(json_values)
def test_parsing_canonical_bytes_and_serializing_again_gives_the_same_bytes(value: object) -> None:
    try:
        data = canonical_bytes(value)
    except CanonicalError:  # lone surrogates in generated text
        return
    assert canonical_bytes(parse(data)) == data
    assert canonical_bytes_of_parsed(parse(data)) == data
