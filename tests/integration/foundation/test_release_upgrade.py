"""Upgrading a database made by the first release (schema 0001), on SQLite and PostgreSQL: the data is kept,
money stays exact, Idempotency-Keys still replay, the sale the release left pending completes, and the
journal verifies. The databases were written by that release's own API (``tests/data/releases``)."""

from __future__ import annotations

import gzip
import shutil
import tarfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from openvcr.api.app import create_app
from openvcr.authority.factory import build_gateway
from openvcr.config import Settings
from openvcr.registers.export import verify_database
from openvcr.registers.keys import create_key
from openvcr.registers.models import SCOPES
from openvcr.store import migrate
from openvcr.store.db import Database
from openvcr.store.schema.documents import documents
from tests.conftest import create_postgres_database, drop_postgres_database

RELEASES = Path(__file__).parents[2] / "data" / "releases"
PHONE = "+37491000111"
TEA = {
    "offer": {"title": {"type": "universal", "content": "Tea"}, "type": "product", "classifierCode": "0902",
              "defaultMeasureUnit": "pc", "defaultDepartment": {"id": 1}, "externalId": "TEA"},
    "department": {"id": 1}, "price": "700", "unit": "pc",
}  # fmt: skip
FIRST_SALE = {
    "cashier": {"id": 1},
    "items": [{**TEA, "quantity": "3"}],
    "amount": {"cash": "2100"},
    "buyer": {"type": "individual", "phone": PHONE, "receipt": {"email": "buyer@example.com", "language": "en"}},
}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def release_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with tarfile.open(RELEASES / "sandbox.tar.gz") as archive:
        archive.extractall(tmp_path, filter="data")
    if request.param == "sqlite":
        target = tmp_path / "release.sqlite"
        with gzip.open(RELEASES / "release-0001.sqlite.gz") as source, open(target, "wb") as out:
            shutil.copyfileobj(source, out)
        yield f"sqlite:///{target}"
        return
    url = create_postgres_database()
    script = gzip.decompress((RELEASES / "release-0001.pg.sql.gz").read_bytes()).decode()
    script = "\n".join(line for line in script.splitlines() if not line.startswith("\\"))
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(script.encode())
    try:
        yield url
    finally:
        drop_postgres_database(url)


def _states(db: Database) -> list[tuple[str, str]]:
    with db.read() as conn:
        return [(r.kind, r.state) for r in conn.execute(select(documents).order_by(documents.c.id))]


def test_a_release_0001_database_upgrades_with_its_documents_keys_and_journal(release_db: str, tmp_path: Path) -> None:
    db = Database(release_db)
    try:
        assert migrate.current(db) == "0001"
        assert verify_database(db).entries == 6
        migrate.upgrade(db)
        assert verify_database(db).entries == 6  # the journal is untouched and still verifies
        assert sorted(_states(db)) == sorted(
            [("sale", "completed"), ("sale", "completed"), ("sale", "sent"), ("sale_refund", "completed"),
             ("prepayment", "completed"), ("prepayment", "completed"), ("prepayment_refund", "completed")]
        )  # fmt: skip
        settings = Settings(database_url=release_db, sandbox_state_dir=tmp_path / "sandbox")
        with db.write() as conn:
            key = create_key(conn, 1, SCOPES).key
        headers = {"X-API-KEY": key}
        with TestClient(create_app(settings, db=db, gateway=build_gateway(settings))) as client:

            def get(path: str) -> Any:
                response = client.get(f"/api/v1{path}", headers=headers)
                assert response.status_code == 200, response.text
                return response.json()

            replay = client.post("/api/v1/sales", json=FIRST_SALE, headers={**headers, "Idempotency-Key": "order-1"})
            assert replay.status_code == 200 and replay.headers["idempotent-replay"] == "true"
            assert replay.json()["saleId"] == 1
            other = client.post(
                "/api/v1/sales", json={**FIRST_SALE, "comment": "x"}, headers={**headers, "Idempotency-Key": "order-1"}
            )
            assert other.status_code == 422
            sale = get("/sales/1")
            assert (sale["fiscalStatus"], sale["cashAmount"], sale["receipt"]["total"]) == ("completed", 2100, 2100)
            assert [i["quantity"] for r in sale["refunds"] for i in r["items"]] == [1]
            balance = client.get("/api/v1/prepayments/balance", params={"customerRef": PHONE}, headers=headers).json()
            assert Decimal(str(balance["balance"])) == Decimal("800")  # 1500 deposited, 700 spent
            assert get("/prepayments/2")["state"] == "refunded"
            assert get("/sales/3")["fiscalStatus"] == "sent"
            report = client.app.state.ctx.engine.recover(min_age_ms=0)  # type: ignore[attr-defined]
            assert report.completed == 1
            assert get("/sales/3")["receipt"]["total"] == 1400
            refund = client.post("/api/v1/sales/refund", json={"cashier": {"id": 1}, "saleId": 1}, headers=headers)
            assert refund.status_code == 200, refund.text
        assert verify_database(db).entries == 8
        assert all(state == "completed" for _, state in _states(db))
    finally:
        db.dispose()
