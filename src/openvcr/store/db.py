"""Engines and transactions on SQLite (WAL, fsync on commit) and PostgreSQL (psycopg 3).

Rules:
- ``Database.write()`` is the unit of work: one transaction, committed on success, rolled back on any error.
  On SQLite it starts with ``BEGIN IMMEDIATE`` so that writers queue on the lock instead of failing on a
  read-to-write upgrade.
- ``Database.read()`` is a read-only snapshot (deferred transaction on SQLite).
- On SQLite write transactions do not nest: a ``write()`` inside another one on the same thread raises
  ``NestedWriteError`` at once (it would otherwise wait on SQLite's own lock until the busy timeout). On
  PostgreSQL the inner one is a transaction of its own, on another connection.
- SQLite allows one writer at a time. Writers queue for it on a lock of their own before ``BEGIN IMMEDIATE``:
  a thread lock within the process and, for a database file, an exclusive ``flock`` on
  ``<database>.locks/write.lock`` across processes. SQLite's own busy handler would otherwise have them poll
  with sleeps of up to 100 ms, which under load turns a sub-millisecond wait into tens of milliseconds.
  Writers that do not take the queue (other programs) still just wait on SQLite's lock.
- ``Database.group`` is the group writer (``openvcr.store.group``): jobs of many requests in one durable
  transaction. Documents are written through it; everything else uses ``write()``.
- Times are stored as integer milliseconds since the Unix epoch (UTC).
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

from openvcr.store.group import GroupCommit


def normalize_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` as psycopg 3 URLs."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def now_ms() -> int:
    """The current time in integer milliseconds since the Unix epoch."""
    return time.time_ns() // 1_000_000


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("openvcr_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class NestedWriteError(RuntimeError):
    """A write transaction was opened inside another one on the same thread (a programming error)."""


class _WriteQueue:
    """The order in which this process's writers take SQLite's single write lock (see the module rules)."""

    def __init__(self, lock_file: Path | None) -> None:
        self._lock = threading.Lock()
        self._lock_file = lock_file
        self._fd: int | None = None

    def _file(self) -> int | None:
        if self._lock_file is None:
            return None
        if self._fd is None:
            self._lock_file.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self._lock_file, os.O_RDWR | os.O_CREAT, 0o600)
        return self._fd

    @contextmanager
    def hold(self) -> Iterator[None]:
        with self._lock:
            fd = self._file()
            if fd is None:
                yield
                return
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None


def _sqlite_file(url: str) -> Path | None:
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


class Database:
    """One engine and the two ways to use it: ``read()`` and ``write()``."""

    def __init__(self, url: str, *, pool_size: int = 8) -> None:
        self.url = normalize_url(url)
        parsed = make_url(self.url)
        self.dialect = parsed.get_backend_name()
        self._writers: _WriteQueue | None = None
        self._writing = threading.local()
        self._group: GroupCommit | None = None
        self._group_guard = threading.Lock()
        self._in_memory = False
        if self.dialect == "sqlite":
            # SQLite connections are cheap to keep and costly to reopen (pragmas): keep one per request thread
            # (the server runs sync handlers on up to 40 threads).
            self.engine = create_engine(self.url, pool_size=max(pool_size, 40), max_overflow=16, pool_timeout=60)
            _configure_sqlite(self.engine)
            path = _sqlite_file(self.url)
            self._in_memory = path is None
            self._writers = _WriteQueue(None if path is None else Path(str(path) + ".locks") / "write.lock")
        else:
            self.engine = create_engine(
                self.url, pool_size=pool_size, max_overflow=8, pool_pre_ping=True, pool_timeout=60
            )

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @property
    def group(self) -> GroupCommit:
        """The database's group writer (``openvcr.store.group``), started on first use."""
        with self._group_guard:
            if self._group is None:
                self._group = GroupCommit(self, threaded=not self._in_memory)
            return self._group

    def check_not_writing(self) -> None:
        """Raise ``NestedWriteError`` if this thread has a write transaction open on this database (SQLite)."""
        if self._writers is not None and getattr(self._writing, "active", False):
            raise NestedWriteError("a write transaction is already open on this thread; on SQLite they do not nest")

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A read-write transaction: committed when the block ends, rolled back on an exception."""
        if self._writers is None:
            with self.engine.connect() as conn:
                conn = conn.execution_options(openvcr_write=True)
                with conn.begin():
                    yield conn
            return
        self.check_not_writing()
        self._writing.active = True
        try:
            with self._writers.hold(), self.engine.connect() as conn:
                conn = conn.execution_options(openvcr_write=True)
                with conn.begin():
                    yield conn
        finally:
            self._writing.active = False

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction."""
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def dispose(self) -> None:
        with self._group_guard:
            group, self._group = self._group, None
        if group is not None:
            group.close()
        self.engine.dispose()
        if self._writers is not None:
            self._writers.close()
