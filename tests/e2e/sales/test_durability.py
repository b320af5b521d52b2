"""Real server processes: kill -9 under load loses no acknowledged sale and leaves no SRC receipt without its
document; two workers on PostgreSQL keep one register's journal gap-free."""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from openvcr.authority.errors import AuthorityRejected
from openvcr.authority.factory import build_gateway
from openvcr.config import Settings
from openvcr.registers import journal
from openvcr.store.db import Database
from openvcr.store.schema.documents import documents
from tests.conftest import create_postgres_database, drop_postgres_database
from tests.e2e.server import init_json, openvcr_env, run_cli, serve

SALE: dict[str, Any] = {
    "cashier": {"id": 1},
    "items": [
        {
            "offer": {"title": {"type": "universal", "content": "Bread"}, "type": "product", "classifierCode": "1905",
                      "defaultMeasureUnit": "pc", "defaultDepartment": {"id": 1}, "externalId": "BREAD"},
            "department": {"id": 1}, "quantity": "2", "price": "350", "unit": "pc",
        }
    ],
    "amount": {"cash": "1000"},
}  # fmt: skip


def _load(base: str, key: str, stop: threading.Event, acked: dict[str, dict[str, Any]], prefix: str) -> None:
    n = 0
    with httpx.Client(base_url=base, timeout=30) as http:
        while not stop.is_set():
            n += 1
            idem = f"{prefix}-{n}"
            try:
                response = http.post("/api/v1/sales", json=SALE, headers={"X-API-KEY": key, "Idempotency-Key": idem})
            except httpx.HTTPError:
                return  # the server died
            if response.status_code == 200:
                acked[idem] = response.json()


def _pending(db: Database) -> int:
    with db.read() as conn:
        unsettled = documents.c.state.in_(["pending", "sent", "in_doubt"])
        return int(conn.execute(select(func.count()).where(unsettled)).scalar_one())


def test_kill_9_under_load_loses_no_acknowledged_sale(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'crash.db'}"
    env = openvcr_env(
        tmp_path / "sandbox", OPENVCR_MAINTENANCE_INTERVAL_SECONDS="0.5", OPENVCR_RECOVERY_MIN_AGE_SECONDS="2"
    )
    init = init_json(database, env)
    acked: dict[str, dict[str, Any]] = {}
    rounds = 2
    for round_no in range(rounds):
        with serve(database, env) as (base, process):
            stop = threading.Event()
            threads = [
                threading.Thread(target=_load, args=(base, init["apiKey"], stop, acked, f"r{round_no}t{t}"))
                for t in range(4)
            ]
            for thread in threads:
                thread.start()
            time.sleep(random.uniform(1.0, 3.0))
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            stop.set()
            for thread in threads:
                thread.join()
    assert acked, "no sale was acknowledged before the kills"

    with serve(database, env) as (base, _process):
        db = Database(database)
        deadline = time.monotonic() + 60
        while _pending(db) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert _pending(db) == 0
        with httpx.Client(base_url=base, timeout=30) as http:
            for created in acked.values():
                detail = http.get(f"/api/v1/sales/{created['saleId']}", headers={"X-API-KEY": init["apiKey"]})
                assert detail.status_code == 200
                assert detail.json()["receipt"]["srcId"] == created["srcReceiptId"]
        with db.read() as conn:
            completed = select(documents.c.receipt["srcId"].as_string()).where(documents.c.state == "completed")
            receipts = sorted(int(r) for (r,) in conn.execute(completed))
            entries = journal.head(conn, init["vcrId"]).number
        db.dispose()
    assert entries == len(receipts)
    # Every receipt SRC holds belongs to a document, and SRC holds no receipt past the last one.
    settings = Settings(database_url=database, sandbox_state_dir=tmp_path / "sandbox")
    gateway = build_gateway(settings)
    assert receipts == list(range(receipts[0], receipts[0] + len(receipts)))
    for receipt_id in receipts:
        copy = gateway.print_copy(init["crn"], None, receipt_id)
        assert copy.total == Decimal("700")
    with pytest.raises(AuthorityRejected) as missing:
        gateway.print_copy(init["crn"], None, receipts[-1] + 1)
    assert missing.value.code == 176
    verified = run_cli(["verify", "--database", database], env)
    assert verified.returncode == 0, verified.stdout + verified.stderr


@pytest.mark.postgres
def test_two_workers_on_postgres_keep_one_register_gap_free(tmp_path: Path) -> None:
    database = create_postgres_database()
    try:
        env = openvcr_env(tmp_path / "sandbox")
        init = init_json(database, env)
        with serve(database, env, "--workers", "2") as (base, _process):
            results: list[httpx.Response] = []
            lock = threading.Lock()

            def one() -> None:
                with httpx.Client(base_url=base, timeout=60) as http:
                    response = http.post("/api/v1/sales", json=SALE, headers={"X-API-KEY": init["apiKey"]})
                with lock:
                    results.append(response)

            http = httpx.Client(base_url=base, timeout=60)
            assert http.post("/api/v1/sales", json=SALE, headers={"X-API-KEY": init["apiKey"]}).status_code == 200
            threads = [threading.Thread(target=one) for _ in range(50)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            http.close()
        assert [r.status_code for r in results] == [200] * 50
        assert len({r.json()["srcReceiptId"] for r in results}) == 50
        db = Database(database)
        with db.read() as conn:
            numbers = [e.number for e in journal.entries(conn, init["vcrId"])]
        db.dispose()
        assert numbers == list(range(1, 52))
        verified = run_cli(["verify", "--database", database], env)
        assert verified.returncode == 0, verified.stdout + verified.stderr
    finally:
        drop_postgres_database(database)
