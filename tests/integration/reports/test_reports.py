"""X and Z reports through the real app on SQLite and PostgreSQL: totals equal what the API sold, X does not
close the shift, Z does, one Z per Idempotency-Key under a race, and ``verify`` checks a Z's totals."""

from __future__ import annotations

import base64
import threading
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, update

from openvcr.core.errors import ContentAlteredError, ShiftTotalsError
from openvcr.core.journal import CountersDelta
from openvcr.core.shift import ShiftTally, report_body
from openvcr.registers import journal
from openvcr.registers.export import verify_database
from openvcr.registers.signing_keys import signer_for
from openvcr.store.schema.journal import journal_entries, journal_heads
from openvcr.store.schema.reports import shift_reports
from openvcr.store.schema.sales import sales
from tests.integration.foundation.conftest import Api
from tests.integration.reports.helpers import (
    counts,
    money,
    ok,
    prepay_ok,
    refund_prepayment,
    refund_sale,
    report,
    second_register,
    sell,
    sell_regimes,
)


def sold_total(api: Api, sale_ids: list[int]) -> Decimal:
    """The sum of the receipts' totals as the API shows them."""
    total = Decimal(0)
    for sale_id in sale_ids:
        detail = ok(api.client.get(f"/api/v1/sales/{sale_id}", headers=api.headers))
        total += money(detail["receipt"]["total"])
    return total


def test_x_states_the_open_shift_without_closing_it_and_z_closes_it(api: Api) -> None:
    s1 = sell(api, "4000")
    s2 = sell_regimes(api)
    prepayment = prepay_ok(api, "10000")
    s3 = sell(api, "3000", prepayment="3000")
    sale_refund = refund_sale(api, s1["saleId"])
    prepayment_refund = refund_prepayment(api, prepayment["prepaymentId"])

    x = ok(report(api, "x"))
    totals = x["totals"]
    assert (x["type"], x["shift"], x["closesShift"]) == ("x", 1, False)
    documents = totals["documents"]
    assert documents["sale"]["count"] == 3
    assert money(documents["sale"]["total"]) == sold_total(api, [s1["saleId"], s2["saleId"], s3["saleId"]])
    assert money(documents["sale"]["total"]) == Decimal("27000")
    assert (documents["saleRefund"]["count"], money(documents["saleRefund"]["total"])) == (1, Decimal("4000"))
    assert (documents["prepayment"]["count"], money(documents["prepayment"]["total"])) == (1, Decimal("10000"))
    assert (documents["prepaymentRefund"]["count"], money(documents["prepaymentRefund"]["total"])) == (
        1,
        Decimal("7000"),
    )
    tenders = totals["tenders"]
    assert money(tenders["sale"]["cash"]) == Decimal("19000")
    assert money(tenders["sale"]["nonCash"]) == Decimal("5000")
    assert money(tenders["sale"]["prepayment"]) == Decimal("3000")
    assert money(tenders["saleRefund"]["cash"]) == Decimal("4000")
    assert money(tenders["prepayment"]["cash"]) == Decimal("10000")
    assert money(tenders["prepaymentRefund"]["cash"]) == Decimal("7000")
    assert money(totals["netCash"]) == Decimal("18000")  # 19000 + 10000 − 4000 − 7000
    regimes = totals["taxRegimes"]
    assert set(regimes) == {"vat", "vat_exempt", "turnover_tax"}
    assert money(regimes["vat"]["sales"]) == Decimal("19000")  # 4000 + 12000 + 3000
    assert money(regimes["vat"]["refunds"]) == Decimal("4000")
    assert money(regimes["vat_exempt"]["sales"]) == Decimal("3000")
    assert money(regimes["turnover_tax"]["sales"]) == Decimal("5000")
    assert money(regimes["vat_exempt"]["salesVat"]) == 0
    with api.db.read() as conn:
        vat_sold = conn.execute(select(func.sum(sales.c.vat))).scalar_one()
    assert money(totals["vat"]["sales"]) == money(vat_sold) == money(regimes["vat"]["salesVat"])
    assert money(totals["vat"]["refunds"]) == money(regimes["vat"]["refundsVat"]) > 0
    assert (totals["refunds"]["count"], money(totals["refunds"]["total"])) == (2, Decimal("11000"))
    assert {k: money(v) for k, v in totals["prepayments"].items()} == {
        "taken": Decimal("10000"),
        "used": Decimal("3000"),
        "returned": Decimal("0"),
        "refunded": Decimal("7000"),
    }
    assert totals["entries"] == {"count": 6, "first": 1, "last": 6}
    assert totals["receipts"] == {"first": s1["srcReceiptId"], "last": prepayment_refund["receiptId"]}
    assert sale_refund["receiptId"] < prepayment_refund["receiptId"]

    again = ok(report(api, "x"))
    assert (again["shift"], again["totals"]) == (1, totals)
    assert again["journalNumber"] == x["journalNumber"] + 1

    z = ok(report(api, "z"))
    assert (z["type"], z["shift"], z["closesShift"], z["totals"]) == ("z", 1, True, totals)

    s4 = sell(api, "1000")
    next_x = ok(report(api, "x"))
    assert next_x["shift"] == 2
    assert next_x["totals"]["documents"]["sale"] == {"count": 1, "total": 1000}
    assert next_x["totals"]["entries"] == {"count": 1, "first": z["journalNumber"] + 1, "last": z["journalNumber"] + 1}
    assert next_x["totals"]["receipts"] == {"first": s4["srcReceiptId"], "last": s4["srcReceiptId"]}
    assert next_x["totals"]["documents"]["saleRefund"] == {"count": 0, "total": 0}

    result = verify_database(api.db)
    assert result.journals[0].entries == next_x["journalNumber"]
    fetched = ok(api.client.get(f"/api/v1/reports/{z['id']}", headers=api.headers))
    assert fetched == z


