"""Webhook deliveries to a real HTTP receiver on loopback: signed (verified with the SDK's helper), retried
after a non-2xx answer, a timeout or a receiver that is down, failed after the retry window, a 410 disabling
the endpoint, every attempt recorded, and a replay sending the same event again."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from openvcr.authority.factory import build_gateway
from openvcr.authority.service import SrcService
from openvcr.client import WebhookVerificationError, verify_webhook
from openvcr.config import Settings
from openvcr.core.errors import Conflict, NotFound
from openvcr.outbox.worker import OutboxWorker
from openvcr.registers.repository import get_register
from openvcr.registers.service import initialize
from openvcr.store.db import Database
from openvcr.store.schema.outbox import outbox_attempts, outbox_messages
from openvcr.webhooks import service
from openvcr.webhooks.delivery import webhook_worker
from tests.e2e.server import free_port
from tests.integration.foundation.conftest import make_settings
from tests.integration.webhooks.receiver import Receiver

LATER = 10**15  # a ``now`` past every backoff: the message is due again at once


@dataclass
class Hooks:
    db: Database
    settings: Settings
    register_id: int
    entity_id: int
    receiver: Receiver

    def endpoint(self, events: tuple[str, ...] = ("sale.completed",), url: str | None = None) -> tuple[int, str]:
        created = service.create_endpoint(
            self.db, self.entity_id, url or self.receiver.url, events, self.settings.master_key.get_secret_value()
        )
        return created.endpoint.id, created.secret

    def emit(self, event: str = "sale.completed", **data: Any) -> list[int]:
        with self.db.write() as conn:
            return service.emit(conn, self.register_id, event, data or {"saleId": 1})

    def worker(self) -> OutboxWorker:
        return webhook_worker(self.settings, self.db)

    def message(self, message_id: int) -> Any:
        with self.db.read() as conn:
            return conn.execute(select(outbox_messages).where(outbox_messages.c.id == message_id)).one()

    def attempts(self, message_id: int) -> list[tuple[int, str, str | None]]:
        with self.db.read() as conn:
            rows = conn.execute(
                select(outbox_attempts.c.attempt, outbox_attempts.c.outcome, outbox_attempts.c.error)
                .where(outbox_attempts.c.message_id == message_id)
                .order_by(outbox_attempts.c.attempt)
            ).all()
        return [(int(r.attempt), r.outcome, r.error) for r in rows]


def _hooks(database: Database, db_url: str, tmp_path: Path, **overrides: object) -> Iterator[Hooks]:
    settings = make_settings(db_url, tmp_path, webhook_timeout_seconds=0.5, **overrides)
    result = initialize(database, settings, SrcService(database, build_gateway(settings), settings))
    with database.read() as conn:
        entity_id = get_register(conn, result.register_id).entity_id
    with Receiver(free_port()) as receiver:
        yield Hooks(database, settings, result.register_id, entity_id, receiver)


@pytest.fixture
def hooks(database: Database, db_url: str, tmp_path: Path) -> Iterator[Hooks]:
    yield from _hooks(database, db_url, tmp_path)


def test_a_delivery_is_signed_and_verifies_with_the_sdk_helper(hooks: Hooks) -> None:
    _endpoint_id, secret = hooks.endpoint()
    [message_id] = hooks.emit(saleId=5, total=1.5)
    assert hooks.worker().run_once() == 1
    [request] = hooks.receiver.received
    event = verify_webhook(secret, request.headers["OpenVCR-Signature"], request.body)
    assert event.type == "sale.completed" and event.data == {"saleId": 5, "total": 1.5, "registerId": 1}
    assert request.headers["OpenVCR-Event-Id"] == event.id and request.headers["OpenVCR-Event-Type"] == event.type
    assert request.headers["Content-Type"] == "application/json" and request.path == "/hook"
    assert json.loads(request.body)["id"] == event.id
    assert hooks.message(message_id).status == "delivered"
    assert hooks.attempts(message_id) == [(1, "delivered", None)]
    header = request.headers["OpenVCR-Signature"]
    for bad_secret, bad_header, bad_body in (
        ("whsec_other", header, request.body),
        (secret, header, request.body.replace(b"5", b"6")),
        (secret, header.replace("v1=", "v1=0"), request.body),
        (secret, None, request.body),
        (secret, "v1=abc", request.body),
    ):
        with pytest.raises(WebhookVerificationError):
            verify_webhook(bad_secret, bad_header, bad_body)
    with pytest.raises(WebhookVerificationError, match="tolerance"):
        verify_webhook(secret, header, request.body, now=time.time() + 301)
    assert verify_webhook(secret, header, request.body, tolerance=None, now=time.time() + 10**6).id == event.id


def test_a_non_2xx_answer_is_retried_with_the_same_event_and_each_attempt_recorded(hooks: Hooks) -> None:
    _endpoint_id, secret = hooks.endpoint()
    answers = iter([500, 302, 200])
    hooks.receiver.status = lambda _request: next(answers)
    [message_id] = hooks.emit()
    worker = hooks.worker()
    assert worker.run_once() == 1
    assert worker.run_once() == 0  # backed off: not due yet
    assert worker.run_once(LATER) == 1 and worker.run_once(LATER) == 1
    bodies = hooks.receiver.bodies()
    assert len(bodies) == 3 and len(set(bodies)) == 1
    ids = {verify_webhook(secret, r.headers["OpenVCR-Signature"], r.body).id for r in hooks.receiver.received}
    assert len(ids) == 1
    assert hooks.attempts(message_id) == [(1, "retry", "HTTP 500"), (2, "retry", "HTTP 302"), (3, "delivered", None)]
    assert hooks.message(message_id).status == "delivered"
    assert hooks.worker().run_once(LATER) == 0  # delivered: never again


def test_a_receiver_that_is_down_or_too_slow_is_retried_until_it_answers(hooks: Hooks) -> None:
    hooks.endpoint()
    [message_id] = hooks.emit()
    hooks.receiver.stop()
    worker = hooks.worker()
    assert worker.run_once() == 1
    assert hooks.receiver.received == []

    def slow(_request: Any) -> int:
        time.sleep(1.0)  # longer than the 0.5 s timeout
        return 200

    hooks.receiver.status = slow
    hooks.receiver.start()
    assert worker.run_once(LATER) == 1
    hooks.receiver.status = 200
    assert worker.run_once(LATER) == 1
    attempts = hooks.attempts(message_id)
    assert [(n, outcome) for n, outcome, _ in attempts] == [(1, "retry"), (2, "retry"), (3, "delivered")]
    assert "ConnectError" in str(attempts[0][2]) and "Timeout" in str(attempts[1][2])
    assert len({r.headers["OpenVCR-Event-Id"] for r in hooks.receiver.received}) == 1


def test_410_disables_the_endpoint_and_its_other_deliveries_fail_unsent(hooks: Hooks) -> None:
    endpoint_id, _secret = hooks.endpoint()
    first, second = hooks.emit()[0], hooks.emit()[0]
    hooks.receiver.status = 410
    worker = hooks.worker()
    assert worker.run_once() == 2
    assert len(hooks.receiver.received) == 1
    assert hooks.message(first).status == "failed" and "410" in hooks.message(first).last_error
    assert hooks.message(second).status == "failed" and "disabled" in hooks.message(second).last_error
    [endpoint] = service.list_endpoints(hooks.db, hooks.entity_id)
    assert (endpoint.id, endpoint.status) == (endpoint_id, "disabled")
    assert hooks.emit() == []  # a disabled endpoint gets no new event
    with pytest.raises(Conflict):
        service.replay(hooks.db, hooks.entity_id, endpoint_id, first)


def test_a_delivery_failing_after_the_retry_window_is_failed(database: Database, db_url: str, tmp_path: Path) -> None:
    for hooks in _hooks(database, db_url, tmp_path, webhook_retry_hours=1e-9):
        hooks.endpoint()
        [message_id] = hooks.emit()
        hooks.receiver.status = 503
        assert hooks.worker().run_once() == 1
        message = hooks.message(message_id)
        assert message.status == "failed" and message.last_error.startswith("gave up after")
        assert hooks.worker().run_once(LATER) == 0


def test_a_replay_sends_the_same_event_again_and_is_listed(hooks: Hooks) -> None:
    endpoint_id, secret = hooks.endpoint()
    other_id, _ = hooks.endpoint(url="http://127.0.0.1:9/other")
    [message_id, other_message] = hooks.emit()
    worker = hooks.worker()
    worker.run_once()
    with pytest.raises(Conflict):  # still pending (retrying): nothing to replay
        service.replay(hooks.db, hooks.entity_id, other_id, other_message)
    with pytest.raises(NotFound):  # another endpoint's delivery
        service.replay(hooks.db, hooks.entity_id, other_id, message_id)
    with pytest.raises(NotFound):  # another business
        service.replay(hooks.db, hooks.entity_id + 1, endpoint_id, message_id)
    replayed = service.replay(hooks.db, hooks.entity_id, endpoint_id, message_id)
    assert replayed.status == "pending" and replayed.attempts == 1
    assert worker.run_once() == 1
    first, second = hooks.receiver.received
    assert first.body == second.body and first.headers["OpenVCR-Event-Id"] == second.headers["OpenVCR-Event-Id"]
    verify_webhook(secret, second.headers["OpenVCR-Signature"], second.body)
    [listed] = service.list_deliveries(hooks.db, hooks.entity_id, endpoint_id)
    assert (listed.id, listed.status, listed.attempts, listed.event_type) == (
        message_id,
        "delivered",
        2,
        "sale.completed",
    )
    assert [a[1] for a in hooks.attempts(message_id)] == ["delivered", "delivered"]
