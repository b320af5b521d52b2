"""Prepayments: registration (SRC mode 3), the per-entity FIFO ledger used by sales, refunds of the remainder,
idempotency, and no writes on bad input."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from openvcr.authority.factory import sandbox_simulator
from openvcr.prepayments.service import refund_split
from openvcr.registers import journal
from openvcr.registers.keys import create_key
from openvcr.store.schema.outbox import outbox_messages
from tests.integration.foundation.conftest import Api
from tests.integration.prepayments.helpers import (
    PHONE,
    get,
    post_prepayment,
    post_sale,
    prepay,
    prepayment_body,
    refund,
    sale_body,
    side_effects,
)

TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def detail(api: Api, prepayment_id: int) -> dict[str, Any]:
    response = get(api, f"/prepayments/{prepayment_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def balance(api: Api, customer_ref: str = PHONE) -> dict[str, Any]:
    response = get(api, "/prepayments/balance", customerRef=customer_ref)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_prepayment_use_balance_refund_and_states(api: Api) -> None:
    created = prepay(api, cash="10000", non_cash="5000")
    assert set(created) == {"urlId", "prepaymentId", "crn", "receiptId", "fiscal", "receiptUrl"}
    assert created["receiptUrl"] == f"{api.settings.public_url}/hy/r/{api.init.crn}/{created['urlId']}"
    assert created["crn"] == api.init.crn and created["fiscal"]
    pid = created["prepaymentId"]

    info = detail(api, pid)
    assert set(info) == {"id", "createdAt", "buyerTin", "cashAmount", "nonCashAmount", "receipt", "refund",
                         "cashier", "remaining", "state", "fiscalStatus", "receiptUrl"}  # fmt: skip
    assert TS.match(info["createdAt"]) and info["buyerTin"] is None
    assert (info["cashAmount"], info["nonCashAmount"], info["remaining"], info["state"]) == (10000, 5000, 15000, "open")
    assert info["receipt"]["srcId"] == created["receiptId"] and info["receipt"]["total"] == 15000
    assert info["receipt"]["time"].isdigit() and info["refund"] is None
    assert info["cashier"]["internalId"] == 1 and info["cashier"]["name"][0]["language"] == "hy"

    sale = post_sale(api, sale_body("4000", prepayment="4000"))
    assert sale.status_code == 200, sale.text
    sale_detail = get(api, f"/sales/{sale.json()['saleId']}").json()
    assert sale_detail["prepaymentAmount"] == 4000

    ledger = balance(api)
    assert ledger == {
        "entityId": ledger["entityId"],
        "customerRef": PHONE,
        "balance": 11000,
        "openPrepayments": [
            {"prepaymentId": pid, "createdAt": info["createdAt"], "cashAmount": 10000, "nonCashAmount": 5000,
             "buyerTin": None, "remaining": 11000}
        ],
    }  # fmt: skip
    assert isinstance(ledger["entityId"], int)

    response = refund(api, pid)
    assert response.status_code == 200, response.text
    refunded = response.json()
    assert set(refunded) == {"urlId", "prepaymentRefundId", "crn", "receiptId", "fiscal", "receiptUrl"}
    assert refunded["receiptUrl"] == f"{api.settings.public_url}/hy/r/{api.init.crn}/{refunded['urlId']}"
    info = detail(api, pid)
    assert (info["remaining"], info["state"]) == (0, "refunded")
    # the remainder 11000 split like the prepayment was paid: one third non-cash
    assert info["refund"]["cashAmount"] == 7333.33 and info["refund"]["nonCashAmount"] == 3666.67
    assert info["refund"]["receipt"]["srcId"] == refunded["receiptId"] and info["refund"]["receipt"]["total"] == 11000
    assert balance(api)["balance"] == 0 and balance(api)["openPrepayments"] == []

    with api.db.read() as conn:
        entries = list(journal.entries(conn, api.init.register_id))
        head = journal.head(conn, api.init.register_id)
    assert [e.doc_type for e in entries] == ["prepayment", "sale", "prepayment_refund"]
    assert entries[0].body["amount"] == "15000.00" and entries[2].body["amount"] == "11000.00"
    assert head.counters.prepayments_total == Decimal("15000.00")
    assert head.counters.prepayment_refunds_total == Decimal("11000.00")


def test_list_filters_by_customer_and_state_newest_first(api: Api) -> None:
    consumed = prepay(api, cash="2000")["prepaymentId"]
    assert post_sale(api, sale_body("2000", prepayment="2000")).status_code == 200
    open_one = prepay(api, cash="3000")["prepaymentId"]
    refunded = prepay(api, cash="1000")["prepaymentId"]
    assert refund(api, refunded).status_code == 200
    other = post_prepayment(api, prepayment_body("700", buyer={"type": "business_entity", "tin": "01234567"}))
    assert other.status_code == 200

    def ids(**params: Any) -> list[tuple[int, str]]:
        response = get(api, "/prepayments", **params)
        assert response.status_code == 200, response.text
        return [(row["id"], row["state"]) for row in response.json()]

    mine = [(refunded, "refunded"), (open_one, "open"), (consumed, "consumed")]
    assert ids(customerRef=PHONE) == mine
    assert ids(customerRef=PHONE, state="all") == mine
    assert ids(customerRef=PHONE, state="open") == [(open_one, "open")]
    assert ids(customerRef=PHONE, state="consumed") == [(consumed, "consumed")]
    assert ids(customerRef=PHONE, state="refunded") == [(refunded, "refunded")]
    assert ids(customerRef="01234567") == [(other.json()["prepaymentId"], "open")]
    assert len(ids()) == 4
    row = get(api, "/prepayments", customerRef="01234567").json()[0]
    assert set(row) == {"id", "createdAt", "buyerTin", "cashAmount", "nonCashAmount", "remaining", "state"}
    assert row["buyerTin"] == "01234567" and row["cashAmount"] == 700 and row["remaining"] == 700
    assert get(api, "/prepayments", state="closed").status_code == 400


def test_a_fully_consumed_prepayment_cannot_be_refunded(api: Api) -> None:
    pid = prepay(api, cash="4000")["prepaymentId"]
    assert post_sale(api, sale_body("4000", prepayment="4000")).status_code == 200
    assert detail(api, pid)["state"] == "consumed" and detail(api, pid)["remaining"] == 0
    before = side_effects(api)
    response = refund(api, pid)
    assert response.status_code == 409 and "consumed" in response.json()["error"]
    assert side_effects(api) == before


def test_a_refunded_prepayment_cannot_be_refunded_again(api: Api) -> None:
    pid = prepay(api)["prepaymentId"]
    assert refund(api, pid).status_code == 200
    before = side_effects(api)
    response = refund(api, pid)
    assert response.status_code == 409 and "already refunded" in response.json()["error"]
    assert side_effects(api) == before


def test_sales_consume_prepayments_oldest_first(api: Api) -> None:
    first = prepay(api, cash="3000")["prepaymentId"]
    second = prepay(api, cash=None, non_cash="5000")["prepaymentId"]
    assert post_sale(api, sale_body("4000", prepayment="4000")).status_code == 200
    assert (detail(api, first)["remaining"], detail(api, first)["state"]) == (0, "consumed")
    assert (detail(api, second)["remaining"], detail(api, second)["state"]) == (4000, "open")
    ledger = balance(api)
    assert ledger["balance"] == 4000 and [p["prepaymentId"] for p in ledger["openPrepayments"]] == [second]
    assert post_sale(api, sale_body("1500", prepayment="1000", cash="500")).status_code == 200
    assert balance(api)["balance"] == 3000


def test_a_sale_over_the_balance_is_400_and_writes_nothing(api: Api) -> None:
    prepay(api, cash="3000")
    before = side_effects(api)
    response = post_sale(api, sale_body("3500", prepayment="3500"))
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["issues"][0]["path"] == ["amount", "prepayment"] and "3000" in body["error"]
    assert side_effects(api) == before
    assert balance(api)["balance"] == 3000


def test_a_prepayment_of_another_customer_is_not_spent(api: Api) -> None:
    prepay(api, cash="3000")
    body = sale_body("1000", prepayment="1000")
    body["buyer"] = {"type": "individual", "email": "someone@example.com"}
    before = side_effects(api)
    assert post_sale(api, body).status_code == 400
    assert side_effects(api) == before


def test_a_sale_refund_gives_the_prepayment_back(api: Api) -> None:
    pid = prepay(api, cash="3000")["prepaymentId"]
    sale = post_sale(api, sale_body("3000", prepayment="3000")).json()
    assert detail(api, pid)["state"] == "consumed"
    response = api.client.post(
        "/api/v1/sales/refund", json={"cashier": {"id": 1}, "saleId": sale["saleId"]}, headers=api.headers
    )
    assert response.status_code == 200, response.text
    assert (detail(api, pid)["remaining"], detail(api, pid)["state"]) == (3000, "open")


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"buyer": {"type": "individual"}}, ["buyer"]),
        ({"buyer": None}, ["buyer"]),
        ({"amount": {}}, ["amount"]),
        ({"amount": {"cash": "0"}}, ["amount"]),
        ({"amount": {"cash": "1.234"}}, ["amount", "cash"]),
        ({"amount": {"nonCash": "-5"}}, ["amount", "nonCash"]),
        ({"cashier": {"id": 99}}, ["cashier"]),
        ({"buyer": {"type": "individual", "phone": "091123456"}}, ["buyer", "phone"]),
        ({"buyer": {"type": "business_entity"}}, ["buyer"]),
    ],
)
def test_bad_prepayments_are_400_naming_the_field_and_write_nothing(
    api: Api, change: dict[str, Any], path: list[Any]
) -> None:
    body = {**prepayment_body(), **change}
    if body["buyer"] is None:
        del body["buyer"]
    before = side_effects(api)
    response = post_prepayment(api, body)
    assert response.status_code == 400, response.text
    assert response.json()["issues"][0]["path"] == path
    assert side_effects(api) == before


def test_customer_ref_is_tin_else_phone_else_lower_cased_email(api: Api) -> None:
    prepay(api, cash="100", buyer={"type": "individual", "email": "Ann.Buyer@Example.COM"})
    prepay(api, cash="200", buyer={"type": "individual", "email": "ann.buyer@example.com", "phone": PHONE})
    prepay(api, cash="300", buyer={"type": "business_entity", "tin": "01234567", "phone": PHONE})
    assert balance(api, "ann.buyer@example.com")["balance"] == 100
    assert balance(api, "ANN.BUYER@example.com")["customerRef"] == "ann.buyer@example.com"
    assert balance(api, PHONE)["balance"] == 200
    assert balance(api, "01234567")["balance"] == 300
    # an unencoded "+" in a query string arrives as a space: still the phone
    raw = api.client.get(f"/api/v1/prepayments/balance?customerRef={PHONE}", headers=api.headers)
    assert raw.status_code == 200 and raw.json()["balance"] == 200
    assert balance(api, "+37400000000") == {
        "entityId": raw.json()["entityId"],
        "customerRef": "+37400000000",
        "balance": 0,
        "openPrepayments": [],
    }


def test_balance_needs_a_customer_ref(api: Api) -> None:
    for path in ("/prepayments/balance", "/prepayments/balance?customerRef=%20"):
        response = api.client.get(f"/api/v1{path}", headers=api.headers)
        assert response.status_code == 400 and response.json()["issues"][0]["path"] == ["customerRef"]


def test_unknown_prepayment_is_404(api: Api) -> None:
    assert get(api, "/prepayments/999").status_code == 404
    before = side_effects(api)
    assert refund(api, 999).status_code == 404
    assert side_effects(api) == before


def test_idempotent_prepayment_and_refund(api: Api) -> None:
    body = prepayment_body("2500")
    first = post_prepayment(api, body, **{"Idempotency-Key": "pp-1"})
    assert first.status_code == 200 and "idempotency-replayed" not in first.headers
    after_first = side_effects(api)
    again = post_prepayment(api, body, **{"Idempotency-Key": "pp-1"})
    assert again.status_code == 200 and again.headers["idempotent-replay"] == "true"
    assert again.content == first.content
    assert side_effects(api) == after_first
    other = post_prepayment(api, prepayment_body("2600"), **{"Idempotency-Key": "pp-1"})
    assert other.status_code == 422
    assert side_effects(api) == after_first

    pid = first.json()["prepaymentId"]
    done = refund(api, pid, **{"Idempotency-Key": "rf-1"})
    assert done.status_code == 200
    after_refund = side_effects(api)
    replay = refund(api, pid, **{"Idempotency-Key": "rf-1"})
    assert replay.status_code == 200 and replay.headers["idempotency-replayed"] == "true"
    assert replay.json() == done.json()
    assert side_effects(api) == after_refund


def test_scopes_are_enforced(api: Api) -> None:
    with api.db.write() as conn:
        reader = create_key(conn, api.init.register_id, ("prepayments:read",)).key
        sales_only = create_key(conn, api.init.register_id, ("sales:read", "sales:write")).key
    pid = prepay(api)["prepaymentId"]
    assert api.client.get(f"/api/v1/prepayments/{pid}", headers={"X-API-KEY": reader}).status_code == 200
    before = side_effects(api)
    denied = api.client.post("/api/v1/prepayments", json=prepayment_body(), headers={"X-API-KEY": reader})
    assert denied.status_code == 403
    assert api.client.get(f"/api/v1/prepayments/{pid}", headers={"X-API-KEY": sales_only}).status_code == 403
    assert api.client.get("/api/v1/prepayments").status_code == 401
    assert side_effects(api) == before


def test_src_failure_drops_the_prepayment_and_says_it_may_be_resubmitted(api: Api) -> None:
    assert api.init.crn is not None
    sandbox_simulator(api.settings).admin("fault", {"crn": api.init.crn, "method": "print", "fault": "internal"})
    before = side_effects(api)
    response = post_prepayment(api, prepayment_body())
    assert response.status_code == 502, response.text
    pending = response.json()["pending"]
    assert pending["type"] == "prepayment" and pending["mayResubmit"] is True
    detail = get(api, pending["statusUrl"].removeprefix("/api/v1"))
    assert detail.status_code == 200 and detail.json()["receipt"] is None
    assert detail.json()["fiscalStatus"] == "dropped"
    after = side_effects(api)
    assert after == before | {"prepayments": before["prepayments"] + 1}  # kept, dropped: nothing else moved
    assert get(api, "/prepayments/balance", customerRef=PHONE).json()["balance"] == 0


def test_receipt_email_is_queued_with_the_document(api: Api) -> None:
    created = prepay(api, buyer={"type": "individual", "phone": PHONE,
                                 "receipt": {"email": "buyer@example.com", "language": "ru"}})  # fmt: skip
    with api.db.read() as conn:
        messages = conn.execute(select(outbox_messages.c.kind, outbox_messages.c.payload)).all()
    payloads = [json.loads(p) for kind, p in messages if kind == "receipt_email"]
    assert payloads == [
        {"document": "prepayment", "urlId": created["urlId"], "email": "buyer@example.com", "language": "ru"}
    ]


@pytest.mark.parametrize(
    ("remaining", "cash", "non_cash", "expected"),
    [
        ("15000", "10000", "5000", ("10000", "5000")),
        ("11000", "10000", "5000", ("7333.33", "3666.67")),
        ("0.01", "1", "2", ("0.00", "0.01")),
        ("500", "0", "1000", ("0.00", "500.00")),
        ("500", "1000", "0", ("500.00", "0.00")),
    ],
)
def test_refund_split_follows_how_the_prepayment_was_paid(
    remaining: str, cash: str, non_cash: str, expected: tuple[str, str]
) -> None:
    got = refund_split(Decimal(remaining), Decimal(cash), Decimal(non_cash))
    assert got == (Decimal(expected[0]), Decimal(expected[1]))
    assert sum(got) == Decimal(remaining) and got[0] <= Decimal(cash) and got[1] <= Decimal(non_cash)


def test_a_dropped_src_answer_still_gives_one_document_and_one_src_receipt(api: Api) -> None:
    assert api.init.crn is not None
    sandbox_simulator(api.settings).admin("fault", {"crn": api.init.crn, "method": "print", "fault": "drop"})
    before = side_effects(api)
    first = post_prepayment(api, prepayment_body("1200"), **{"Idempotency-Key": "lost-1"})
    assert first.status_code == 200, first.text  # the lost answer is resolved from SRC (printCopy)
    retried = post_prepayment(api, prepayment_body("1200"), **{"Idempotency-Key": "lost-1"})
    assert retried.status_code == 200 and retried.json() == first.json()
    after = side_effects(api)
    assert after["prepayments"] == before["prepayments"] + 1 and after["journal"] == before["journal"] + 1
    assert after["src"] == before["src"] + 1
    assert detail(api, first.json()["prepaymentId"])["state"] == "open"
