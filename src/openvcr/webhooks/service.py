"""Signed webhooks: endpoints per business entity, and events emitted in the transaction of what they tell.

Rules:
- An endpoint belongs to a business entity: a key (with the ``webhooks`` scope) of any register of the entity
  sees, creates and deletes the entity's endpoints, and never another entity's (404, as if it did not exist).
- ``emit(conn, register_id, event, data)`` runs in the caller's transaction: one outbox message (kind
  ``webhook``) per active endpoint of the register's entity that takes ``event``, so a delivery exists exactly
  when what it tells was committed. Nothing is written when no endpoint takes the event.
- An event has one id (``evt_…``), the same for every endpoint and on every attempt and replay; its body is
  serialized once, at emission (``{"id", "type", "createdAt", "data"}``), and sent byte for byte each time.
- A delivery's key is ``webhook:<endpoint id>:<event type>:<event id>``.
- A replay makes a finished delivery due again with a fresh retry window (the same body and event id).
- The secret of an endpoint is returned once, by ``create_endpoint``; at rest it is sealed under the master
  key (``core.webhooks``).

Producers outside the document engine (``report.z``, ``certificate.expiring``) call ``emit`` with the
register whose event it is, inside their own transaction.
"""

from __future__ import annotations

import hashlib
import ipaddress
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import urlsplit

from sqlalchemy import Connection

from openvcr.config import Settings
from openvcr.core.errors import Conflict, NotFound, ValidationFailed
from openvcr.core.webhooks import new_secret, seal_secret
from openvcr.outbox import repository as outbox
from openvcr.outbox.models import PENDING, MessageInfo
from openvcr.schemas import json_bytes
from openvcr.store.db import Database, now_ms
from openvcr.webhooks import repository as repo
from openvcr.webhooks.models import (
    ACTIVE,
    DELETED,
    DISABLED,
    EVENTS,
    WEBHOOK,
    CreatedEndpoint,
    Delivery,
    Endpoint,
)

MAX_ENDPOINTS: Final = 20
"""Endpoints (not deleted) one business entity may have."""


def secret_context(endpoint_id: int) -> bytes:
    return f"webhook-endpoint:{endpoint_id}".encode("ascii")


def delivery_key(endpoint_id: int, event: str, event_id: str) -> str:
    return f"{WEBHOOK}:{endpoint_id}:{event}:{event_id}"


