"""Run Alembic migrations programmatically (``openvcr db upgrade``, ``init`` and ``serve``).

Rules:
- One migration run is one transaction.
- On SQLite a migration may rebuild a table (``batch_alter_table``: create a copy, drop the old table, rename the
  copy). Dropping a table with ``PRAGMA foreign_keys=ON`` deletes its rows first and cascades to the tables that
  reference it, so migrations run with foreign keys off (the pragma only takes effect outside a transaction);
  ``PRAGMA foreign_key_check`` must find nothing before the run commits, and foreign keys are back on after.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config

from openvcr.store.db import Database

MIGRATIONS = Path(__file__).parent / "migrations"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


class ForeignKeyViolation(RuntimeError):
    """A migration left rows whose foreign keys point nowhere (SQLite)."""


def _run(db: Database, step: Callable[[Config], None]) -> None:
    config = _config()
    with db.engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        raw = conn.connection.driver_connection
        if sqlite:
            assert raw is not None
            raw.execute("PRAGMA foreign_keys=OFF")  # no transaction is open yet: the pragma takes effect
        try:
            with conn.begin():
                config.attributes["connection"] = conn
                step(config)
                if sqlite:
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise ForeignKeyViolation(f"the migration broke foreign keys: {broken[:5]}")
        finally:
            if sqlite:
                assert raw is not None
                raw.execute("PRAGMA foreign_keys=ON")


def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the database schema up to ``revision`` (default: the newest)."""
    _run(db, lambda config: command.upgrade(config, revision))


def downgrade(db: Database, revision: str = "base") -> None:
    """Roll the schema back to ``revision`` (default: empty)."""
    _run(db, lambda config: command.downgrade(config, revision))


def current(db: Database) -> str | None:
    """The revision the database is at (None for an empty database)."""
    from alembic.runtime.migration import MigrationContext

    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
