"""Helpers of the webhook tests: endpoints, outbox messages of kind ``webhook``, a second business."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import insert, select

from openvcr.registers.keys import create_key
from openvcr.store.db import Database, now_ms
from openvcr.store.schema.foundation import business_entities, registers
from openvcr.store.schema.outbox import outbox_messages
from openvcr.webhooks.models import WEBHOOK
from tests.integration.foundation.conftest import Api

HOOK_URL = "http://127.0.0.1:9/hook"  # nothing listens: the app's worker only retries later


def add_webhook(api: Api, events: list[str], url: str = HOOK_URL, key: str | None = None) -> dict[str, Any]:
    headers = {"X-API-KEY": key} if key else api.headers
    response = api.client.post("/api/v1/webhooks", json={"url": url, "events": events}, headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def webhook_messages(db: Database) -> list[dict[str, Any]]:
    """Every ``webhook`` outbox message: its key and payload, the body decoded, oldest first."""
    with db.read() as conn:
        rows = conn.execute(
            select(outbox_messages.c.key, outbox_messages.c.payload, outbox_messages.c.status)
            .where(outbox_messages.c.kind == WEBHOOK)
            .order_by(outbox_messages.c.id)
        ).all()
    out = []
    for row in rows:
        payload = json.loads(row.payload)
        out.append({"key": row.key, "status": row.status, **payload, "event": json.loads(payload["body"])})
    return out


def events_of(db: Database) -> list[str]:
    return [m["type"] for m in webhook_messages(db)]


def add_register(
    db: Database, entity_id: int | None, scopes: tuple[str, ...] = ("webhooks", "sales:read")
) -> tuple[str, int]:
    """A register (of a new business entity when ``entity_id`` is None): an API key of it, and its id."""
    now = now_ms()
    with db.write() as conn:
        if entity_id is None:
            entity_id = conn.execute(
                insert(business_entities)
                .values(tin=f"{now % 10**8:08d}", name="Other LLC", created_at=now)
                .returning(business_entities.c.id)
            ).scalar_one()
        register_id = conn.execute(
            insert(registers)
            .values(
                entity_id=entity_id,
                kind="ehdm",
                mode="sandbox",
                trading_platform_name="Other",
                authority_status="current",
                created_at=now,
            )
            .returning(registers.c.id)
        ).scalar_one()
        return create_key(conn, register_id, scopes).key, int(register_id)


def entity_of(api: Api) -> int:
    with api.db.read() as conn:
        return int(
            conn.execute(select(registers.c.entity_id).where(registers.c.id == api.init.register_id)).scalar_one()
        )
