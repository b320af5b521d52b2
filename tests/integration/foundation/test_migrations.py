"""The migrations create exactly the schema the code declares, and can be rolled back and re-applied."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from openvcr.store import migrate
from openvcr.store.db import Database
from openvcr.store.schema import metadata


def test_migrated_schema_matches_the_declared_tables(db_url: str) -> None:
    db = Database(db_url)
    try:
        migrate.upgrade(db)
        assert migrate.current(db) == "0010"
        with db.engine.connect() as conn:
            differences = compare_metadata(MigrationContext.configure(conn), metadata)
        assert differences == []
    finally:
        db.dispose()


def test_downgrade_removes_everything_and_upgrade_restores_it(db_url: str) -> None:
    db = Database(db_url)
    try:
        migrate.upgrade(db)
        migrate.downgrade(db)
        tables = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert tables == set()
        migrate.upgrade(db)
        assert set(inspect(db.engine).get_table_names()) >= set(metadata.tables)
    finally:
        db.dispose()
