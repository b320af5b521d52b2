"""Webhooks from a real ``openvcr serve`` (two worker processes) to a real HTTP receiver on loopback.

- A sale made through the API reaches the receiver as ``sale.completed`` exactly once, with a signature the
  SDK's ``verify_webhook`` accepts, also when the receiver was down for a while first (its outage is short
  here; the behaviour, retried attempts then one delivery, is what counts).
- A sale deferred while SRC is unreachable reaches it as ``document.fiscalized`` exactly once, when SRC is
  back and the document is fiscalized late, though the receiver was down when that happened.
- A receiver answering 410 disables its endpoint; a replay (``openvcr webhooks replay``) sends the same event.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx

from openvcr.client import Client, WebhookCreate, verify_webhook
from tests.e2e.sales.test_late_fiscalization import SALE, sandbox_process
from tests.e2e.server import free_port, init_json, openvcr_env, run_cli, serve
from tests.integration.webhooks.receiver import Receiver

T = TypeVar("T")

FAST_RETRIES = {
    "OPENVCR_WEBHOOK_RETRY_BASE_SECONDS": "0.2",
    "OPENVCR_WEBHOOK_RETRY_MAX_SECONDS": "0.5",
    "OPENVCR_WEBHOOK_TIMEOUT_SECONDS": "2",
}


def wait_for(check: Callable[[], T | None], timeout: float = 60.0) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError("timed out")


def _events(receiver: Receiver, secret: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(event id, type, data) of every request the receiver got, each verified with the SDK's helper."""
    out = []
    for request in receiver.received:
        event = verify_webhook(secret, request.headers["OpenVCR-Signature"], request.body)
        assert request.headers["OpenVCR-Event-Id"] == event.id
        out.append((event.id, event.type, event.data))
    return out


def _deliveries(http: httpx.Client, key: str, webhook_id: int) -> list[dict[str, Any]]:
    response = http.get(f"/api/v1/webhooks/{webhook_id}/deliveries", headers={"X-API-KEY": key})
    assert response.status_code == 200, response.text
    return list(response.json())


def test_a_sale_reaches_a_receiver_that_was_down_exactly_once_signed(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'hooks.db'}"
    env = openvcr_env(tmp_path / "sandbox", **FAST_RETRIES)
    init = init_json(database, env)
    key = init["apiKey"]
    receiver = Receiver(free_port())  # down: nothing listens on its port yet
    with (
        Receiver(free_port()) as gone,
        serve(database, env, "--workers", "2") as (base, _process),
        Client(base, key) as vcr,
        httpx.Client(base_url=base, timeout=30) as http,
    ):
        gone.status = 410
        hook = vcr.create_webhook(WebhookCreate(url=receiver.url, events=["sale.completed", "document.fiscalized"]))
        dead = vcr.create_webhook(WebhookCreate(url=gone.url, events=["sale.completed"]))
        assert [w.status for w in vcr.list_webhooks()] == ["active", "active"]
        sale = http.post("/api/v1/sales", json=SALE, headers={"X-API-KEY": key})
        assert sale.status_code == 200, sale.text
        # the receiver is down: attempts fail and are recorded, the delivery stays pending
        wait_for(lambda: [d for d in _deliveries(http, key, hook.id) if d["attempts"] >= 3])
        [pending] = _deliveries(http, key, hook.id)
        assert pending["status"] == "pending" and pending["lastError"] and receiver.received == []
        # the 410 receiver disabled its endpoint after one request
        wait_for(lambda: [w for w in vcr.list_webhooks() if w.id == dead.id and w.status == "disabled"])
        assert len(gone.received) == 1
        receiver.start()
        try:
            wait_for(lambda: receiver.received)
            time.sleep(2.0)  # both worker processes had time to deliver it again: they must not
            [(event_id, event_type, data)] = _events(receiver, hook.secret)
            assert event_type == "sale.completed" and event_id == pending["eventId"]
            created = sale.json()
            assert data["saleId"] == created["saleId"] and data["urlId"] == created["urlId"]
            assert data["receiptUrl"] == created["receiptUrl"] and data["fiscal"] == created["fiscal"]
            [delivered] = _deliveries(http, key, hook.id)
            assert delivered["status"] == "delivered" and delivered["attempts"] >= 4
            # the operator replays it: the same event (same id and body) arrives once more
            done = run_cli(["webhooks", "replay", str(hook.id), str(delivered["id"]), "--database", database], env)
            assert done.returncode == 0, done.stderr
            wait_for(lambda: len(receiver.received) == 2)
            assert receiver.received[0].body == receiver.received[1].body
            listed = run_cli(["webhooks", "deliveries", str(hook.id), "--json", "--database", database], env)
            assert json.loads(listed.stdout)[0]["attempts"] == delivered["attempts"] + 1
            # and through the API (the SDK): once more, the same event
            wait_for(lambda: vcr.list_webhook_deliveries(hook.id, status="delivered"))
            again = vcr.replay_webhook_delivery(hook.id, delivered["id"])
            assert again.status == "pending" and again.event_id == event_id
            wait_for(lambda: len(receiver.received) == 3)
            assert {r.body for r in receiver.received} == {receiver.received[0].body}
        finally:
            receiver.stop()
        assert len(gone.received) == 1  # disabled: never asked again
        assert vcr.delete_webhook(dead.id).status == "deleted"
    endpoints = run_cli(["webhooks", "list", "--json", "--database", database], env)
    assert endpoints.returncode == 0, endpoints.stderr
    assert [(e["id"], e["status"]) for e in json.loads(endpoints.stdout)] == [(hook.id, "active")]


