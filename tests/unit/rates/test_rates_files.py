"""Parsing of CBA rates files (XML answers of the CBA web service, CSV) and hand-typed rates."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from openvcr.sales.rates import RateRow, RatesFileError, manual_rate, parse_rates_csv, parse_rates_file

DATA = Path(__file__).parents[2] / "data"


def test_soap_answer_of_exchange_rates_by_date_gives_every_known_currency_on_its_publication_date() -> None:
    result = parse_rates_file((DATA / "cba_exchange_rates_by_date.xml").read_bytes())
    by_code = {row.currency: row for row in result.rows}
    assert set(by_code) == {"USD", "EUR", "JPY", "RUB"}
    assert by_code["USD"] == RateRow("USD", date(2026, 11, 20), 1, Decimal("387.5000"))
    assert by_code["JPY"].amount == 100 and by_code["JPY"].rate == Decimal("251.07")
    assert by_code["RUB"].rate == Decimal("4.8812")
    assert result.skipped == ("XDR",)


def test_bare_exchange_rates_latest_answer_is_read_too() -> None:
    result = parse_rates_file((DATA / "cba_exchange_rates_latest.xml").read_bytes())
    assert [(r.currency, r.rate_date, r.rate) for r in result.rows] == [
        ("USD", date(2026, 11, 23), Decimal("388.1")),
        ("GBP", date(2026, 11, 23), Decimal("491.22")),
    ]


def test_csv_with_lower_case_codes_and_a_default_amount() -> None:
    result = parse_rates_file((DATA / "cba_rates.csv").read_bytes())
    assert len(result.rows) == 4
    assert result.rows[-1] == RateRow("USD", date(2026, 11, 20), 1, Decimal("387.50"))
    assert result.rows[2].amount == 100


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("day,currency,amount,rate\n2026-11-20,USD,1,387.5\n", "line 1: the header"),
        ("date,currency,amount,rate\n2026-13-20,USD,1,387.5\n", "line 2: '2026-13-20' is not a date"),
        ("date,currency,amount,rate\n2026-11-20,USD,1,-3\n", "line 2: a rate must be greater than 0"),
        ("date,currency,amount,rate\n2026-11-20,USD,1,387.12345\n", "line 2: a rate has at most 4 decimals"),
        ("date,currency,amount,rate\n2026-11-20,USD,1.5,387\n", "line 2: the amount of units"),
        ("date,currency,amount,rate\n2026-11-20,AMD,1,1\n", "line 2: 'AMD' is not a foreign currency"),
        ("date,currency,amount,rate\n2026-11-20,USD,1\n", "line 2: expected 4 fields"),
        ("date,currency,amount,rate\n2026-11-20,USD,1,abc\n", "line 2: 'abc' is not a number"),
        ("date,currency,amount,rate\n", "the file lists no rates"),
    ],
)
def test_a_malformed_csv_is_refused_naming_the_line(text: str, message: str) -> None:
    with pytest.raises(RatesFileError) as caught:
        parse_rates_csv(text)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        (b"<ExchangeRates><Rates/></ExchangeRates>", "no CurrentDate"),
        (b"<ExchangeRates><CurrentDate>2026-11-20T00:00:00</CurrentDate><Rates/></ExchangeRates>", "no ExchangeRate"),
        (
            b"<r><CurrentDate>2026-11-20</CurrentDate><ExchangeRate><ISO>USD</ISO><Rate>0</Rate></ExchangeRate></r>",
            "ExchangeRate #1: a rate must be greater than 0",
        ),
        (b"<r><CurrentDate>2026-11-20", "not well-formed XML"),
    ],
)
def test_a_malformed_cba_answer_is_refused(xml: bytes, message: str) -> None:
    with pytest.raises(RatesFileError) as caught:
        parse_rates_file(xml)
    assert message in str(caught.value)


def test_xml_entities_that_expand_are_refused() -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><r><CurrentDate>&a;</CurrentDate></r>'
    with pytest.raises(RatesFileError):
        parse_rates_file(bomb)


def test_hand_typed_rate_is_checked_like_a_file() -> None:
    assert manual_rate("usd", "387.50", "2026-11-20") == RateRow("USD", date(2026, 11, 20), 1, Decimal("387.50"))
    assert manual_rate("JPY", "251.07", "2026-11-20", "100").amount == 100
    for currency, rate, day, message in [
        ("AMD", "1", "2026-11-20", "local currency"),
        ("ABC", "1", "2026-11-20", "not a currency"),
        ("USD", "0", "2026-11-20", "greater than 0"),
        ("USD", "387.5", "20.11.2026", "not a date"),
    ]:
        with pytest.raises(RatesFileError) as caught:
            manual_rate(currency, rate, day)
        assert message in str(caught.value)
