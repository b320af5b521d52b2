"""The SRC wire's JSON: exact numbers, compact UTF-8, keys in order."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from openvcr.authority import wire


def test_amounts_are_exact_json_numbers_with_their_fixed_decimals() -> None:
    body = {
        "cashAmount": wire.Money(Decimal("1000.005")),
        "quantity": wire.Quantity(Decimal("2")),
        "plain": Decimal("12345678901234567.89"),
        "seq": 7,
        "items": None,
        "flag": True,
    }
    text = wire.dumps(body)
    assert text == (
        '{"cashAmount":1000.01,"quantity":2.000,"plain":12345678901234567.89,"seq":7,"items":null,"flag":true}'
    )
    parsed = wire.loads(text)
    assert parsed["plain"] == Decimal("12345678901234567.89")  # no float on the way back either


def test_text_is_compact_utf8_with_json_escapes_and_keys_in_order() -> None:
    body = {"z": "Սուրճ ☕", "a": 'quote " backslash \\ newline \n control \u0001', "list": [(1, 2), []]}
    text = wire.dumps(body)
    assert text.startswith('{"z":"Սուրճ ☕","a":')
    assert json.loads(text) == {"z": "Սուրճ ☕", "a": body["a"], "list": [[1, 2], []]}
    assert "\\u0001" in text and "\\n" in text


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("Infinity"), object()])
def test_what_has_no_exact_json_number_is_refused(value: object) -> None:
    with pytest.raises(TypeError):
        wire.dumps({"amount": value})
