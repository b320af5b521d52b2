"""SQL of pairing (``console.pairing``): connect requests, looked up by the digest of their id or code."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from openvcr.store.schema.foundation import registers
from openvcr.store.schema.pairing import connect_requests


def insert_request(conn: Connection, **values: Any) -> int:
    return int(conn.execute(insert(connect_requests).values(**values).returning(connect_requests.c.id)).scalar_one())


def request_by_hash(conn: Connection, request_hash: str) -> Any | None:
    return conn.execute(select(connect_requests).where(connect_requests.c.request_hash == request_hash)).first()


def request_by_code(conn: Connection, code_hash: str) -> Any | None:
    return conn.execute(select(connect_requests).where(connect_requests.c.code_hash == code_hash)).first()


def decide(conn: Connection, request_id: int, now: int, **values: Any) -> bool:
    """Move a pending, unexpired request on; False when another decision (or its expiry) came first."""
    done = conn.execute(
        update(connect_requests)
        .where(
            connect_requests.c.id == request_id,
            connect_requests.c.status == "pending",
            connect_requests.c.expires_at > now,
        )
        .values(decided_at=now, **values)
    )
    return done.rowcount == 1


def spend_code(conn: Connection, request_id: int, status: str, now: int, key_id: int | None = None) -> bool:
    """Spend an approved request's code (``exchanged`` with its key, or ``burnt``); False if already spent."""
    done = conn.execute(
        update(connect_requests)
        .where(connect_requests.c.id == request_id, connect_requests.c.status == "approved")
        .values(status=status, exchanged_at=now, key_id=key_id)
    )
    return done.rowcount == 1


def usable_registers(conn: Connection, entity_id: int) -> list[Any]:
    """The business's registers a key can be issued for (not disabled), by id."""
    query = (
        select(registers.c.id, registers.c.crn, registers.c.trading_platform_name, registers.c.authority_status)
        .where(registers.c.entity_id == entity_id, registers.c.disabled_at.is_(None))
        .order_by(registers.c.id)
    )
    return list(conn.execute(query).all())


def register_of(conn: Connection, register_id: int) -> Any | None:
    columns = (registers.c.id, registers.c.entity_id, registers.c.crn, registers.c.trading_platform_name,
               registers.c.authority_status, registers.c.disabled_at)  # fmt: skip
    query = select(*columns).where(registers.c.id == register_id)
    return conn.execute(query).first()


def purge(conn: Connection, lapsed_before: int) -> None:
    """Delete requests that lapsed before ``lapsed_before`` and were never exchanged for a key."""
    conn.execute(
        delete(connect_requests).where(
            connect_requests.c.expires_at < lapsed_before, connect_requests.c.key_id.is_(None)
        )
    )
