"""The console's webhooks page: endpoints listed with their status, created through the API's request model
and the webhooks service (the secret shown once), deleted; an endpoint's deliveries listed and one replayed
to a real receiver on loopback; CSRF, roles, bad input and another business's endpoints."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import func, select

from openvcr.store.schema.console import console_audit
from openvcr.webhooks.delivery import webhook_worker
from tests.e2e.server import free_port
from tests.integration.console.conftest import Console
from tests.integration.console.test_web import fresh, sign_in
from tests.integration.webhooks.receiver import Receiver

SECRET = re.compile(r'<code id="new-secret">([^<]+)</code>')


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver(free_port()) as running:
        yield running


def until(condition: Callable[[], bool], seconds: float = 30) -> None:
    """Wait for ``condition`` (a delivery by a worker thread), failing after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.05)


def endpoints(c: Console, business: str = "a") -> list[dict[str, object]]:
    answer = c.client.get("/api/v1/webhooks", headers=c.api(business))
    assert answer.status_code == 200
    return list(answer.json())


def audit_details(c: Console, action: str) -> list[str]:
    with c.db.read() as conn:
        rows = conn.execute(select(console_audit).where(console_audit.c.action == action)).all()
    return [f"{r.target} {r.detail}" for r in rows]


def test_a_developer_adds_an_endpoint_sees_its_secret_once_replays_a_delivery_and_deletes_it(
    two_businesses: Console, receiver: Receiver
) -> None:
    c = two_businesses
    client = fresh(c)
    csrf = sign_in(client, "developer@a.example")
    assert client.get("/console/webhooks").status_code == 200
    made = client.post("/console/webhooks", data={"csrf": csrf, "url": receiver.url, "event": ["sale.completed"]})
    assert made.status_code == 200, made.text
    secret = SECRET.search(made.text)
    assert secret is not None and len(secret.group(1)) >= 32
    [endpoint] = endpoints(c)
    assert (endpoint["url"], endpoint["events"], endpoint["status"]) == (receiver.url, ["sale.completed"], "active")
    listing = client.get("/console/webhooks").text
    assert secret.group(1) not in listing and f'data-webhook="{endpoint["id"]}" data-status="active"' in listing
    [logged] = audit_details(c, "webhook.create")
    assert secret.group(1) not in logged and receiver.url in logged
    dead = client.post(
        "/console/webhooks", data={"csrf": csrf, "url": "http://127.0.0.1:9/down", "event": ["sale.completed"]}
    )
    assert dead.status_code == 200
    dead_id = next(e["id"] for e in endpoints(c) if e["url"] == "http://127.0.0.1:9/down")
    # a sale's event is delivered (by the app's own worker or this one), listed, and replayed: the same event
    # once more
    c.sell("a")
    pending = re.search(r'data-delivery="(\d+)" data-status="pending"', client.get(f"/console/webhooks/{dead_id}").text)
    assert pending is not None  # its receiver is down: retrying, nothing to replay yet (409, nothing changed)
    refused = client.post(f"/console/webhooks/{dead_id}/deliveries/{pending.group(1)}/replay", data={"csrf": csrf})
    assert refused.status_code == 409 and f'data-delivery="{pending.group(1)}" data-status="pending"' in refused.text
    worker = webhook_worker(c.settings, c.db)
    until(lambda: worker.run_once() >= 0 and len(receiver.received) == 1)
    until(lambda: 'data-status="delivered"' in client.get(f"/console/webhooks/{endpoint['id']}").text)
    page = client.get(f"/console/webhooks/{endpoint['id']}")
    delivery = re.search(r'data-delivery="(\d+)" data-status="delivered"', page.text)
    assert delivery is not None and "sale.completed" in page.text
    replay = f"/console/webhooks/{endpoint['id']}/deliveries/{delivery.group(1)}/replay"
    assert client.post(replay, data={}).status_code == 403  # no CSRF token: nothing queued
    assert f'data-delivery="{delivery.group(1)}" data-status="delivered"' in client.get(page.url).text
    assert len(receiver.received) == 1
    replayed = client.post(replay, data={"csrf": csrf})
    assert replayed.status_code == 200 and '<p class="ok" role="status">' in replayed.text
    until(lambda: worker.run_once() >= 0 and len(receiver.received) == 2)
    first, second = receiver.received
    assert first.body == second.body
    assert len(audit_details(c, "webhook.replay")) == 1
    # deleted: no longer listed, nothing more to do with it
    assert client.post(f"/console/webhooks/{endpoint['id']}/delete", data={}).status_code == 403
    assert endpoints(c)[0]["status"] == "active"
    deleted = client.post(f"/console/webhooks/{endpoint['id']}/delete", data={"csrf": csrf}, follow_redirects=False)
    assert deleted.status_code == 303
    assert [e["id"] for e in endpoints(c)] == [dead_id]
    assert f'data-webhook="{endpoint["id"]}"' not in client.get("/console/webhooks").text
    assert client.get(f"/console/webhooks/{endpoint['id']}").status_code == 404
    assert len(audit_details(c, "webhook.delete")) == 1


@pytest.mark.parametrize(
    "form",
    [
        {"url": "ftp://shop.example/hook", "event": ["sale.completed"]},
        {"url": "https://shop.example/hook#x", "event": ["sale.completed"]},
        {"url": "https://shop.example/hook"},
        {"url": "https://shop.example/hook", "event": ["sale.exploded"]},
        {"url": "", "event": ["sale.completed"]},
    ],
)
def test_bad_input_is_a_400_page_and_writes_nothing(two_businesses: Console, form: dict[str, object]) -> None:
    c = two_businesses
    client = fresh(c)
    csrf = sign_in(client, "owner@a.example")
    answer = client.post("/console/webhooks", data={**form, "csrf": csrf})
    assert answer.status_code == 400 and 'role="alert"' in answer.text and "new-secret" not in answer.text
    assert endpoints(c) == [] and audit_details(c, "webhook.create") == []


def test_csrf_roles_and_another_business(two_businesses: Console) -> None:
    c = two_businesses
    owner = fresh(c)
    csrf = sign_in(owner, "owner@a.example")
    form = {"url": "https://a.example/hook", "event": ["report.z"]}
    assert owner.post("/console/webhooks", data=form).status_code == 403
    assert owner.post("/console/webhooks", data={**form, "csrf": "forged"}).status_code == 403
    assert endpoints(c) == []
    assert owner.post("/console/webhooks", data={**form, "csrf": csrf}).status_code == 200
    [mine] = endpoints(c)
    accountant = fresh(c)
    csrf_acc = sign_in(accountant, "accountant@a.example")
    assert accountant.get("/console/webhooks").status_code == 403
    assert accountant.post(f"/console/webhooks/{mine['id']}/delete", data={"csrf": csrf_acc}).status_code == 403
    assert accountant.post("/console/webhooks", data={**form, "csrf": csrf_acc}).status_code == 403
    other = fresh(c)
    csrf_b = sign_in(other, "owner@b.example")
    assert "a.example/hook" not in other.get("/console/webhooks").text
    assert other.get(f"/console/webhooks/{mine['id']}").status_code == 404
    assert other.post(f"/console/webhooks/{mine['id']}/delete", data={"csrf": csrf_b}).status_code == 404
    assert endpoints(c) == [mine] and endpoints(c, "b") == []
    with c.db.read() as conn:
        deletes = select(func.count()).select_from(console_audit).where(console_audit.c.action == "webhook.delete")
        assert conn.execute(deletes).scalar_one() == 0
