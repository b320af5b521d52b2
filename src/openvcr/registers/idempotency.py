"""Idempotency keys: one key → at most one fiscal document, and the same response on every replay.

Rules:
- Keys are scoped to the register and kept at least 24 h (``OPENVCR_IDEMPOTENCY_RETENTION_HOURS``).
- The first request with a key records it ``pending`` with a hash of the request; the response is stored
  when the request completes. The same key with the same request → the stored response (replayed); with a
  different request (or on another route) → 409.
- A request that failed without registering anything (4xx, 503) forgets its key, so the caller may retry.
- A request whose document is still in doubt keeps its key ``pending``; a retry resumes that document (the
  document key is derived from the idempotency key), never starting a second one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from openvcr.core.errors import Conflict
from openvcr.store.db import Database, now_ms
from openvcr.store.schema.sales import idempotency_keys


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    body: bytes


def request_hash(route: str, payload: Any) -> str:
    return hashlib.sha256(route.encode() + b"\n" + orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()


def begin(db: Database, register_id: int, key: str, route: str, digest: str) -> StoredResponse | None:
    """Record the key (or find it). A stored response means: replay it."""
    with db.write() as conn:
        row = conn.execute(
            select(idempotency_keys).where(idempotency_keys.c.register_id == register_id, idempotency_keys.c.key == key)
        ).first()
        if row is None:
            try:
                with conn.begin_nested():
                    conn.execute(
                        insert(idempotency_keys).values(
                            register_id=register_id,
                            key=key,
                            route=route,
                            request_hash=digest,
                            state="pending",
                            created_at=now_ms(),
                        )
                    )
            except IntegrityError as exc:
                raise Conflict("A request with this Idempotency-Key is already in progress") from exc
            return None
    if row.route != route or row.request_hash != digest:
        raise Conflict("This Idempotency-Key was already used with a different request")
    if row.state == "done":
        return StoredResponse(int(row.status_code), str(row.response).encode("utf-8"))
    return None  # pending: the caller resumes the same document


def finish(db: Database, register_id: int, key: str, status_code: int, body: bytes) -> None:
    with db.write() as conn:
        conn.execute(
            update(idempotency_keys)
            .where(idempotency_keys.c.register_id == register_id, idempotency_keys.c.key == key)
            .values(state="done", status_code=status_code, response=body.decode("utf-8"))
        )


def forget(db: Database, register_id: int, key: str) -> None:
    with db.write() as conn:
        conn.execute(
            delete(idempotency_keys).where(
                idempotency_keys.c.register_id == register_id,
                idempotency_keys.c.key == key,
                idempotency_keys.c.state == "pending",
            )
        )


def purge(db: Database, older_than_ms: int) -> int:
    """Forget completed keys older than the retention period; return how many."""
    with db.write() as conn:
        result = conn.execute(
            delete(idempotency_keys).where(
                idempotency_keys.c.created_at < older_than_ms, idempotency_keys.c.state == "done"
            )
        )
        return int(result.rowcount or 0)
