"""The outbox's SQL: enqueue in the caller's transaction, claim and finish an attempt, status counts, and the
later confirmations of receivers that give ids of their own (``record_acceptance``, ``confirm``)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, and_, func, insert, or_, select, update

from openvcr.outbox.models import (
    DELIVERED,
    FAILED,
    HANDED_OVER,
    PENDING,
    SENT,
    STARTED,
    KindStatus,
    MessageInfo,
    OutboxMessage,
)
from openvcr.store.db import now_ms
from openvcr.store.schema.confirmations import outbox_confirmations
from openvcr.store.schema.outbox import outbox_attempts, outbox_messages


def enqueue(conn: Connection, kind: str, key: str, payload: Mapping[str, Any]) -> int:
    """Add a message in the caller's transaction; return its id (the existing one for a known key)."""
    if not kind or not key:
        raise ValueError("an outbox message needs a kind and a key")
    existing = conn.execute(select(outbox_messages.c.id).where(outbox_messages.c.key == key)).scalar()
    if existing is not None:
        return int(existing)
    now = now_ms()
    message_id = conn.execute(
        insert(outbox_messages)
        .values(
            kind=kind,
            key=key,
            payload=json.dumps(dict(payload), sort_keys=True, separators=(",", ":")),
            status=PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        .returning(outbox_messages.c.id)
    ).scalar_one()
    return int(message_id)


def _due(kinds: Iterable[str], now: int) -> Any:
    return (
        outbox_messages.c.status == PENDING,
        outbox_messages.c.kind.in_(sorted(kinds)),
        outbox_messages.c.next_attempt_at <= now,
        or_(outbox_messages.c.locked_until.is_(None), outbox_messages.c.locked_until <= now),
    )


def any_due(conn: Connection, kinds: Iterable[str], now: int) -> bool:
    """Whether a message of ``kinds`` is due at ``now`` (a read: no write lock is taken to find nothing)."""
    return conn.execute(select(outbox_messages.c.id).where(*_due(kinds, now)).limit(1)).first() is not None


def claim(
    conn: Connection,
    kinds: Iterable[str],
    now: int,
    *,
    lease_ms: int,
    exclude: Iterable[int] = (),
    skip_locked: bool = False,
) -> OutboxMessage | None:
    """Take the oldest due message of ``kinds`` (not in ``exclude``): lease it and record the start of an attempt.

    ``skip_locked`` (PostgreSQL) passes over rows another worker is claiming at the same moment.
    """
    query = (
        select(outbox_messages)
        .where(*_due(kinds, now))
        .order_by(outbox_messages.c.next_attempt_at, outbox_messages.c.id)
        .limit(1)
    )
    excluded = sorted(exclude)
    if excluded:
        query = query.where(outbox_messages.c.id.not_in(excluded))
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    row = conn.execute(query).first()
    if row is None:
        return None
    attempt = int(row.attempts) + 1
    conn.execute(
        update(outbox_messages)
        .where(outbox_messages.c.id == row.id)
        .values(attempts=attempt, locked_until=now + lease_ms)
    )
    conn.execute(insert(outbox_attempts).values(message_id=row.id, attempt=attempt, started_at=now, outcome=STARTED))
    return OutboxMessage(id=row.id, kind=row.kind, key=row.key, payload=json.loads(row.payload), attempt=attempt)


def finish(
    conn: Connection, message: OutboxMessage, outcome: str, error: str | None, *, now: int, next_attempt_at: int
) -> None:
    """Record how an attempt ended (``delivered``, ``sent``, ``failed`` or ``retry`` at ``next_attempt_at``); free
    the lease. ``sent``: the receiver accepted it and confirms later (receipts that came first settle it now)."""
    values: dict[str, Any] = {"locked_until": None, "last_error": error}
    if outcome == "delivered":
        values.update(status=DELIVERED, delivered_at=now)
    elif outcome == SENT:
        values.update(status=SENT)
    elif outcome == "failed":
        values.update(status=FAILED)
    else:
        values.update(next_attempt_at=next_attempt_at)
    conn.execute(update(outbox_messages).where(outbox_messages.c.id == message.id).values(**values))
    conn.execute(
        update(outbox_attempts)
        .where(
            and_(
                outbox_attempts.c.message_id == message.id,
                outbox_attempts.c.attempt == message.attempt,
            )
        )
        .values(finished_at=now, outcome=outcome, error=error)
    )
    if outcome == SENT:
        _settle(conn, message.id, now)


def status(conn: Connection, kinds: Iterable[str] | None = None) -> list[KindStatus]:
    """How many messages of each kind are pending, delivered, failed; the oldest pending one's time."""
    query = select(
        outbox_messages.c.kind,
        outbox_messages.c.status,
        func.count().label("n"),
        func.min(outbox_messages.c.created_at).label("oldest"),
    ).group_by(outbox_messages.c.kind, outbox_messages.c.status)
    if kinds is not None:
        query = query.where(outbox_messages.c.kind.in_(list(kinds)))
    counts: dict[str, dict[str, int]] = {}
    oldest: dict[str, int] = {}
    for row in conn.execute(query):
        counts.setdefault(row.kind, {})[row.status] = int(row.n)
        if row.status == PENDING:
            oldest[row.kind] = int(row.oldest)
    return [
        KindStatus(
            kind=kind,
            pending=by_status.get(PENDING, 0),
            delivered=by_status.get(DELIVERED, 0),
            failed=by_status.get(FAILED, 0),
            oldest_pending_at=oldest.get(kind),
            sent=by_status.get(SENT, 0),
        )
        for kind, by_status in sorted(counts.items())
    ]


def message_status(conn: Connection, key: str) -> str | None:
    """The status of the message with this key (None when there is none)."""
    value = conn.execute(select(outbox_messages.c.status).where(outbox_messages.c.key == key)).scalar()
    return None if value is None else str(value)


def mark_handed_over(conn: Connection, message: OutboxMessage) -> None:
    """Record that this attempt reached its point of no return (the receiver may have the message from now on)."""
    conn.execute(
        update(outbox_attempts)
        .where(
            outbox_attempts.c.message_id == message.id,
            outbox_attempts.c.attempt == message.attempt,
            outbox_attempts.c.outcome == STARTED,
        )
        .values(outcome=HANDED_OVER)
    )


def handed_over_before(conn: Connection, message: OutboxMessage) -> int | None:
    """The number of an earlier attempt that was handed over and never finished (its process stopped), if any."""
    value = conn.execute(
        select(func.min(outbox_attempts.c.attempt)).where(
            outbox_attempts.c.message_id == message.id,
            outbox_attempts.c.attempt < message.attempt,
            outbox_attempts.c.outcome == HANDED_OVER,
        )
    ).scalar()
    return None if value is None else int(value)


def list_messages(
    conn: Connection,
    kinds: Iterable[str] | None = None,
    status: str | None = None,
    limit: int = 50,
    *,
    key_prefix: str | None = None,
) -> list[MessageInfo]:
    """The newest messages (of ``kinds``, in ``status``, whose key starts with ``key_prefix``), newest first,
    with their last error and the receiver's ids of their parts."""
    query = select(outbox_messages).order_by(outbox_messages.c.id.desc()).limit(limit)
    if key_prefix is not None:
        escaped = key_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(outbox_messages.c.key.like(escaped + "%", escape="\\"))
    if kinds is not None:
        query = query.where(outbox_messages.c.kind.in_(list(kinds)))
    if status is not None:
        query = query.where(outbox_messages.c.status == status)
    rows = list(conn.execute(query))
    remote: dict[int, list[str]] = {}
    if rows:
        parts = conn.execute(
            select(outbox_confirmations.c.message_id, outbox_confirmations.c.remote_id)
            .where(outbox_confirmations.c.message_id.in_([row.id for row in rows]))
            .order_by(outbox_confirmations.c.message_id, outbox_confirmations.c.part)
        )
        for part in parts:
            remote.setdefault(int(part.message_id), []).append(part.remote_id)
    return [
        MessageInfo(
            id=int(row.id),
            kind=row.kind,
            key=row.key,
            status=row.status,
            attempts=int(row.attempts),
            next_attempt_at=int(row.next_attempt_at),
            last_error=row.last_error,
            created_at=int(row.created_at),
            delivered_at=None if row.delivered_at is None else int(row.delivered_at),
            remote_ids=tuple(remote.get(int(row.id), ())),
        )
        for row in rows
    ]


def payload_of(conn: Connection, message_id: int) -> tuple[str, str, dict[str, Any]] | None:
    """The kind, key and payload of a message (None when there is none)."""
    row = conn.execute(
        select(outbox_messages.c.kind, outbox_messages.c.key, outbox_messages.c.payload).where(
            outbox_messages.c.id == message_id
        )
    ).first()
    return None if row is None else (row.kind, row.key, json.loads(row.payload))


def requeue(conn: Connection, message_id: int, payload: Mapping[str, Any]) -> bool:
    """Make a delivered or failed message due again now, with ``payload`` (a replay: the same key, later
    attempts numbered on); False when it is pending already or does not exist."""
    now = now_ms()
    result = conn.execute(
        update(outbox_messages)
        .where(outbox_messages.c.id == message_id, outbox_messages.c.status != PENDING)
        .values(
            status=PENDING,
            next_attempt_at=now,
            locked_until=None,
            last_error=None,
            delivered_at=None,
            payload=json.dumps(dict(payload), sort_keys=True, separators=(",", ":")),
        )
    )
    return bool(result.rowcount)


# ---- receivers that confirm later (an SMSC's delivery receipts) ---------------------------------------------


def record_acceptance(conn: Connection, message: OutboxMessage, part: int, remote_id: str, *, now: int) -> None:
    """Record that the receiver accepted ``part`` of ``message`` under its own id ``remote_id`` (own transaction,
    at once: a later attempt does not send that part again, and its receipt finds the message)."""
    conn.execute(
        insert(outbox_confirmations).values(
            message_id=message.id, part=part, remote_id=remote_id, accepted_at=now, outcome=None
        )
    )


def accepted_parts(conn: Connection, message: OutboxMessage) -> dict[int, str]:
    """The parts of ``message`` a receiver already accepted (part → its id)."""
    rows = conn.execute(
        select(outbox_confirmations.c.part, outbox_confirmations.c.remote_id).where(
            outbox_confirmations.c.message_id == message.id
        )
    )
    return {int(row.part): row.remote_id for row in rows}


def confirm(
    conn: Connection, kinds: Iterable[str], remote_id: str, *, delivered: bool, detail: str | None, now: int
) -> int | None:
    """A receiver's receipt for its id ``remote_id`` (of a message of ``kinds``): record it and settle the message
    once it is ``sent`` (every part delivered → ``delivered``; a part failed → ``failed`` with ``detail``).
    Returns the message's id; None when no message of ``kinds`` waits for that id (nothing is changed)."""
    row = conn.execute(
        select(outbox_confirmations.c.id, outbox_confirmations.c.message_id)
        .join(outbox_messages, outbox_messages.c.id == outbox_confirmations.c.message_id)
        .where(
            outbox_confirmations.c.remote_id == remote_id,
            outbox_confirmations.c.outcome.is_(None),
            outbox_messages.c.kind.in_(sorted(kinds)),
        )
        .order_by(outbox_confirmations.c.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    conn.execute(
        update(outbox_confirmations)
        .where(outbox_confirmations.c.id == row.id)
        .values(outcome=DELIVERED if delivered else FAILED, detail=detail, confirmed_at=now)
    )
    _settle(conn, int(row.message_id), now)
    return int(row.message_id)


def _settle(conn: Connection, message_id: int, now: int) -> None:
    """Move a ``sent`` message to ``delivered`` or ``failed`` once its parts' receipts say so."""
    parts = list(
        conn.execute(
            select(outbox_confirmations.c.outcome, outbox_confirmations.c.detail)
            .where(outbox_confirmations.c.message_id == message_id)
            .order_by(outbox_confirmations.c.part)
        )
    )
    failed = [part for part in parts if part.outcome == FAILED]
    waiting = [part for part in parts if part.outcome is None]
    sent = and_(outbox_messages.c.id == message_id, outbox_messages.c.status == SENT)
    if failed:
        conn.execute(
            update(outbox_messages).where(sent).values(status=FAILED, last_error=failed[0].detail or "not delivered")
        )
    elif parts and not waiting:
        conn.execute(update(outbox_messages).where(sent).values(status=DELIVERED, delivered_at=now))
