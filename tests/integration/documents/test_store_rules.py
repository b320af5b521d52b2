"""Rules of the storage layer the document engine relies on: no nested writes, register locks that never
take the database's pooled connections."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text

from openvcr.authority.locks import RegisterLocks
from openvcr.store.db import Database, NestedWriteError


def test_a_nested_write_transaction_never_hangs(database: Database) -> None:
    started = time.monotonic()
    with database.write() as conn:
        conn.execute(text("SELECT 1"))
        if database.is_sqlite:
            with pytest.raises(NestedWriteError), database.write():
                pass
        else:  # PostgreSQL: the inner one is a transaction of its own, on another connection
            with database.write() as inner:
                assert inner.execute(text("SELECT 2")).scalar_one() == 2
    assert time.monotonic() - started < 5  # SQLite's own lock would have waited for its 60 s busy timeout
    with database.write() as conn:  # the guard is released: the next write works
        conn.execute(text("SELECT 1"))


def test_32_registers_holding_their_locks_still_get_connections_for_their_writes(database: Database) -> None:
    locks = RegisterLocks(database)
    barrier = threading.Barrier(32, timeout=30)

    def work(register_id: int) -> int:
        with locks.hold(register_id):
            barrier.wait()  # every register's lock is held at the same time
            with database.write() as conn:
                return int(conn.execute(text("SELECT :n"), {"n": register_id}).scalar_one())

    try:
        with ThreadPoolExecutor(32) as pool:
            assert sorted(pool.map(work, range(1, 33))) == list(range(1, 33))
    finally:
        locks.dispose()
