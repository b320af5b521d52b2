"""Migration 0008 (receipt SMS) on SQLite and PostgreSQL: a database at 0007 with a register, a completed sale
and an outbox message keeps them; registers get ``sms_receipts`` off, documents ``receipt_phone`` NULL, and the
outbox its ``outbox_confirmations``; the downgrade removes exactly those."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import inspect, select

from openvcr.api.app import create_app
from openvcr.authority.factory import build_gateway
from openvcr.authority.service import SrcService
from openvcr.config import Settings
from openvcr.registers.export import verify_database
from openvcr.registers.service import initialize
from openvcr.store import migrate
from openvcr.store.db import Database
from openvcr.store.schema.documents import documents
from openvcr.store.schema.foundation import registers
from openvcr.store.schema.outbox import outbox_messages
from tests.integration.prepayments.helpers import sale_body


def columns(db: Database, table: str) -> set[str]:
    return {column["name"] for column in inspect(db.engine).get_columns(table)}


def test_0008_keeps_the_data_and_adds_sms_off(db_url: str, tmp_path: Path) -> None:
    db = Database(db_url)
    try:
        migrate.upgrade(db)
        settings = Settings(database_url=db_url, sandbox_state_dir=tmp_path / "sandbox")  # type: ignore[call-arg]
        gateway = build_gateway(settings)
        init = initialize(db, settings, SrcService(db, gateway, settings))
        with TestClient(create_app(settings, db=db, gateway=gateway)) as client:
            body = sale_body() | {"buyer": {"type": "individual", "receipt": {"email": "b@example.am"}}}
            sold = client.post("/api/v1/sales", json=body, headers={"X-API-KEY": str(init.api_key)})
            assert sold.status_code == 200, sold.text
        migrate.downgrade(db, "0007")
        assert migrate.current(db) == "0007"
        assert "sms_receipts" not in columns(db, "registers") and "receipt_phone" not in columns(db, "documents")
        assert "outbox_confirmations" not in inspect(db.engine).get_table_names()
        migrate.upgrade(db, "0008")
        assert migrate.current(db) == "0008"
        with db.read() as conn:
            register = conn.execute(select(registers)).one()
            document = conn.execute(select(documents)).one()
            message = conn.execute(select(outbox_messages)).one()
        assert register.sms_receipts is False
        assert document.receipt_phone is None and document.url_id == sold.json()["urlId"]
        assert message.key == f"receipt-email:{document.url_id}"
        assert verify_database(db).entries == 1  # the sale's journal entry still verifies
    finally:
        db.dispose()
