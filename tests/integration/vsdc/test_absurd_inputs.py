"""The V-SDC refuses absurd numbers, control characters and undecodable text with its 400 body, on SQLite and
PostgreSQL alike (PostgreSQL cannot store a NUL), and counts nothing."""

from __future__ import annotations

import json
from typing import Any

from tests.integration.vsdc.conftest import Vsdc
from tests.integration.vsdc.test_fiscalize import counts, fiscalize, rejected
from tests.unit.vsdc.seed import seed_json

LINE = {"ean": "1234567890180", "name": "Test", "discount": 0, "code": "A"}
ZERO_SLOTS = {"mb": 0, "mt": 0, "lb": 0, "lt": 0, "zb": 0, "zt": 0}

ABSURD: dict[str, tuple[bytes, str]] = {
    "a taxable amount of 10^20": (seed_json(hb=10**20, lines=None), "hb must be at most 9999999999999.99"),
    "1e400": (seed_json(lines=None).replace(b'"hb": 1000', b'"hb": 1e400'), "hb must be at most"),
    "NaN": (seed_json(lines=None).replace(b'"hb": 1000', b'"hb": NaN'), "The request body is not valid JSON"),
    "a quantity of 10^12": (
        seed_json(hb=1000, **ZERO_SLOTS, lines=[{**LINE, "quantity": 10**12, "base": 0.001, "total": 1000}]),
        "line 1 quantity must be at most",
    ),
    "NUL in ino": (seed_json(ino="x\x00y"), "ino holds a control character"),
    "NUL in the journal": (seed_json(journal="V-SDC $$date$$\x00"), "journal holds a control character"),
    "an escape in a line name": (
        seed_json(
            hb=1000, **ZERO_SLOTS, lines=[{**LINE, "name": "\x1b[2J", "quantity": 1, "base": 1000, "total": 1000}]
        ),
        "holds a control character",
    ),
    "a lone surrogate": (seed_json(place="x").replace(b'"place": "x"', b'"place": "\\udc00"'), "not valid JSON"),
    "UTF-16": (seed_json().decode().encode("utf-16"), "not valid JSON"),
}


def test_an_absurd_invoice_is_refused_and_counts_nothing(vsdc: Vsdc) -> None:
    before = counts(vsdc)
    for case, (body, message) in ABSURD.items():
        answer: dict[str, Any] = rejected(vsdc, body)
        assert answer["success"] is False, case
        assert any(message in error for error in [answer["message"], *answer["errors"]]), (case, answer)
    assert counts(vsdc) == before


def test_tabs_and_line_breaks_stay_journal_text(vsdc: Vsdc) -> None:
    body = json.loads(seed_json())
    body["journal"] = "V-SDC\t$$date$$\r\n$$nev$$ $$numberRecu$$\n$$idata$$ $$signature$$"
    assert fiscalize(vsdc, json.dumps(body).encode())["success"] is True
