"""Webhook events of fiscal documents and receipt e-mails: written in the transaction of what they tell, once,
with the document's API fields; nothing for a document that failed or a transaction rolled back."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from openvcr.outbox.models import DeliveryRejected, OutboxMessage
from openvcr.outbox.repository import enqueue
from openvcr.outbox.worker import OutboxWorker
from openvcr.receipts.delivery import RECEIPT_EMAIL, receipt_email_finished
from openvcr.store.schema.documents import documents
from openvcr.webhooks import service
from tests.integration.documents.helpers import engine_of, post, set_late_fiscalization, states, switchable_src
from tests.integration.foundation.conftest import Api
from tests.integration.prepayments.helpers import buyer, prepayment_body, sale_body
from tests.integration.webhooks.helpers import add_webhook, events_of, webhook_messages

ALL = ["sale.completed", "prepayment.completed", "document.deferred", "document.fiscalized", "document.dropped"]


def test_an_api_sale_emits_sale_completed_once_with_its_response_fields(api: Api) -> None:
    first = add_webhook(api, ["sale.completed"])
    second = add_webhook(api, ["sale.completed", "document.fiscalized"], url="https://example.am/two")
    add_webhook(api, ["prepayment.completed"], url="https://example.am/three")
    response = post(api, "/sales", sale_body(), **{"Idempotency-Key": "w-1"})
    assert response.status_code == 200, response.text
    replay = post(api, "/sales", sale_body(), **{"Idempotency-Key": "w-1"})
    assert replay.status_code == 200
    messages = webhook_messages(api.db)
    assert [m["endpointId"] for m in messages] == [first["id"], second["id"]]
    sale = response.json()
    event = messages[0]["event"]
    assert messages[1]["event"] == event and messages[0]["eventId"] == messages[1]["eventId"] == event["id"]
    assert event["type"] == "sale.completed" and event["id"].startswith("evt_") and event["createdAt"].endswith("Z")
    assert event["data"] == {
        **sale,
        "documentType": "sale",
        "id": sale["saleId"],
        "statusUrl": f"/api/v1/sales/{sale['saleId']}",
        "registerId": api.init.register_id,
    }
    assert {"urlId", "receiptUrl", "crn", "fiscal", "srcReceiptId"} <= set(event["data"])
    assert messages[0]["key"] == f"webhook:{first['id']}:sale.completed:{event['id']}"


def test_nothing_is_emitted_without_an_endpoint_or_for_a_request_that_fails(api: Api) -> None:
    assert post(api, "/sales", sale_body()).status_code == 200
    assert events_of(api.db) == []  # no endpoint: nothing written
    add_webhook(api, ALL)
    bad = post(api, "/sales", sale_body(price="-1"))
    assert bad.status_code == 400
    assert events_of(api.db) == []


def test_a_dropped_document_emits_dropped_and_never_completed(api: Api) -> None:
    add_webhook(api, ALL)
    with switchable_src(api) as src:
        src.down = True
        response = post(api, "/sales", sale_body(), **{"Idempotency-Key": "drop-1"})
    assert response.status_code == 502 and states(api) == ["dropped"]
    [message] = webhook_messages(api.db)
    assert message["type"] == "document.dropped"
    data = message["event"]["data"]
    assert (data["documentType"], data["id"], data["statusUrl"]) == ("sale", 1, "/api/v1/sales/1")
    assert data["error"] and data["urlId"]


def test_a_deferred_document_emits_deferred_then_fiscalized_and_completed_once(api: Api) -> None:
    add_webhook(api, ALL)
    set_late_fiscalization(api, True)
    with switchable_src(api) as src:
        src.down = True
        response = post(api, "/sales", sale_body(), **{"Idempotency-Key": "late-1"})
        assert response.status_code == 502
        assert engine_of(api).recover(min_age_ms=0).completed == 0  # still down: deferred again, no new event
        assert events_of(api.db) == ["document.deferred"]
        src.down = False
    assert engine_of(api).recover(min_age_ms=0).completed == 1
    engine_of(api).recover(min_age_ms=0)
    assert events_of(api.db) == ["document.deferred", "sale.completed", "document.fiscalized"]
    messages = webhook_messages(api.db)
    fiscalized = messages[2]["event"]["data"]
    assert messages[1]["event"]["data"] == fiscalized and messages[1]["eventId"] != messages[2]["eventId"]
    detail = api.client.get("/api/v1/sales/1", headers=api.headers).json()
    assert fiscalized["fiscal"] == detail["receipt"]["fiscal"] and fiscalized["saleId"] == 1
    assert fiscalized["receiptUrl"].endswith(fiscalized["urlId"])


def test_events_roll_back_with_the_transaction_that_completes_the_document(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_webhook(api, ["prepayment.completed"])
    add_webhook(api, ["prepayment.completed"], url="https://example.am/two")
    calls: list[str] = []

    def enqueue_then_fail(*args: Any, **kwargs: Any) -> int:
        calls.append(args[2])
        message_id = enqueue(*args, **kwargs)
        if len(calls) == 2:
            raise RuntimeError("the database failed after the first event was written")
        return message_id

    monkeypatch.setattr(service.outbox, "enqueue", enqueue_then_fail)
    response = post(api, "/prepayments", prepayment_body("300"))
    monkeypatch.undo()
    assert response.status_code == 502 and response.json()["pending"]["mayResubmit"] is False
    assert len(calls) == 2 and states(api) == ["sent"]  # the completion rolled back, with both events
    assert events_of(api.db) == []
    assert engine_of(api).recover(min_age_ms=0).completed == 1  # recovery completes it: the events come now
    assert events_of(api.db) == ["prepayment.completed", "prepayment.completed"]


def _finish_receipt_email(api: Api, url_id: str, deliver: Any) -> None:
    with api.db.write() as conn:
        enqueue(conn, RECEIPT_EMAIL, f"test-receipt:{url_id}", {"document": "sale", "urlId": url_id, "email": "b@x.am"})
    worker = OutboxWorker(api.db, {RECEIPT_EMAIL: deliver}, on_finished=receipt_email_finished)
    assert worker.run_once() == 1


def test_a_receipt_email_that_ends_emits_delivered_or_failed_in_the_same_transaction(api: Api) -> None:
    add_webhook(api, ["receiptEmail.delivered", "receiptEmail.failed"])
    assert post(api, "/sales", sale_body()).status_code == 200
    with api.db.read() as conn:
        url_id = conn.execute(select(documents.c.url_id)).scalar_one()

    def sent(_message: OutboxMessage) -> None:
        return None

    def refused(_message: OutboxMessage) -> None:
        raise DeliveryRejected("550 no such mailbox")

    def later(_message: OutboxMessage) -> None:
        raise RuntimeError("connection refused")

    _finish_receipt_email(api, url_id, sent)
    assert events_of(api.db) == ["receiptEmail.delivered"]
    _finish_receipt_email(api, url_id + "x", later)  # unknown document: nothing; a retry emits nothing
    assert events_of(api.db) == ["receiptEmail.delivered"]
    with api.db.write() as conn:
        enqueue(conn, RECEIPT_EMAIL, "test-receipt:again", {"document": "sale_refund", "urlId": url_id})
    worker = OutboxWorker(api.db, {RECEIPT_EMAIL: refused}, on_finished=receipt_email_finished)
    assert worker.run_once() == 1
    messages = webhook_messages(api.db)
    assert [m["type"] for m in messages] == ["receiptEmail.delivered", "receiptEmail.failed"]
    assert messages[0]["event"]["data"]["email"] == "b@x.am" and messages[0]["event"]["data"]["urlId"] == url_id
    assert messages[1]["event"]["data"]["error"] == "550 no such mailbox"
    assert messages[1]["event"]["data"]["documentType"] == "saleRefund"


def test_an_unknown_event_is_refused_by_emit(api: Api) -> None:
    with pytest.raises(ValueError, match="unknown webhook event"), api.db.write() as conn:
        service.emit(conn, api.init.register_id, "sale.created", {})


def test_a_prepayment_with_a_receipt_wish_emits_prepayment_completed(api: Api) -> None:
    add_webhook(api, ["prepayment.completed"])
    response = post(api, "/prepayments", prepayment_body("300", buyer=buyer()))
    assert response.status_code == 200, response.text
    [message] = webhook_messages(api.db)
    assert message["event"]["data"]["prepaymentId"] == response.json()["prepaymentId"]


def test_a_z_report_emits_report_z_once_and_an_x_report_nothing(api: Api) -> None:
    add_webhook(api, ["report.z", "sale.completed"])
    assert post(api, "/sales", sale_body()).status_code == 200
    assert post(api, "/reports/x", {}).status_code == 200
    assert events_of(api.db) == ["sale.completed"]
    z = post(api, "/reports/z", {}, **{"Idempotency-Key": "z-1"})
    assert z.status_code == 200, z.text
    assert post(api, "/reports/z", {}, **{"Idempotency-Key": "z-1"}).status_code == 200  # a replay: no new event
    assert post(api, "/reports/z", {}).status_code == 409  # an empty shift: no Z, no event
    assert events_of(api.db) == ["sale.completed", "report.z"]
    data = webhook_messages(api.db)[1]["event"]["data"]
    assert data == {**z.json(), "registerId": api.init.register_id}