def test_z_on_an_empty_shift_is_a_409_and_writes_nothing(api: Api) -> None:
    before = counts(api)
    refused = report(api, "z", key="empty-z")
    assert refused.status_code == 409
    assert "shift is empty" in refused.json()["error"]
    assert counts(api) == before

    zero = ok(report(api, "x"))  # an X of an empty shift is a zero report
    assert zero["totals"]["entries"] == {"count": 0, "first": None, "last": None}
    assert zero["openedAt"] is None
    assert report(api, "z").status_code == 409  # an X does not open a shift

    sell(api)
    ok(report(api, "z", key="empty-z"))  # the refused request spent no key
    after_z = counts(api)
    assert report(api, "z").status_code == 409
    assert counts(api) == after_z


def test_a_replay_repeats_the_report_and_another_body_under_the_key_is_a_422(api: Api) -> None:
    sell(api)
    first = report(api, "z", key="close-1")
    assert first.status_code == 200
    assert "Idempotent-Replay" not in first.headers
    after = counts(api)
    replay = report(api, "z", key="close-1")
    assert replay.status_code == 200 and replay.headers["Idempotent-Replay"] == "true"
    assert replay.content == first.content
    other = report(api, "z", key="close-1", body={"cashier": {"id": 1}})
    assert other.status_code == 422
    assert counts(api) == after
    # the key of an X is another key: endpoints are scoped
    assert ok(report(api, "x", key="close-1"))["type"] == "x"


def test_an_unknown_cashier_is_a_400_and_writes_nothing(api: Api) -> None:
    sell(api)
    before = counts(api)
    refused = report(api, "z", key="k", body={"cashier": {"id": 999}})
    assert refused.status_code == 400
    assert refused.json()["issues"][0]["path"] == ["cashier"]
    assert report(api, "x", body={"cashier": {"id": 1, "deskId": "x"}}).status_code == 400
    assert counts(api) == before
    taken = ok(report(api, "z", key="k", body={"cashier": {"id": 1}}))
    assert taken["cashierId"] == 1


def _race(api: Api, keys: tuple[str, str]) -> list[Any]:
    barrier = threading.Barrier(2)
    results: list[Any] = [None, None]

    def take(index: int) -> None:
        barrier.wait()
        results[index] = report(api, "z", key=keys[index])

    threads = [threading.Thread(target=take, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def z_entries(api: Api) -> int:
    with api.db.read() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(journal_entries).where(journal_entries.c.doc_type == "z_report")
            ).scalar_one()
        )


