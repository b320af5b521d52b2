"""Engines and transactions on SQLite (WAL, fsync on commit) and PostgreSQL (psycopg 3).

Rules:
- ``Database.write()`` is the unit of work: one transaction, committed on success, rolled back on any error.
  On SQLite it starts with ``BEGIN IMMEDIATE`` so that writers queue on the lock instead of failing on a
  read-to-write upgrade.
- ``Database.read()`` is a read-only snapshot (deferred transaction on SQLite).
- Times are stored as integer milliseconds since the Unix epoch (UTC).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url


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


class Database:
    """One engine and the two ways to use it: ``read()`` and ``write()``."""

    def __init__(self, url: str, *, pool_size: int = 8) -> None:
        self.url = normalize_url(url)
        parsed = make_url(self.url)
        self.dialect = parsed.get_backend_name()
        if self.dialect == "sqlite":
            self.engine = create_engine(self.url, pool_size=pool_size, max_overflow=16, pool_timeout=60)
            _configure_sqlite(self.engine)
        else:
            self.engine = create_engine(
                self.url, pool_size=pool_size, max_overflow=8, pool_pre_ping=True, pool_timeout=60
            )

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A read-write transaction: committed when the block ends, rolled back on an exception."""
        with self.engine.connect() as conn:
            conn = conn.execution_options(openvcr_write=True)
            with conn.begin():
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction."""
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def dispose(self) -> None:
        self.engine.dispose()
