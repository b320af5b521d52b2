"""The outbox worker: delivers due messages after commit through the deliverers it was given, one kind each."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping

from sqlalchemy import Connection

from openvcr.outbox import repository
from openvcr.outbox.models import AWAITING_CONFIRMATION, SENT, Deliverer, DeliveryRejected, OutboxMessage
from openvcr.store.db import Database, now_ms

log = logging.getLogger("openvcr.outbox")


def backoff_ms(attempt: int, *, base_seconds: float, max_seconds: float) -> int:
    """The wait after the ``attempt``-th failed try: ``base × 2^(attempt−1)``, at most ``max_seconds``."""
    delay = base_seconds * (2 ** max(0, attempt - 1))
    return int(min(delay, max_seconds) * 1000)


Finished = Callable[[Connection, OutboxMessage, str, str | None], None]
"""Called with ``(conn, message, outcome, error)`` in the transaction that records a message ``delivered`` or
``failed`` (not on a retry): what it writes commits exactly when the outcome does."""


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
        on_finished: Finished | None = None,
    ) -> None:
        self.db = db
        self.deliverers = dict(deliverers)
        self.base_delay_seconds = base_delay_seconds
        self.max_delay_seconds = max_delay_seconds
        self.lease_ms = int(lease_seconds * 1000)
        self.batch_size = batch_size
        self.on_finished = on_finished

    def _claim(self, now: int, exclude: Iterable[int] = ()) -> OutboxMessage | None:
        """Take one due message: lease it and record the start of an attempt, in one transaction."""
        if not self.deliverers:
            return None
        if not exclude:  # an idle worker looks first, without taking the database's write lock
            with self.db.read() as conn:
                if not repository.any_due(conn, self.deliverers, now):
                    return None
        with self.db.write() as conn:
            return repository.claim(
                conn, self.deliverers, now, lease_ms=self.lease_ms, exclude=exclude, skip_locked=not self.db.is_sqlite
            )

    def _finish(self, message: OutboxMessage, outcome: str, error: str | None) -> None:
        now = now_ms()
        delay = backoff_ms(message.attempt, base_seconds=self.base_delay_seconds, max_seconds=self.max_delay_seconds)
        with self.db.write() as conn:
            repository.finish(conn, message, outcome, error, now=now, next_attempt_at=now + delay)
            if self.on_finished is not None and outcome in ("delivered", "failed"):
                self.on_finished(conn, message, outcome, error)

    def deliver_one(self, now: int | None = None, exclude: Iterable[int] = ()) -> OutboxMessage | None:
        """Deliver (or try to deliver) one due message (not in ``exclude``); None when nothing is due."""
        message = self._claim(now_ms() if now is None else now, exclude)
        if message is None:
            return None
        deliverer = self.deliverers[message.kind]
        try:
            result = deliverer(message)
        except DeliveryRejected as exc:
            log.warning("outbox message %s (%s) rejected: %s", message.key, message.kind, exc)
            self._finish(message, "failed", str(exc) or type(exc).__name__)
        except Exception as exc:
            log.info("outbox message %s (%s) attempt %d: %s", message.key, message.kind, message.attempt, exc)
            self._finish(message, "retry", str(exc) or type(exc).__name__)
        else:
            self._finish(message, SENT if result == AWAITING_CONFIRMATION else "delivered", None)
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