def iso_time(ms: int) -> str:
    """``2026-12-07T14:33:28.123Z``."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def event_body(event_id: str, event: str, created_at: int, data: Mapping[str, Any]) -> bytes:
    """The JSON body every endpoint gets for one event."""
    return json_bytes({"id": event_id, "type": event, "createdAt": iso_time(created_at), "data": dict(data)})


def emit(
    conn: Connection, register_id: int, event: str, data: Mapping[str, Any], *, once_as: str | None = None
) -> list[int]:
    """Emit ``event`` of the register in the caller's transaction; return the outbox messages' ids (one per
    active endpoint of the register's entity that takes the event; none when there is none). ``data`` gets the
    register's id as ``registerId``; its values are JSON-able (Decimals are written as JSON numbers).

    ``once_as`` names the occurrence for producers that may tell the same thing more than once (several
    processes, every maintenance pass): the event id is derived from it, so emitting it again adds nothing."""
    if event not in EVENTS:
        raise ValueError(f"unknown webhook event {event!r}")
    endpoint_ids = repo.subscribed(conn, register_id, event)
    if not endpoint_ids:
        return []
    if once_as is None:
        event_id = "evt_" + uuid.uuid4().hex
    else:
        event_id = "evt_" + hashlib.sha256(f"{register_id}:{event}:{once_as}".encode()).hexdigest()[:32]
    created = now_ms()
    body = event_body(event_id, event, created, {**data, "registerId": register_id}).decode("utf-8")
    return [
        outbox.enqueue(
            conn,
            WEBHOOK,
            delivery_key(endpoint_id, event, event_id),
            {"endpointId": endpoint_id, "eventId": event_id, "type": event, "body": body, "firstAt": created},
        )
        for endpoint_id in endpoint_ids
    ]


# ---- endpoints -----------------------------------------------------------------------------------------------


def private_host(url: str) -> bool:
    """Whether the URL names ``localhost`` or a loopback, private, link-local or unspecified IP address (by its
    literal host; a name is not resolved)."""
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_private or address.is_loopback or address.is_link_local or address.is_unspecified


def private_urls_allowed(settings: Settings) -> bool:
    """``OPENVCR_WEBHOOK_PRIVATE_URLS``, by default allowed except in production."""
    if settings.webhook_private_urls is not None:
        return settings.webhook_private_urls
    return settings.environment != "production"


def create_endpoint(
    db: Database,
    entity_id: int,
    url: str,
    events: tuple[str, ...],
    master_key: str,
    key_id: int | None = None,
    *,
    allow_private: bool = True,
) -> CreatedEndpoint:
    """A new active endpoint of the entity, with its secret (shown once). ``url``'s form and ``events`` are
    checked by the caller (``schemas``); a known event list is checked again here, and, unless
    ``allow_private``, a URL naming a private address (``private_host``) is refused."""
    unknown = [e for e in events if e not in EVENTS]
    if unknown or not events:
        raise ValidationFailed.at(["events"], f"unknown event {unknown[0]!r}" if unknown else "no events")
    if not allow_private and private_host(url):
        raise ValidationFailed.at(["url"], "the URL names a local or private address, which this server refuses")
    secret = new_secret()
    with db.write() as conn:
        if len(repo.endpoints(conn, entity_id)) >= MAX_ENDPOINTS:
            raise ValidationFailed.at(["url"], f"a business entity has at most {MAX_ENDPOINTS} webhook endpoints")
        endpoint_id = repo.insert_endpoint(conn, entity_id, url, events, key_id)
        repo.set_secret(conn, endpoint_id, seal_secret(secret, master_key, secret_context(endpoint_id)))
        created = repo.endpoint(conn, endpoint_id)
    assert created is not None
    return CreatedEndpoint(endpoint=created, secret=secret)


def list_endpoints(db: Database, entity_id: int | None = None) -> list[Endpoint]:
    with db.read() as conn:
        return repo.endpoints(conn, entity_id)


def _own(conn: Connection, entity_id: int | None, endpoint_id: int) -> Endpoint:
    found = repo.endpoint(conn, endpoint_id, entity_id)
    if found is None or found.status == DELETED:
        raise NotFound(f"no webhook endpoint with id {endpoint_id}")
    return found


def delete_endpoint(db: Database, entity_id: int, endpoint_id: int) -> Endpoint:
    """Delete the endpoint: nothing more is delivered to it (pending deliveries fail on their next attempt)."""
    with db.write() as conn:
        found = _own(conn, entity_id, endpoint_id)
        repo.set_status(conn, endpoint_id, DELETED, found.status_reason, only_if=(ACTIVE, DISABLED))
        deleted = repo.endpoint(conn, endpoint_id)
    assert deleted is not None
    return deleted


# ---- deliveries ----------------------------------------------------------------------------------------------


def _delivery(info: MessageInfo) -> Delivery:
    _kind, endpoint_id, event, event_id = info.key.split(":", 3)
    return Delivery(
        id=info.id,
        endpoint_id=int(endpoint_id),
        event_id=event_id,
        event_type=event,
        status=info.status,
        attempts=info.attempts,
        last_error=info.last_error,
        created_at=info.created_at,
        delivered_at=info.delivered_at,
    )


def list_deliveries(
    db: Database, entity_id: int | None, endpoint_id: int, status: str | None = None, limit: int = 50
) -> list[Delivery]:
    """The endpoint's deliveries, newest first (``entity_id``: the caller's; None for the operator)."""
    with db.read() as conn:
        _own(conn, entity_id, endpoint_id)
        infos = outbox.list_messages(conn, [WEBHOOK], status, limit, key_prefix=f"{WEBHOOK}:{endpoint_id}:")
    return [_delivery(info) for info in infos]


def replay(db: Database, entity_id: int | None, endpoint_id: int, delivery_id: int) -> Delivery:
    """Deliver a finished delivery again, soon, with a fresh retry window (same event id and body)."""
    with db.write() as conn:
        endpoint = _own(conn, entity_id, endpoint_id)
        found = outbox.payload_of(conn, delivery_id)
        if found is None or found[0] != WEBHOOK or not found[1].startswith(f"{WEBHOOK}:{endpoint_id}:"):
            raise NotFound(f"no delivery {delivery_id} of webhook endpoint {endpoint_id}")
        if endpoint.status != ACTIVE:
            raise Conflict(f"webhook endpoint {endpoint_id} is {endpoint.status}; nothing is delivered to it")
        if not outbox.requeue(conn, delivery_id, {**found[2], "firstAt": now_ms()}):
            raise Conflict(f"delivery {delivery_id} is {PENDING} already")
        [info] = outbox.list_messages(conn, [WEBHOOK], None, 1, key_prefix=found[1])
    return _delivery(info)
