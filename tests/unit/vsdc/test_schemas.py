"""Parsing and validation of V-SDC requests (pure)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from openvcr.vsdc.errors import VsdcRejected
from openvcr.vsdc.schemas import (
    arithmetic_problems,
    first_rate_mismatch,
    parse_body,
    render,
    request_digest,
    response_kind,
    validate,
)
from tests.unit.vsdc.seed import seed_json, seed_xml

RATES = {"h": Decimal("0"), "m": Decimal("18"), "l": Decimal("16"), "z": Decimal("32")}


def test_the_seed_request_is_valid_in_json_and_xml_and_both_are_the_same_invoice() -> None:
    from_json = validate(parse_body(seed_json(), "json"))
    from_xml = validate(parse_body(seed_xml(), "xml"))
    assert from_json == from_xml
    assert request_digest(from_json) == request_digest(from_xml)
    assert first_rate_mismatch(from_json, RATES) is None
    assert arithmetic_problems(from_json, RATES) == []
    assert from_json.bases == {"h": 1000, "m": 2000, "l": 3000, "z": 4000}


def test_json_numbers_are_decimals_never_floats() -> None:
    fields = parse_body(seed_json(), "json")
    assert isinstance(fields["lines"][0]["quantity"], Decimal)


def test_unknown_and_null_keys_are_ignored() -> None:
    body = json.loads(seed_json())
    body.update(source="pos", clientMcr=None, signature=None, encryptedCounters="x", bid=None)
    body["lines"][0]["currentHash"] = "abc"
    invoice = validate(parse_body(json.dumps(body).encode(), "json"))
    assert invoice.bid is None
    assert invoice == validate(parse_body(seed_json(bid=None), "json"))


def _problems(body: bytes, kind: str = "json") -> dict[str, object]:
    with pytest.raises(VsdcRejected) as caught:
        validate(parse_body(body, kind))
    return caught.value.body


def test_a_missing_journal_is_named() -> None:
    body = _problems(seed_json(journal=None))
    assert body == {"success": False, "status": None, "message": "Journal is missing", "errors": ["Journal is missing"]}


def test_every_problem_is_listed_and_the_first_is_the_message() -> None:
    body = _problems(seed_json(date="2014-12-31T21:07:36Z", itype="Gift", ttype=None))
    assert body["message"] == "date must be formatted yyyy-MM-dd HH:mm:ss Z, e.g. 2014-12-31 21:07:36 -0400"
    assert body["errors"] == [
        "date must be formatted yyyy-MM-dd HH:mm:ss Z, e.g. 2014-12-31 21:07:36 -0400",
        "itype must be one of Normal, Pro Forma, Training",
        "Ttype is missing",
    ]


def test_seed_size_limits_are_enforced() -> None:
    body = _problems(seed_json(ino="1234567890123456", place="p" * 16))
    assert body["errors"] == ["ino is longer than 15 characters", "place is longer than 15 characters"]


def test_amounts_with_too_many_decimals_or_negative_are_refused() -> None:
    body = _problems(seed_json(hb="1000.001", mb=-1))
    assert body["errors"] == ["hb has more than 2 decimals", "mb must be at least 0"]


def test_proforma_spelling_is_accepted() -> None:
    assert validate(parse_body(seed_json(itype="Proforma"), "json")).pair == "PS"
    assert validate(parse_body(seed_json(itype="Pro Forma", ttype="Refund"), "json")).pair == "PR"


def test_rate_mismatch_names_the_first_slot_with_six_decimals() -> None:
    invoice = validate(parse_body(seed_json(hr=25, zr=30), "json"))
    rejected = first_rate_mismatch(invoice, RATES)
    assert rejected is not None
    assert rejected.body == {
        "success": False,
        "status": None,
        "message": "Tax Rate expected <0.000000> but was <25.000000>",
        "errors": [],
    }


def test_taxes_and_lines_must_add_up() -> None:
    invoice = validate(parse_body(seed_json(mt=361), "json"))
    assert arithmetic_problems(invoice, RATES) == ["mt expected <360.00> but was <361>"]
    lines = json.loads(seed_json())["lines"]
    lines[1]["base"] = 1999
    invoice = validate(parse_body(seed_json(lines=lines), "json"))
    assert arithmetic_problems(invoice, RATES) == [
        "line 2 total expected <2358.82> but was <2360.0>",
        "lines of code B sum to <1999.00> but mb is <2000>",
    ]


def test_xml_with_a_dtd_or_entities_is_refused() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE invoice [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        b"<invoice><tin>&b;</tin></invoice>"
    )
    assert _problems(bomb, "xml")["message"] == "The request body is not acceptable XML"
    external = b'<?xml version="1.0"?><!DOCTYPE x SYSTEM "file:///etc/passwd"><invoice/>'
    assert _problems(external, "xml")["message"] == "The request body is not acceptable XML"


def test_bodies_above_the_size_limit_are_refused_before_parsing() -> None:
    assert _problems(b" " * (1024 * 1024 + 1))["message"] == "The request body is larger than 1048576 bytes"


def test_the_answer_uses_the_request_format_unless_accept_asks_for_the_other() -> None:
    assert response_kind("json", None) == "json"
    assert response_kind("xml", "*/*") == "xml"
    assert response_kind("xml", "application/json") == "json"
    assert response_kind("json", "application/xml, text/xml;q=0.9") == "xml"
    assert response_kind("json", "application/json, application/xml") == "json"


def test_xml_responses_have_one_element_per_field_and_leave_nulls_out() -> None:
    content, media_type = render({"success": False, "status": None, "message": "m", "errors": ["a", "b"]}, "xml")
    assert media_type.startswith("application/xml")
    assert content.endswith(
        b"<response><success>false</success><message>m</message><errors><error>a</error><error>b</error></errors>"
        b"</response>"
    )
