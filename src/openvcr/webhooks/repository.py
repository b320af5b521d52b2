"""SQL of signed webhooks: endpoints (``webhook_endpoints``); deliveries are outbox messages (``outbox``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from openvcr.store.db import now_ms
from openvcr.store.schema.documents import documents
from openvcr.store.schema.foundation import registers
from openvcr.store.schema.webhooks import webhook_endpoints
from openvcr.webhooks.models import ACTIVE, DELETED, Endpoint


def _endpoint(row: Any) -> Endpoint:
    return Endpoint(
        id=int(row.id),
        entity_id=int(row.entity_id),
        url=row.url,
        events=tuple(str(row.events).split()),
        status=row.status,
        status_reason=row.status_reason,
        created_at=int(row.created_at),
    )


def insert_endpoint(conn: Connection, entity_id: int, url: str, events: tuple[str, ...], key_id: int | None) -> int:
    """A new active endpoint without its secret (``set_secret`` in the same transaction); its id."""
    new_id = conn.execute(
        insert(webhook_endpoints)
        .values(
            entity_id=entity_id,
            url=url,
            events=" ".join(events),
            status=ACTIVE,
            created_by_key=key_id,
            created_at=now_ms(),
        )
        .returning(webhook_endpoints.c.id)
    ).scalar_one()
    return int(new_id)


def set_secret(conn: Connection, endpoint_id: int, sealed: bytes) -> None:
    conn.execute(update(webhook_endpoints).where(webhook_endpoints.c.id == endpoint_id).values(secret_enc=sealed))


def sealed_secret(conn: Connection, endpoint_id: int) -> bytes | None:
    value = conn.execute(select(webhook_endpoints.c.secret_enc).where(webhook_endpoints.c.id == endpoint_id)).scalar()
    return None if value is None else bytes(value)


def endpoint(conn: Connection, endpoint_id: int, entity_id: int | None = None) -> Endpoint | None:
    """The endpoint (of ``entity_id`` when given), deleted ones included."""
    query = select(webhook_endpoints).where(webhook_endpoints.c.id == endpoint_id)
    if entity_id is not None:
        query = query.where(webhook_endpoints.c.entity_id == entity_id)
    row = conn.execute(query).first()
    return None if row is None else _endpoint(row)


def endpoints(conn: Connection, entity_id: int | None = None, *, with_deleted: bool = False) -> list[Endpoint]:
    """The endpoints of ``entity_id`` (every entity when None), oldest first."""
    query = select(webhook_endpoints).order_by(webhook_endpoints.c.id)
    if entity_id is not None:
        query = query.where(webhook_endpoints.c.entity_id == entity_id)
    if not with_deleted:
        query = query.where(webhook_endpoints.c.status != DELETED)
    return [_endpoint(row) for row in conn.execute(query)]


def set_status(
    conn: Connection, endpoint_id: int, status: str, reason: str | None, *, only_if: tuple[str, ...]
) -> bool:
    """Move the endpoint from one of ``only_if`` to ``status``; False when it was in none of them."""
    result = conn.execute(
        update(webhook_endpoints)
        .where(webhook_endpoints.c.id == endpoint_id, webhook_endpoints.c.status.in_(only_if))
        .values(status=status, status_reason=reason, changed_at=now_ms())
    )
    return bool(result.rowcount)


# Built once: ``emit`` runs on the hot path of every document (building a statement costs more than running it).
_SUBSCRIBED = (
    select(webhook_endpoints.c.id, webhook_endpoints.c.events)
    .select_from(registers.join(webhook_endpoints, webhook_endpoints.c.entity_id == registers.c.entity_id))
    .where(registers.c.id == bindparam("p_register"), webhook_endpoints.c.status == ACTIVE)
    .order_by(webhook_endpoints.c.id)
)


def subscribed(conn: Connection, register_id: int, event: str) -> list[int]:
    """The active endpoints of the register's business entity that take ``event`` (ids, oldest first)."""
    rows = conn.execute(_SUBSCRIBED, {"p_register": register_id}).all()
    return [int(row.id) for row in rows if event in str(row.events).split()]


def register_of_url_id(conn: Connection, url_id: str) -> int | None:
    """The register of the document with this ``urlId``."""
    value = conn.execute(select(documents.c.register_id).where(documents.c.url_id == url_id)).scalar()
    return None if value is None else int(value)