def test_two_racing_z_requests_with_one_key_make_one_z(api: Api) -> None:
    sell(api)
    first, second = _race(api, ("same", "same"))
    assert first.status_code == second.status_code == 200, (first.text, second.text)
    assert first.content == second.content
    assert z_entries(api) == 1
    with api.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(shift_reports)).scalar_one() == 1


def test_two_racing_z_requests_with_two_keys_close_the_shift_once(api: Api) -> None:
    sell(api)
    results = _race(api, ("one", "two"))
    assert sorted(r.status_code for r in results) == [200, 409]
    assert z_entries(api) == 1
    verify_database(api.db)


def test_verify_detects_a_tampered_z_and_a_signed_z_whose_totals_are_wrong(api: Api) -> None:
    sell(api, "4000")
    z = ok(report(api, "z"))
    verify_database(api.db)

    with api.db.write() as conn:
        signer = signer_for(conn, api.init.register_id, api.settings.master_key.get_secret_value())
        tally = ShiftTally()
        tally.add("sale", 999, 0, {"total": "1.00", "items": [], "cash": "1.00"})
        wrong = report_body(12345, "z", 2, tally)
        journal.append(
            conn,
            api.init.register_id,
            doc_type="z_report",
            doc_ref="12345",
            body=wrong,
            delta=CountersDelta(),
            signer=signer,
        )
    with pytest.raises(ShiftTotalsError) as caught:
        verify_database(api.db)
    assert caught.value.number == z["journalNumber"] + 1

    with api.db.read() as conn:
        z_row = conn.execute(
            select(journal_entries.c.hash, journal_entries.c.counters).where(
                journal_entries.c.number == z["journalNumber"]
            )
        ).one()
    z_hash, z_counters = z_row.hash, z_row.counters
    with api.db.write() as conn:
        conn.execute(journal_entries.delete().where(journal_entries.c.number == z["journalNumber"] + 1))
        conn.execute(journal_heads.update().values(number=z["journalNumber"], last_hash=z_hash, counters=z_counters))
    row_content = _content(api, z["journalNumber"])
    tampered = row_content.replace(b'"total":"4000.00"', b'"total":"5000.00"', 1)
    assert tampered != row_content
    with api.db.write() as conn:
        conn.execute(
            update(journal_entries).where(journal_entries.c.number == z["journalNumber"]).values(content=tampered)
        )
    with pytest.raises(ContentAlteredError):
        verify_database(api.db)


def _content(api: Api, number: int) -> bytes:
    with api.db.read() as conn:
        return bytes(
            conn.execute(select(journal_entries.c.content).where(journal_entries.c.number == number)).scalar_one()
        )


def test_reports_list_by_type_and_period_in_pages(api: Api) -> None:
    taken = []
    for _ in range(3):
        sell(api)
        taken.append(ok(report(api, "x")))
        taken.append(ok(report(api, "z")))
    page = ok(api.client.get("/api/v1/reports", params={"type": "z", "limit": 2}, headers=api.headers))
    assert [r["id"] for r in page["items"]] == [taken[5]["id"], taken[3]["id"]]
    assert page["nextCursor"]
    rest = ok(
        api.client.get(
            "/api/v1/reports", params={"type": "z", "limit": 2, "cursor": page["nextCursor"]}, headers=api.headers
        )
    )
    assert [r["id"] for r in rest["items"]] == [taken[1]["id"]]
    assert rest["nextCursor"] is None
    everything = ok(api.client.get("/api/v1/reports", headers=api.headers))
    assert [r["id"] for r in everything["items"]] == [r["id"] for r in reversed(taken)]
    assert [r["shift"] for r in everything["items"] if r["type"] == "z"] == [3, 2, 1]
    future = ok(api.client.get("/api/v1/reports", params={"from": "2999-01-01"}, headers=api.headers))
    assert future["items"] == []
    today = taken[0]["createdAt"][:10]
    on_the_day = ok(api.client.get("/api/v1/reports", params={"from": today, "to": today}, headers=api.headers))
    assert len(on_the_day["items"]) == 6


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"cursor": "not a cursor"}, "cursor"),
        ({"cursor": base64.urlsafe_b64encode(b'{"a":1}').decode()}, "cursor"),
        ({"cursor": base64.urlsafe_b64encode(b"[1,-2]").decode()}, "cursor"),
        ({"from": "yesterday"}, "from"),
        ({"to": "2026-12-07T10:00:00"}, "to"),  # no offset
        ({"from": "2026-12-08", "to": "2026-12-07"}, "to"),
        ({"type": "y"}, "type"),
    ],
)
def test_bad_list_parameters_are_a_400(api: Api, params: dict[str, Any], field: str) -> None:
    response = api.client.get("/api/v1/reports", params=params, headers=api.headers)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["issues"][0]["path"][-1] == field


