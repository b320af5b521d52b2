"""A transactional outbox: messages written with the business data, delivered after commit by a worker.

Rules:
- ``enqueue(conn, kind, key, payload)`` runs inside the caller's transaction: the message exists exactly when
  the business data exists. ``key`` is unique (the idempotency key the receiver sees); enqueueing the same key
  again returns the existing message and adds nothing.
- A worker delivers due messages after commit, oldest first, through the deliverer registered for the
  message's ``kind``. A message is claimed with a lease (``locked_until``) so concurrent workers do not deliver
  it at the same time; an expired lease (a worker that died) makes it due again.
- Every try is one ``outbox_attempts`` row, written *before* the delivery starts and completed after it.
- A deliverer raises ``DeliveryRetryable`` (outage, timeout, 5xx: tried again after an exponential backoff
  ``base × 2^(attempt−1)``, capped) or ``DeliveryRejected`` (the receiver refused it for good: ``failed``).
  Any other exception counts as retryable.
- Exactly once from the receiver's point of view: the receiver deduplicates on the key, so a delivery whose
  answer was lost is repeated with the same key and acknowledged without a second effect.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import typer
from sqlalchemy import Connection, and_, func, insert, or_, select, update

from openvcr.store.db import Database, now_ms
from openvcr.store.schema.vsdc import outbox_attempts, outbox_messages

log = logging.getLogger("openvcr.outbox")

PENDING = "pending"
DELIVERED = "delivered"
FAILED = "failed"


class DeliveryRetryable(Exception):
    """The delivery did not succeed this time; try again later."""


class DeliveryRejected(Exception):
    """The receiver refused the message for good; it will not be tried again."""


@dataclass(frozen=True)
class OutboxMessage:
    id: int
    kind: str
    key: str
    payload: dict[str, Any]
    attempt: int  # the number of this attempt (1 for the first)


Deliverer = Callable[[OutboxMessage], None]
"""Delivers one message; raises ``DeliveryRetryable`` or ``DeliveryRejected`` when it does not succeed."""


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


def backoff_ms(attempt: int, *, base_seconds: float, max_seconds: float) -> int:
    """The wait after the ``attempt``-th failed try: ``base × 2^(attempt−1)``, at most ``max_seconds``."""
    delay = base_seconds * (2 ** max(0, attempt - 1))
    return int(min(delay, max_seconds) * 1000)


class OutboxWorker:
    """Delivers due messages of the kinds it has deliverers for."""

    def __init__(
        self,
        db: Database,
        deliverers: Mapping[str, Deliverer],
        *,
        base_delay_seconds: float = 1.0,
        max_delay_seconds: float = 300.0,
        lease_seconds: float = 60.0,
        batch_size: int = 50,
    ) -> None:
        self.db = db
        self.deliverers = dict(deliverers)
        self.base_delay_seconds = base_delay_seconds
        self.max_delay_seconds = max_delay_seconds
        self.lease_ms = int(lease_seconds * 1000)
        self.batch_size = batch_size

    def _claim(self, now: int, exclude: Iterable[int] = ()) -> OutboxMessage | None:
        """Take one due message: lease it and record the start of an attempt, in one transaction."""
        if not self.deliverers:
            return None
        with self.db.write() as conn:
            query = (
                select(outbox_messages)
                .where(
                    outbox_messages.c.status == PENDING,
                    outbox_messages.c.kind.in_(sorted(self.deliverers)),
                    outbox_messages.c.next_attempt_at <= now,
                    or_(outbox_messages.c.locked_until.is_(None), outbox_messages.c.locked_until <= now),
                )
                .order_by(outbox_messages.c.next_attempt_at, outbox_messages.c.id)
                .limit(1)
            )
            excluded = sorted(exclude)
            if excluded:
                query = query.where(outbox_messages.c.id.not_in(excluded))
            if not self.db.is_sqlite:
                query = query.with_for_update(skip_locked=True)
            row = conn.execute(query).first()
            if row is None:
                return None
            attempt = int(row.attempts) + 1
            conn.execute(
                update(outbox_messages)
                .where(outbox_messages.c.id == row.id)
                .values(attempts=attempt, locked_until=now + self.lease_ms)
            )
            conn.execute(
                insert(outbox_attempts).values(message_id=row.id, attempt=attempt, started_at=now, outcome="started")
            )
            return OutboxMessage(
                id=row.id, kind=row.kind, key=row.key, payload=json.loads(row.payload), attempt=attempt
            )

    def _finish(self, message: OutboxMessage, outcome: str, error: str | None) -> None:
        now = now_ms()
        values: dict[str, Any] = {"locked_until": None, "last_error": error}
        if outcome == "delivered":
            values.update(status=DELIVERED, delivered_at=now)
        elif outcome == "failed":
            values.update(status=FAILED)
        else:
            delay = backoff_ms(
                message.attempt, base_seconds=self.base_delay_seconds, max_seconds=self.max_delay_seconds
            )
            values.update(next_attempt_at=now + delay)
        with self.db.write() as conn:
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

    def deliver_one(self, now: int | None = None, exclude: Iterable[int] = ()) -> OutboxMessage | None:
        """Deliver (or try to deliver) one due message (not in ``exclude``); None when nothing is due."""
        message = self._claim(now_ms() if now is None else now, exclude)
        if message is None:
            return None
        deliverer = self.deliverers[message.kind]
        try:
            deliverer(message)
        except DeliveryRejected as exc:
            log.warning("outbox message %s (%s) rejected: %s", message.key, message.kind, exc)
            self._finish(message, "failed", str(exc) or type(exc).__name__)
        except Exception as exc:
            log.info("outbox message %s (%s) attempt %d: %s", message.key, message.kind, message.attempt, exc)
            self._finish(message, "retry", str(exc) or type(exc).__name__)
        else:
            self._finish(message, "delivered", None)
        return message

    def run_once(self, now: int | None = None) -> int:
        """Try every message due at ``now`` at most once (at most ``batch_size``); return how many were tried."""
        seen: set[int] = set()
        while len(seen) < self.batch_size:
            message = self.deliver_one(now, seen)
            if message is None:
                break
            seen.add(message.id)
        return len(seen)

    def run(self, stop: threading.Event, *, idle_seconds: float = 0.5) -> None:
        """Deliver until ``stop`` is set; sleep ``idle_seconds`` when nothing is due."""
        while not stop.is_set():
            try:
                tried = self.run_once()
            except Exception:
                log.exception("outbox worker iteration failed")
                tried = 0
            if tried == 0:
                stop.wait(idle_seconds)

    def start(self, *, idle_seconds: float = 0.5) -> tuple[threading.Thread, threading.Event]:
        """Run the worker in a daemon thread; set the returned event to stop it."""
        stop = threading.Event()
        thread = threading.Thread(target=self.run, args=(stop,), kwargs={"idle_seconds": idle_seconds}, daemon=True)
        thread.name = "openvcr-outbox"
        thread.start()
        return thread, stop


@dataclass(frozen=True)
class KindStatus:
    kind: str
    pending: int
    delivered: int
    failed: int
    oldest_pending_at: int | None


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
        )
        for kind, by_status in sorted(counts.items())
    ]


def message_status(conn: Connection, key: str) -> str | None:
    """The status of the message with this key (None when there is none)."""
    value = conn.execute(select(outbox_messages.c.status).where(outbox_messages.c.key == key)).scalar()
    return None if value is None else str(value)


outbox_app = typer.Typer(help="The outbox: documents waiting to be delivered after commit.")


@outbox_app.command("status")
def status_command(
    database: str = typer.Option(None, "--database", help="Database URL (default: from the settings)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Show how many messages are pending, delivered and failed, per kind."""
    from openvcr.config import get_settings

    db = Database(database or get_settings().database_url)
    try:
        with db.read() as conn:
            rows = status(conn)
    finally:
        db.dispose()
    if as_json:
        typer.echo(json.dumps([row.__dict__ for row in rows]))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("kind", "pending", "delivered", "failed", "oldest pending (ms)")
    for row in rows:
        table.add_row(
            row.kind,
            str(row.pending),
            str(row.delivered),
            str(row.failed),
            "" if row.oldest_pending_at is None else str(row.oldest_pending_at),
        )
    Console().print(table)
