"""Finding an existing OpenVCR database without creating one: what operator commands that read or change data
(``verify``, ``export``, ``keys``, ``registers``, ``outbox``, ``src``, ``rates``) open.

Rules:
- A SQLite URL names a file: if the file does not exist, there is no database (nothing is created). A file
  without OpenVCR's schema (no ``alembic_version`` table) is not one either.
- A PostgreSQL URL: a server that does not answer (5 s to connect) or a database without OpenVCR's schema is
  no database.
- An existing database is brought up to date (``migrate.upgrade``) before the command uses it, like
  ``openvcr db upgrade``.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from openvcr.store import migrate
from openvcr.store.db import Database


class NoDatabase(Exception):
    """There is no OpenVCR database at the URL; the message says why."""


def _sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    database = parsed.database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def check_existing(url: str) -> None:
    """Raise ``NoDatabase`` unless an OpenVCR database is at ``url`` (see the module rules); creates nothing."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise NoDatabase(f"{url!r} is not a database URL") from exc
    if parsed.get_backend_name() == "sqlite":
        path = _sqlite_file(url)
        if path is None:
            return
        if not path.is_file():
            raise NoDatabase(f"no database file {path}")
        try:
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
                found = conn.execute(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
                ).fetchone()
        except sqlite3.Error as exc:
            raise NoDatabase(f"{path} is not a SQLite database: {exc}") from exc
        if found is None:
            raise NoDatabase(f"{path} holds no OpenVCR database")
        return
    engine = create_engine(url, connect_args={"connect_timeout": 5}, pool_pre_ping=False)
    try:
        with engine.connect() as conn:
            has_schema = inspect(conn).has_table("alembic_version")
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc) else type(exc).__name__
        raise NoDatabase(f"cannot reach the database: {reason}") from exc
    finally:
        engine.dispose()
    if not has_schema:
        raise NoDatabase("the database holds no OpenVCR schema")


def open_existing(url: str) -> Database:
    """The OpenVCR database at ``url``, up to date; ``NoDatabase`` when there is none (nothing created)."""
    check_existing(url)
    db = Database(url)
    migrate.upgrade(db)
    return db
