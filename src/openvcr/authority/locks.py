"""Per-register serialization of SRC calls, within a process and across processes.

Rules:
- One register's calls run one at a time, in seq order; different registers run in parallel.
- In a process: one ``threading.Lock`` per register.
- Across processes: on PostgreSQL a session-level advisory lock ``pg_advisory_lock(0x5352, register_id)``
  held on its own connection in autocommit mode (no transaction stays open during the HTTP call). These
  connections come from a pool of their own, never from the database's: a thread holding a register's lock
  still gets a connection for its writes, however many registers are in flight; on a
  SQLite file an exclusive ``flock`` on ``<database>.locks/src-register-<id>.lock``; an in-memory SQLite
  database has only one process.
"""

from __future__ import annotations

import fcntl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from openvcr.store.db import Database

ADVISORY_CLASS = 0x5352  # "SR"


def sqlite_lock_dir(db: Database) -> Path | None:
    if not db.is_sqlite:
        return None
    database = make_url(db.url).database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return None
    return Path(database + ".locks")


class RegisterLocks:
    """``hold(register_id)``: the register's exclusive right to talk to SRC."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._lock_engine: Engine | None = None
        if db.dialect == "postgresql":
            # Unbounded overflow: one connection per register in flight, idle ones kept for reuse.
            self._lock_engine = create_engine(db.url, pool_size=4, max_overflow=-1, pool_pre_ping=True)
        self._guard = threading.Lock()
        self._locks: dict[int, threading.Lock] = {}
        self._dir = sqlite_lock_dir(db)

    def _thread_lock(self, register_id: int) -> threading.Lock:
        with self._guard:
            lock = self._locks.get(register_id)
            if lock is None:
                lock = self._locks[register_id] = threading.Lock()
            return lock

    @contextmanager
    def hold(self, register_id: int) -> Iterator[None]:
        with self._thread_lock(register_id), self._process_lock(register_id):
            yield

    @contextmanager
    def _process_lock(self, register_id: int) -> Iterator[None]:
        if self._lock_engine is not None:
            with self._lock_engine.connect() as conn:
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
                conn.execute(text("SELECT pg_advisory_lock(:c, :r)"), {"c": ADVISORY_CLASS, "r": register_id})
                try:
                    yield
                finally:
                    conn.execute(text("SELECT pg_advisory_unlock(:c, :r)"), {"c": ADVISORY_CLASS, "r": register_id})
            return
        if self._dir is None:
            yield
            return
        self._dir.mkdir(parents=True, exist_ok=True)
        with open(self._dir / f"src-register-{register_id}.lock", "a+b") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def dispose(self) -> None:
        if self._lock_engine is not None:
            self._lock_engine.dispose()
