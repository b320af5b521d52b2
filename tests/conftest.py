"""Shared fixtures: real SQLite and real PostgreSQL databases, each test on a fresh one.

PostgreSQL runs whenever ``OPENVCR_TEST_POSTGRES_URL`` is set or a server answers on 127.0.0.1:5432
(trust auth, database ``test``). Each test gets its own database, created and dropped around it.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import psycopg
import pytest

from openvcr.authority.factory import close_sandbox_simulators
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


class _Templates:
    """Databases migrated once per test session; each ``database`` fixture starts from a copy of one.

    Migrating costs about 0.3 s on SQLite and 0.4 s on PostgreSQL per test; a copy costs a few milliseconds
    (SQLite's backup API) or one ``CREATE DATABASE … TEMPLATE`` (PostgreSQL). The copy is the same schema at
    the same Alembic head, so the tests see exactly what ``migrate.upgrade`` would have made.
    """

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._sqlite: Path | None = None
        self._postgres: str | None = None

    def sqlite(self) -> Path:
        if self._sqlite is None:
            path = self._directory / "template.db"
            db = Database(f"sqlite:///{path}")
            migrate.upgrade(db)
            db.dispose()
            self._sqlite = path
        return self._sqlite

    def postgres(self) -> str:
        if self._postgres is None:
            url = create_postgres_database()
            db = Database(url)
            migrate.upgrade(db)
            db.dispose()
            self._postgres = url
        return self._postgres

    def close(self) -> None:
        if self._postgres is not None:
            drop_postgres_database(self._postgres)


@pytest.fixture(scope="session")
def _migrated_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Templates]:
    templates = _Templates(tmp_path_factory.mktemp("templates"))
    try:
        yield templates
    finally:
        templates.close()


def _copy_sqlite(source: Path, url: str) -> None:
    target = _sqlite_path(url)
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def _sqlite_path(url: str) -> str:
    return url.removeprefix("sqlite:///")


def _recreate_postgres(template: str, url: str) -> None:
    admin = postgres_admin_url()
    assert admin is not None
    name = url.rpartition("/")[2]
    source = template.rpartition("/")[2]
    with psycopg.connect(_libpq(admin), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')


@pytest.fixture
def database(db_url: str, _migrated_templates: _Templates) -> Iterator[Database]:
    """A migrated database on SQLite and on PostgreSQL (a copy of one migrated once per session)."""
    if db_url.startswith("sqlite:///"):
        _copy_sqlite(_migrated_templates.sqlite(), db_url)
    else:
        _recreate_postgres(_migrated_templates.postgres(), db_url)
    db = Database(db_url)
    try:
        yield db
    finally:
        db.dispose()


@pytest.fixture(autouse=True)
def _close_sandbox_state(request: pytest.FixtureRequest) -> Iterator[None]:
    """After a test that used ``tmp_path``, close the SRC sandbox simulators whose state lives under it (the
    process keeps one per state directory; without this, every test would leave its state file open)."""
    directory: Path | None = request.getfixturevalue("tmp_path") if "tmp_path" in request.fixturenames else None
    yield
    if directory is not None:
        close_sandbox_simulators(directory)