def test_a_key_of_another_register_never_sees_these_reports(api: Api) -> None:
    sell(api)
    z = ok(report(api, "z"))
    other = second_register(api)
    assert api.client.get(f"/api/v1/reports/{z['id']}", headers=other).status_code == 404
    assert api.client.get(f"/api/v1/reports/{z['id']}.pdf", headers=other).status_code == 404
    assert ok(api.client.get("/api/v1/reports", headers=other))["items"] == []
    assert report(api, "z", headers=other).status_code == 409  # its own shift is empty
    own = ok(report(api, "x", headers=other))
    assert (own["shift"], own["totals"]["entries"]["count"]) == (1, 0)
    verify_database(api.db)


def test_reports_need_the_sales_scopes(api: Api) -> None:
    from openvcr.registers.keys import create_key

    with api.db.write() as conn:
        reader = create_key(conn, api.init.register_id, ("sales:read",)).key
        nothing = create_key(conn, api.init.register_id, ("account:read",)).key
    assert report(api, "x", headers={"X-API-KEY": reader}).status_code == 403
    assert api.client.get("/api/v1/reports", headers={"X-API-KEY": reader}).status_code == 200
    assert api.client.get("/api/v1/reports", headers={"X-API-KEY": nothing}).status_code == 403
    assert api.client.get("/api/v1/reports").status_code == 401


@pytest.mark.parametrize("language", ["hy", "ru", "en"])
def test_the_printable_report_as_pdf_and_html(api: Api, language: str) -> None:
    sell_regimes(api)
    z = ok(report(api, "z"))
    pdf = api.client.get(f"/api/v1/reports/{z['id']}.pdf", params={"lang": language}, headers=api.headers)
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    roll = api.client.get(f"/api/v1/reports/{z['id']}.pdf", params={"format": "80mm"}, headers=api.headers)
    assert roll.status_code == 200 and roll.content.startswith(b"%PDF")
    assert (
        api.client.get(f"/api/v1/reports/{z['id']}.pdf", params={"format": "a3"}, headers=api.headers).status_code
        == 400
    )
    html = api.client.get(f"/api/v1/reports/{z['id']}.html", params={"lang": language}, headers=api.headers)
    assert html.status_code == 200
    title = {"hy": "Z հաշվետվություն", "ru": "Z-отчёт", "en": "Z report"}[language]
    assert f"{title} № {z['id']}" in html.text
    assert 'data-report-type="z"' in html.text
    assert "20\u202f000.00" in html.text  # the sales' total, written as on the receipt


def test_a_report_has_no_public_receipt_page(api: Api) -> None:
    sell(api)
    z = ok(report(api, "z"))
    assert api.client.get(f"/r/{z['urlId']}").status_code == 404
    assert api.client.get(f"/r/{z['urlId']}.pdf").status_code == 404


def test_the_console_embeds_the_report_as_a_fragment(api: Api) -> None:
    from openvcr.reports.printable import render_report_html
    from openvcr.reports.service import ReportsService

    sell(api, "4000")
    x = ok(report(api, "x"))
    found, register = ReportsService(api.db, api.settings).printable(api.init.register_id, x["id"])
    fragment = render_report_html(found, register, "en", fragment=True)
    assert fragment.lstrip().startswith('<article class="shift-report" data-report-type="x"')
    assert "<html" not in fragment and "X report № " in fragment and "4\u202f000.00" in fragment
