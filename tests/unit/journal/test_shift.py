"""Shift totals (``core.shift``) and the verifier's report rule: a report states exactly what the entries of
its shift add up to, a Z closes the shift, and a wrong or malformed one is a ``ShiftTotalsError``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openvcr.core.canonical import canonical_bytes, parse, to_plain
from openvcr.core.errors import ShiftTotalsError
from openvcr.core.journal import (
    GENESIS_HASH,
    Counters,
    CountersDelta,
    JournalVerifier,
    RawEntry,
    entry_content,
    entry_hash,
)
from openvcr.core.shift import ShiftChecker, ShiftTally, report_body
from tests.unit.journal.test_verifier import KEY, SIGNER


def sale(total: str, regime: str = "vat", vat: str = "0", cash: str | None = None, receipt: int = 1) -> dict[str, Any]:
    return to_plain(
        {
            "total": Decimal(total),
            "vat": Decimal(vat),
            "cash": Decimal(cash or total),
            "nonCash": Decimal(0),
            "prepayment": Decimal(0),
            "compensation": Decimal(0),
            "change": Decimal(0),
            "items": [{"taxRegime": regime, "total": Decimal(total), "vat": Decimal(vat)}],
            "src": {"receiptId": receipt, "crn": "1", "fiscal": "F", "time": 1, "qr": "q"},
        }
    )  # type: ignore[no-any-return]


def test_an_empty_shift_is_all_zeros() -> None:
    totals = ShiftTally().totals()
    assert totals["entries"] == {"count": 0, "first": None, "last": None}
    assert totals["documents"]["sale"] == {"count": 0, "total": "0.00"}
    assert totals["taxRegimes"] == {}
    assert totals["netCash"] == "0.00"


def test_totals_per_kind_tender_and_regime() -> None:
    tally = ShiftTally()
    tally.add("sale", 1, 10, sale("1200", "vat", "200", receipt=7))
    tally.add("sale", 2, 11, sale("300", "vat_exempt", receipt=8))
    tally.add("x_report", 3, 12, {"anything": True})  # reports are not documents of the shift
    tally.add(
        "sale_refund",
        4,
        13,
        {"total": "600", "vat": "100", "cash": "600", "items": [{"amount": "600.00", "vat": "100.00"}]},
    )
    tally.add("prepayment", 5, 14, {"amount": "500.00", "cash": "0.00", "nonCash": "500.00"})
    totals = tally.totals()
    assert totals["documents"]["sale"] == {"count": 2, "total": "1500.00"}
    assert totals["documents"]["sale_refund"] == {"count": 1, "total": "600.00"}
    assert totals["taxRegimes"]["vat"] == {
        "sales": "1200.00",
        "salesVat": "200.00",
        "refunds": "0.00",
        "refundsVat": "0.00",
    }
    assert totals["taxRegimes"]["unspecified"]["refunds"] == "600.00"  # a refund journaled without a regime
    assert totals["vat"] == {"sales": "200.00", "refunds": "100.00"}
    assert totals["tenders"]["prepayment"] == {"cash": "0.00", "nonCash": "500.00"}
    assert totals["netCash"] == "900.00"  # 1500 − 600
    assert totals["entries"] == {"count": 4, "first": 1, "last": 5}
    assert totals["receipts"] == {"first": 7, "last": 8}
    assert totals["openedAt"] == 10
    assert totals == parse(canonical_bytes(totals))  # plain JSON: what is signed is what is compared


@given(st.lists(st.integers(min_value=0, max_value=10**9), max_size=20))
def test_the_sale_total_is_the_exact_sum(amounts: list[int]) -> None:
    tally = ShiftTally()
    for number, cents in enumerate(amounts, start=1):
        tally.add("sale", number, number, sale(str(Decimal(cents) / 100)))
    expected = sum((Decimal(c) / 100 for c in amounts), Decimal(0))
    assert Decimal(tally.totals()["documents"]["sale"]["total"]) == expected


def _journal(bodies: list[tuple[str, dict[str, Any]]]) -> list[RawEntry]:
    entries: list[RawEntry] = []
    counters = Counters()
    prev = GENESIS_HASH
    for number, (doc_type, body) in enumerate(bodies, start=1):
        counters = counters.apply(doc_type, CountersDelta())
        content = parse(
            canonical_bytes(
                entry_content(
                    register_id=1,
                    number=number,
                    doc_type=doc_type,
                    doc_ref=str(number),
                    body=body,
                    counters=counters,
                    prev_hash=prev,
                    time_ms=number,
                    key_id=SIGNER.key_id,
                )
            )
        )
        data = canonical_bytes(content)
        entries.append(RawEntry(content, data, entry_hash(data), SIGNER.sign(data)))
        prev = entry_hash(data)
    return entries


def _verify(entries: list[RawEntry]) -> None:
    verifier = JournalVerifier(1, KEY)
    for entry in entries:
        verifier.feed(entry)
    verifier.finish()


def _shift(*bodies: dict[str, Any]) -> ShiftTally:
    tally = ShiftTally()
    for number, body in enumerate(bodies, start=1):
        tally.add("sale", number, number, body)
    return tally


def test_the_verifier_accepts_reports_that_add_up_and_follows_the_shifts() -> None:
    first, second = sale("100"), sale("250")
    z1 = report_body(1, "z", 1, _shift(first))
    x2 = report_body(2, "x", 2, ShiftTally())
    tally = ShiftTally()
    tally.add("sale", 4, 4, second)
    z2 = report_body(3, "z", 2, tally)
    _verify(
        _journal([("sale", first), ("z_report", z1), ("x_report", x2), ("sale", second), ("z_report", to_plain(z2))])
    )


@pytest.mark.parametrize(
    ("name", "report"),
    [
        ("totals of another shift", lambda t: report_body(1, "z", 1, _shift(sale("999")))),
        ("wrong shift number", lambda t: report_body(1, "z", 2, t)),
        ("type that is not its kind", lambda t: report_body(1, "x", 1, t)),
    ],
)
def test_a_report_that_does_not_add_up_is_a_shift_totals_error(name: str, report: Any) -> None:
    body = sale("100")
    entries = _journal([("sale", body), ("z_report", report(_shift(body)))])
    with pytest.raises(ShiftTotalsError) as caught:
        _verify(entries)
    assert caught.value.number == 2


def test_a_malformed_amount_fails_the_report_of_its_shift_only() -> None:
    bad = {**sale("100"), "total": 1.5}
    checker = ShiftChecker()
    assert checker.feed("sale", 1, 1, {**sale("100"), "cash": "abc"}) is None
    assert checker.feed("sale", 2, 2, bad) is None  # adding never raises
    problem = checker.feed("z_report", 3, 3, report_body(1, "z", 1, checker.tally))
    assert problem is not None and "malformed" in problem
    clean = sale("5")
    assert checker.feed("sale", 4, 4, clean) is None
    expected = ShiftTally()
    expected.add("sale", 4, 4, clean)
    assert checker.feed("z_report", 5, 5, report_body(2, "z", 2, expected)) is None


def test_without_shift_totals_a_report_entry_is_refused_and_other_entries_pass() -> None:
    body = sale("100")
    plain = _journal([("sale", body), ("sale", body)])
    verifier = JournalVerifier(1, KEY, shifts=False)
    for entry in plain:
        verifier.feed(entry)
    assert verifier.finish().entries == 2
    with_report = _journal([("sale", body), ("z_report", report_body(1, "z", 1, _shift(body)))])
    verifier = JournalVerifier(1, KEY, shifts=False)
    verifier.feed(with_report[0])
    with pytest.raises(ShiftTotalsError, match="counts no report"):
        verifier.feed(with_report[1])
