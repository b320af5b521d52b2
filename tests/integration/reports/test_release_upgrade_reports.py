"""A database of the first release, upgraded: its whole journal is the first shift, its lines journaled without
a tax regime count as ``unspecified``, and the Z taken on it verifies."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from fastapi.testclient import TestClient

from openvcr.api.app import create_app
from openvcr.authority.factory import build_gateway
from openvcr.config import Settings
from openvcr.registers.export import verify_database
from openvcr.registers.keys import create_key
from openvcr.registers.models import SCOPES
from openvcr.store import migrate
from openvcr.store.db import Database
from tests.integration.foundation.test_release_upgrade import release_db

__all__ = ["release_db"]


def test_a_z_on_an_upgraded_release_0001_journal_adds_up_and_verifies(release_db: str, tmp_path: Path) -> None:
    db = Database(release_db)
    try:
        migrate.upgrade(db)
        settings = Settings(database_url=release_db, sandbox_state_dir=tmp_path / "sandbox")
        with db.write() as conn:
            headers = {"X-API-KEY": create_key(conn, 1, SCOPES).key}
        with TestClient(create_app(settings, db=db, gateway=build_gateway(settings))) as client:
            z = client.post("/api/v1/reports/z", headers=headers)
            assert z.status_code == 200, z.text
            totals = z.json()["totals"]
            assert z.json()["shift"] == 1
            assert totals["entries"] == {"count": 6, "first": 1, "last": 6}
            assert set(totals["taxRegimes"]) == {"unspecified"}
            sold = Decimal(str(totals["documents"]["sale"]["total"]))
            assert Decimal(str(totals["taxRegimes"]["unspecified"]["sales"])) == sold > 0
            assert client.post("/api/v1/reports/z", headers=headers).status_code == 409
        assert verify_database(db).entries == 7
    finally:
        db.dispose()