def test_a_deferred_sale_reaches_the_receiver_as_document_fiscalized_once(tmp_path: Path) -> None:
    port = free_port()
    src_url = f"http://127.0.0.1:{port}/taxsystem-rs-vcr"
    env = openvcr_env(
        tmp_path / "unused",
        OPENVCR_SRC_MODE="remote",
        OPENVCR_SRC_URL=src_url,
        OPENVCR_SRC_TIMEOUT_SECONDS="1",
        OPENVCR_SRC_CONNECT_TIMEOUT_SECONDS="1",
        OPENVCR_MAINTENANCE_INTERVAL_SECONDS="0.5",
        OPENVCR_RECOVERY_MIN_AGE_SECONDS="1",
        **FAST_RETRIES,
    )
    database = f"sqlite:///{tmp_path / 'late.db'}"
    with sandbox_process(tmp_path / "src", port, openvcr_env(tmp_path / "unused")):
        init = init_json(database, env)
    done = run_cli(
        ["registers", "update", str(init["vcrId"]), "--late-fiscalization", "on", "--database", database], env
    )
    assert done.returncode == 0, done.stderr
    key = init["apiKey"]
    events = ["sale.completed", "document.deferred", "document.fiscalized"]
    with (
        Receiver(free_port()) as receiver,
        serve(database, env, "--workers", "2") as (base, _process),
        Client(base, key) as vcr,
        httpx.Client(base_url=base, timeout=30) as http,
    ):
        hook = vcr.create_webhook(WebhookCreate(url=receiver.url, events=events))  # type: ignore[arg-type]
        response = http.post("/api/v1/sales", json=SALE, headers={"X-API-KEY": key})  # SRC is down
        assert response.status_code == 502 and response.json()["pending"]["mayResubmit"] is False
        sale_id = response.json()["pending"]["id"]
        wait_for(lambda: len(receiver.received) == 1)  # document.deferred
        receiver.stop()  # the receiver goes down before SRC comes back
        with sandbox_process(tmp_path / "src", port, openvcr_env(tmp_path / "unused")):
            wait_for(
                lambda: [
                    d
                    for d in _deliveries(http, key, hook.id)
                    if d["eventType"] == "document.fiscalized" and d["attempts"] >= 2
                ]
            )
            assert len(receiver.received) == 1
            receiver.start()
            wait_for(lambda: len(receiver.received) >= 3)
            time.sleep(2.0)  # time for a second delivery of anything: there must be none
        received = _events(receiver, hook.secret)
    assert sorted(t for _, t, _ in received) == sorted(events)
    assert len({event_id for event_id, _, _ in received}) == 3
    by_type = {t: data for _, t, data in received}
    assert by_type["document.deferred"]["id"] == sale_id and by_type["document.deferred"]["error"]
    fiscalized = by_type["document.fiscalized"]
    assert fiscalized["saleId"] == sale_id and fiscalized["fiscal"] and fiscalized["crn"] == init["crn"]
    assert fiscalized == by_type["sale.completed"]
