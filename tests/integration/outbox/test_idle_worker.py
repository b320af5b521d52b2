"""An idle outbox worker (every ``openvcr serve`` process runs one) does not take the database's write lock."""

from __future__ import annotations

import threading
import time

from openvcr.outbox import repository as outbox
from openvcr.outbox.models import OutboxMessage
from openvcr.outbox.worker import OutboxWorker
from openvcr.store.db import Database, now_ms


def test_an_idle_worker_finds_nothing_without_waiting_for_a_writer(database: Database) -> None:
    delivered: list[str] = []

    def deliver(message: OutboxMessage) -> None:
        delivered.append(message.key)

    worker = OutboxWorker(database, {"mail": deliver})
    with database.write() as conn:
        outbox.enqueue(conn, "other-kind", "k0", {})  # due, but not of the worker's kinds
    holding, release = threading.Event(), threading.Event()

    def writer() -> None:
        with database.write() as conn:
            outbox.enqueue(conn, "mail", "k1", {})
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert holding.wait(10)
        started = time.monotonic()
        assert worker.run_once() == 0  # k1 is not committed yet: nothing is due, and no lock was awaited
        assert time.monotonic() - started < 1.0
    finally:
        release.set()
        thread.join(10)
    assert worker.run_once(now_ms()) == 1 and delivered == ["k1"]
