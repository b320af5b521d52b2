"""Shared fixtures: real SQLite and real PostgreSQL databases, each test on a fresh one.

PostgreSQL runs whenever ``OPENVCR_TEST_POSTGRES_URL`` is set or a server answers on 127.0.0.1:5432
(trust auth, database ``test``). Each test gets its own database, created and dropped around it.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from openvcr.store import migrate
from openvcr.store.db import Database

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_admin_url() -> str | None:
    """The PostgreSQL server to test on, or None when there is none."""
    url = os.environ.get("OPENVCR_TEST_POSTGRES_URL")
    if url:
        return url
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=0.5):
            return DEFAULT_POSTGRES
    except OSError:
        return None


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


def create_postgres_database() -> str:
    """Create a fresh, empty database and return its SQLAlchemy URL."""
    admin = postgres_admin_url()
    if admin is None:
        reason = "no PostgreSQL server (set OPENVCR_TEST_POSTGRES_URL or run one on 127.0.0.1:5432)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}: under CI=true nothing that needs PostgreSQL may skip")
        pytest.skip(reason)
    name = "ovcr_" + uuid.uuid4().hex[:16]
    with psycopg.connect(_libpq(admin), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return _with_database(
        admin if "+psycopg" in admin else admin.replace("postgresql://", "postgresql+psycopg://"), name
    )


def drop_postgres_database(url: str) -> None:
    admin = postgres_admin_url()
    assert admin is not None
    name = url.rpartition("/")[2]
    with psycopg.connect(_libpq(admin), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of a fresh, empty database: SQLite file, then PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'openvcr.db'}"
        return
    url = create_postgres_database()
    try:
        yield url
    finally:
        drop_postgres_database(url)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'openvcr.db'}"


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    """A migrated database on SQLite and on PostgreSQL."""
    db = Database(db_url)
    migrate.upgrade(db)
    try:
        yield db
    finally:
        db.dispose()
