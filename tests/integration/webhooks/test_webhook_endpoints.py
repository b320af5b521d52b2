"""Webhook endpoints through the API: the ``webhooks`` scope, ownership by business entity, the secret shown
once and sealed at rest, and bad input answered 400 with nothing written."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from openvcr.core.webhooks import open_secret
from openvcr.registers.keys import create_key
from openvcr.store.schema.webhooks import webhook_endpoints
from openvcr.webhooks.service import emit, private_urls_allowed, secret_context
from tests.integration.foundation.conftest import Api
from tests.integration.webhooks.helpers import HOOK_URL, add_register, add_webhook, entity_of, webhook_messages


def _count(api: Api) -> int:
    with api.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(webhook_endpoints)).scalar_one())


def test_an_endpoint_is_created_with_its_secret_once_listed_without_it_and_deleted(api: Api) -> None:
    created = add_webhook(api, ["sale.completed", "document.fiscalized", "sale.completed"])
    assert created["secret"].startswith("whsec_") and len(created["secret"]) > 40
    assert created["events"] == ["sale.completed", "document.fiscalized"] and created["url"] == HOOK_URL
    with api.db.read() as conn:
        sealed = conn.execute(select(webhook_endpoints.c.secret_enc)).scalar_one()
    assert created["secret"].encode() not in sealed
    master = api.settings.master_key.get_secret_value()
    assert open_secret(sealed, master, secret_context(created["id"])) == created["secret"]
    listed = api.client.get("/api/v1/webhooks", headers=api.headers).json()
    assert listed == [
        {
            "id": created["id"],
            "url": HOOK_URL,
            "events": ["sale.completed", "document.fiscalized"],
            "status": "active",
            "statusReason": None,
            "createdAt": listed[0]["createdAt"],
        }
    ]
    assert "secret" not in str(listed)
    deleted = api.client.delete(f"/api/v1/webhooks/{created['id']}", headers=api.headers)
    assert deleted.status_code == 200 and deleted.json()["status"] == "deleted"
    assert api.client.get("/api/v1/webhooks", headers=api.headers).json() == []
    again = api.client.delete(f"/api/v1/webhooks/{created['id']}", headers=api.headers)
    assert again.status_code == 404 and again.json()["error"]
    with api.db.write() as conn:  # a deleted endpoint gets no event
        assert emit(conn, api.init.register_id, "sale.completed", {"saleId": 1}) == []


def test_the_webhooks_scope_is_required_and_not_granted_by_default(api: Api) -> None:
    with api.db.write() as conn:
        plain = create_key(conn, api.init.register_id).key  # the default scopes
    headers = {"X-API-KEY": plain}
    for method, path, body in (
        ("POST", "/api/v1/webhooks", {"url": HOOK_URL, "events": ["sale.completed"]}),
        ("GET", "/api/v1/webhooks", None),
        ("DELETE", "/api/v1/webhooks/1", None),
        ("GET", "/api/v1/webhooks/1/deliveries", None),
    ):
        response = api.client.request(method, path, json=body, headers=headers)
        assert response.status_code == 403, (method, path, response.text)
        assert "webhooks" in response.json()["error"]
    assert _count(api) == 0


BAD_INPUT: list[tuple[dict[str, Any], list[str]]] = [
    ({"url": "ftp://example.am/hook", "events": ["sale.completed"]}, ["url"]),
    ({"url": "example.am/hook", "events": ["sale.completed"]}, ["url"]),
    ({"url": "http://", "events": ["sale.completed"]}, ["url"]),
    ({"url": "https://example.am/a b", "events": ["sale.completed"]}, ["url"]),
    ({"url": "https://example.am:99999/", "events": ["sale.completed"]}, ["url"]),
    ({"url": "https://example.am/#x", "events": ["sale.completed"]}, ["url"]),
    ({"url": "https://example.am/" + "a" * 2000, "events": ["sale.completed"]}, ["url"]),
    ({"url": HOOK_URL, "events": []}, ["events"]),
    ({"url": HOOK_URL, "events": ["sale.created"]}, ["events"]),
    ({"url": HOOK_URL}, ["events"]),
    ({"events": ["sale.completed"]}, ["url"]),
    ({"url": 7, "events": ["sale.completed"]}, ["url"]),
]


def test_bad_input_is_400_with_the_field_and_writes_nothing(api: Api) -> None:
    for body, path in BAD_INPUT:
        response = api.client.post("/api/v1/webhooks", json=body, headers=api.headers)
        assert response.status_code == 400, (body, response.text)
        envelope = response.json()
        assert envelope["error"] and envelope["requestId"]
        assert [issue["path"][:1] for issue in envelope["issues"]] == [path], body
    assert _count(api) == 0
    assert api.client.delete("/api/v1/webhooks/0", headers=api.headers).status_code == 400
    assert api.client.get("/api/v1/webhooks/x/deliveries", headers=api.headers).status_code == 400
    assert api.client.get("/api/v1/webhooks/1/deliveries?status=lost", headers=api.headers).status_code == 400
    assert api.client.delete("/api/v1/webhooks/1", headers=api.headers).status_code == 404


def test_a_business_sees_its_endpoints_from_any_of_its_registers_and_never_another_ones(api: Api) -> None:
    mine = add_webhook(api, ["sale.completed"])
    sibling, _ = add_register(api.db, entity_of(api))
    stranger, stranger_register = add_register(api.db, None)
    seen = api.client.get("/api/v1/webhooks", headers={"X-API-KEY": sibling}).json()
    assert [e["id"] for e in seen] == [mine["id"]]
    assert api.client.get("/api/v1/webhooks", headers={"X-API-KEY": stranger}).json() == []
    for method, path in (
        ("DELETE", f"/api/v1/webhooks/{mine['id']}"),
        ("GET", f"/api/v1/webhooks/{mine['id']}/deliveries"),
        ("POST", f"/api/v1/webhooks/{mine['id']}/deliveries/1/replay"),
    ):
        response = api.client.request(method, path, headers={"X-API-KEY": stranger})
        assert response.status_code == 404, (method, path, response.text)
    theirs = add_webhook(api, ["sale.completed"], url="https://other.example/hook", key=stranger)
    assert [e["id"] for e in api.client.get("/api/v1/webhooks", headers=api.headers).json()] == [mine["id"]]
    # each business's events go to its own endpoints only
    with api.db.write() as conn:
        emit(conn, stranger_register, "sale.completed", {"saleId": 7})
        emit(conn, api.init.register_id, "sale.completed", {"saleId": 8})
    keys = {m["endpointId"]: m["event"]["data"] for m in webhook_messages(api.db)}
    assert keys == {
        theirs["id"]: {"saleId": 7, "registerId": stranger_register},
        mine["id"]: {"saleId": 8, "registerId": api.init.register_id},
    }


def test_private_addresses_are_refused_when_the_settings_say_so_and_nothing_is_written(api: Api) -> None:
    ctx = api.client.app.state.ctx  # type: ignore[attr-defined]
    ctx.settings = api.settings.model_copy(update={"webhook_private_urls": False})
    for url in (
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://api.localhost/hook",
        "https://10.1.2.3/hook",
        "http://192.168.0.7/",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://0.0.0.0/",
    ):
        response = api.client.post(
            "/api/v1/webhooks", json={"url": url, "events": ["sale.completed"]}, headers=api.headers
        )
        assert response.status_code == 400, url
        assert response.json()["issues"][0]["path"] == ["url"]
    assert _count(api) == 0
    add_webhook(api, ["sale.completed"], url="https://93.184.216.34/hook")
    add_webhook(api, ["sale.completed"], url="https://hooks.example.am/hook")
    assert _count(api) == 2
    ctx.settings = api.settings.model_copy(update={"environment": "production"})
    assert not private_urls_allowed(ctx.settings)
    assert private_urls_allowed(
        api.settings.model_copy(update={"environment": "production", "webhook_private_urls": True})
    )
    assert private_urls_allowed(api.settings)
