"""The transactional outbox and the delivery of signed invoices to aTAX (in-process sandbox)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from openvcr.outbox import repository as outbox
from openvcr.outbox.models import DeliveryRejected, DeliveryRetryable, OutboxMessage
from openvcr.outbox.worker import OutboxWorker, backoff_ms
from openvcr.store.db import Database, now_ms
from openvcr.store.schema.outbox import outbox_attempts, outbox_messages
from openvcr.vsdc import service
from openvcr.vsdc.atax.client import deliverers, sandbox_transport
from openvcr.vsdc.atax.sandbox import AtaxSandbox
from openvcr.vsdc.schemas import parse_body
from tests.integration.vsdc.conftest import Vsdc
from tests.unit.vsdc.seed import seed_json

LATER = 10**15  # a "now" after every backoff


def attempts(db: Database, key: str) -> list[tuple[int, str]]:
    with db.read() as conn:
        rows = conn.execute(
            select(outbox_attempts.c.attempt, outbox_attempts.c.outcome)
            .join(outbox_messages, outbox_messages.c.id == outbox_attempts.c.message_id)
            .where(outbox_messages.c.key == key)
            .order_by(outbox_attempts.c.attempt)
        )
        return [(row.attempt, row.outcome) for row in rows]


def test_enqueue_is_part_of_the_business_transaction(database: Database) -> None:
    def business_transaction() -> None:
        with database.write() as conn:
            outbox.enqueue(conn, "mail", "k1", {"to": "a@b"})
            raise RuntimeError("the business transaction fails")

    with pytest.raises(RuntimeError):
        business_transaction()
    with database.read() as conn:
        assert outbox.status(conn) == []
        assert outbox.message_status(conn, "k1") is None


def test_the_same_key_is_enqueued_once(database: Database) -> None:
    with database.write() as conn:
        first = outbox.enqueue(conn, "mail", "k1", {"to": "a@b"})
        second = outbox.enqueue(conn, "mail", "k1", {"to": "other"})
    assert first == second
    with database.read() as conn:
        [row] = outbox.status(conn)
    assert (row.kind, row.pending) == ("mail", 1)


def test_failed_tries_are_retried_with_exponential_backoff_and_each_try_is_recorded(database: Database) -> None:
    outcomes = [DeliveryRetryable("down"), RuntimeError("boom"), None]
    seen: list[tuple[str, int, dict[str, Any]]] = []

    def deliver(message: OutboxMessage) -> None:
        seen.append((message.key, message.attempt, message.payload))
        outcome = outcomes.pop(0)
        if outcome is not None:
            raise outcome

    with database.write() as conn:
        outbox.enqueue(conn, "mail", "k1", {"n": 1})
    worker = OutboxWorker(database, {"mail": deliver}, base_delay_seconds=2, max_delay_seconds=3)
    start = now_ms()
    assert worker.run_once() == 1
    with database.read() as conn:
        delay = conn.execute(select(outbox_messages.c.next_attempt_at)).scalar_one() - start
    assert 2000 <= delay < 60_000  # base × 2^0
    assert worker.run_once() == 0  # not due yet
    assert worker.run_once(now=LATER) == 1
    with database.read() as conn:
        delay = conn.execute(select(outbox_messages.c.next_attempt_at)).scalar_one() - start
    assert 3000 <= delay < 60_000  # base × 2^1 = 4 s, capped at 3 s
    assert worker.run_once(now=LATER) == 1
    assert seen == [("k1", 1, {"n": 1}), ("k1", 2, {"n": 1}), ("k1", 3, {"n": 1})]
    assert attempts(database, "k1") == [(1, "retry"), (2, "retry"), (3, "delivered")]
    with database.read() as conn:
        assert outbox.message_status(conn, "k1") == "delivered"
        [row] = outbox.status(conn)
    assert (row.pending, row.delivered, row.failed) == (0, 1, 0)


def test_backoff_doubles_from_the_base_up_to_the_cap() -> None:
    assert [backoff_ms(n, base_seconds=1, max_seconds=60) for n in (1, 2, 3, 7, 8)] == [
        1000, 2000, 4000, 60_000, 60_000,
    ]  # fmt: skip


def test_a_rejected_message_fails_for_good(database: Database) -> None:
    def deliver(_message: OutboxMessage) -> None:
        raise DeliveryRejected("no such mailbox")

    with database.write() as conn:
        outbox.enqueue(conn, "mail", "k1", {})
    worker = OutboxWorker(database, {"mail": deliver})
    assert worker.run_once(now=LATER) == 1
    assert worker.run_once(now=LATER) == 0
    assert attempts(database, "k1") == [(1, "failed")]
    with database.read() as conn:
        assert outbox.message_status(conn, "k1") == "failed"


def test_a_worker_delivers_only_the_kinds_it_knows(database: Database) -> None:
    with database.write() as conn:
        outbox.enqueue(conn, "mail", "k1", {})
    assert OutboxWorker(database, {"webhook": lambda _m: None}).run_once(now=LATER) == 0
    with database.read() as conn:
        assert outbox.message_status(conn, "k1") == "pending"


def test_a_claimed_message_is_not_delivered_twice_while_its_lease_holds(database: Database) -> None:
    with database.write() as conn:
        outbox.enqueue(conn, "mail", "k1", {})
    first = OutboxWorker(database, {"mail": lambda _m: None})
    claimed = first._claim(now_ms())
    assert claimed is not None
    assert OutboxWorker(database, {"mail": lambda _m: None}).run_once() == 0  # leased by the first worker
    # the first worker dies: after the lease the message is due again, and the attempt counter goes on
    assert OutboxWorker(database, {"mail": lambda _m: None}).run_once(now=LATER) == 1
    assert attempts(database, "k1") == [(1, "started"), (2, "delivered")]


# --- aTAX --------------------------------------------------------------------------------------------------


def fiscalize(vsdc: Vsdc, **changes: Any) -> dict[str, Any]:
    return service.fiscalize(
        vsdc.db, vsdc.settings, cert_serial=vsdc.serial, fields=parse_body(seed_json(**changes), "json")
    )


def test_signed_invoices_reach_the_atax_sandbox_checked_and_stored(vsdc: Vsdc, tmp_path: Path) -> None:
    fiscalize(vsdc, itype="Normal")
    fiscalize(vsdc, itype="Normal", ttype="Refund", ino="2")
    worker = OutboxWorker(vsdc.db, deliverers(vsdc.settings, vsdc.db))
    assert worker.run_once(now=LATER) == 3  # the device, then its two invoices
    received = AtaxSandbox(tmp_path / "atax").invoices("777777777")
    assert [(r["ino"], r["invoiceCount"]) for r in received] == [("xxxxxxxxxxxxxxx", 1), ("2", 2)]
    assert received[1]["counters"]["refundTotal"] == "12120.00"
    with vsdc.db.read() as conn:
        [row] = [s for s in outbox.status(conn) if s.kind == service.ATAX_INVOICE]
    assert (row.pending, row.delivered, row.failed) == (0, 2, 0)


def test_delivery_survives_an_outage_and_a_restart_and_reaches_atax_exactly_once(vsdc: Vsdc, tmp_path: Path) -> None:
    fiscalize(vsdc)
    state = tmp_path / "atax"
    real = sandbox_transport(state)
    calls: list[str] = []

    def down(path: str, key: str, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        calls.append(key)
        raise DeliveryRetryable("connection refused")

    def answer_lost(path: str, key: str, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        calls.append(key)
        real(path, key, payload)  # received and stored, but the answer never comes back
        raise DeliveryRetryable("read timeout")

    assert OutboxWorker(vsdc.db, deliverers(vsdc.settings, vsdc.db, down)).run_once(now=LATER) == 2
    assert AtaxSandbox(state).invoices("777777777") == []
    OutboxWorker(vsdc.db, deliverers(vsdc.settings, vsdc.db, answer_lost)).run_once(now=LATER)
    # the process restarts: a new database handle, a new worker, the real transport
    restarted = Database(vsdc.settings.database_url)
    try:
        assert OutboxWorker(restarted, deliverers(vsdc.settings, restarted)).run_once(now=LATER) == 2
        with restarted.read() as conn:
            statuses = {s.kind: (s.pending, s.delivered, s.failed) for s in outbox.status(conn)}
    finally:
        restarted.dispose()
    assert statuses == {service.ATAX_DEVICE: (0, 1, 0), service.ATAX_INVOICE: (0, 1, 0)}
    assert len(AtaxSandbox(state).invoices("777777777")) == 1
    key = "vsdc-invoice:777777777:xxxxxxxxxxxxxxx"
    assert attempts(vsdc.db, key) == [(1, "retry"), (2, "retry"), (3, "delivered")]


def test_the_sandbox_refuses_a_tampered_signature_or_foreign_internal_data(vsdc: Vsdc, tmp_path: Path) -> None:
    fiscalize(vsdc)
    sent: list[dict[str, Any]] = []
    real = sandbox_transport(tmp_path / "atax")

    def keep(path: str, key: str, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        sent.append(payload)
        return real(path, key, payload)

    OutboxWorker(vsdc.db, deliverers(vsdc.settings, vsdc.db, keep)).run_once(now=LATER)
    sandbox = AtaxSandbox(tmp_path / "atax2")
    assert sandbox.receive_device("d", sent[0]) == (200, {"status": "accepted"})
    invoice = dict(sent[1])
    signature = bytearray(base64.b64decode(invoice["signature"]))
    signature[-1] ^= 1
    status, body = sandbox.receive_invoice("i1", invoice | {"signature": base64.b64encode(signature).decode()})
    assert (status, body) == (422, {"error": "the signature does not verify with the device's key"})
    document = json.loads(base64.b64decode(invoice["document"]))
    assert document["internalData"] == invoice["internalData"]
    status, body = sandbox.receive_invoice("i2", invoice | {"internalData": "AAAA"})
    assert (status, body) == (422, {"error": "the signed document is not this invoice"})
    assert sandbox.invoices("777777777") == []
    assert sandbox.receive_invoice("i3", invoice) == (200, {"status": "accepted"})
    assert sandbox.receive_invoice("i3", invoice) == (200, {"status": "duplicate"})
    assert len(sandbox.invoices("777777777")) == 1


def test_an_invoice_before_its_device_is_retried_not_rejected(vsdc: Vsdc, tmp_path: Path) -> None:
    fiscalize(vsdc)
    real = sandbox_transport(tmp_path / "atax")
    answers: list[int] = []

    def devices_down(path: str, key: str, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        status, body = (503, {"error": "maintenance"}) if path.endswith("/devices") else real(path, key, payload)
        answers.append(status)
        return status, body

    OutboxWorker(vsdc.db, deliverers(vsdc.settings, vsdc.db, devices_down)).run_once(now=LATER)
    assert answers == [503, 409]
    with vsdc.db.read() as conn:
        assert outbox.message_status(conn, "vsdc-invoice:777777777:xxxxxxxxxxxxxxx") == "pending"
