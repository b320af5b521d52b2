"""Races that live in the HTTP path, against a real server (2 workers) on SQLite and PostgreSQL.

- The same Idempotency-Key from 8 threads at once → one document; every other answer is the replay or 409.
- Two concurrent partial refunds that together exceed the line → exactly one succeeds.
- 8 clients posting 500 sales that reuse 100 keys (some with a changed body) → one document per key, a 422
  for every changed body, never a 5xx, and the journal verifies.
- 32 registers selling at once on PostgreSQL with the default pool → every sale completes (no stall on the
  pool while registers hold their SRC locks).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from bench.registers import add_register
from sqlalchemy import func, select

from openvcr.authority.factory import build_gateway
from openvcr.authority.service import SrcService
from openvcr.config import Settings
from openvcr.registers.export import verify_database
from openvcr.store.db import Database
from openvcr.store.schema.documents import documents
from tests.conftest import create_postgres_database, drop_postgres_database
from tests.e2e.server import init_json, openvcr_env, serve


def sale(price: str = "700", quantity: str = "1", comment: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "cashier": {"id": 1},
        "items": [
            {
                "offer": {"title": {"type": "universal", "content": "Tea"}, "type": "product",
                          "classifierCode": "0902", "defaultMeasureUnit": "pc", "defaultDepartment": {"id": 1},
                          "externalId": "TEA"},
                "department": {"id": 1}, "quantity": quantity, "price": price, "unit": "pc",
            }
        ],
        "autoSettle": {"tender": "cash"},
    }  # fmt: skip
    if comment is not None:
        body["comment"] = comment
    return body


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'races.db'}"
        return
    url = create_postgres_database()
    try:
        yield url
    finally:
        drop_postgres_database(url)


@pytest.fixture
def server(database: str, tmp_path: Path) -> Iterator[tuple[str, dict[str, Any], str]]:
    env = openvcr_env(tmp_path / "sandbox")
    init = init_json(database, env)
    with serve(database, env, "--workers", "2") as (base, _process):
        yield base, init, database


def _verify(database: str, register_id: int) -> int:
    db = Database(database)
    try:
        return verify_database(db, register_id=register_id).entries
    finally:
        db.dispose()


def _documents_by_key(database: str) -> dict[str, int]:
    db = Database(database)
    try:
        with db.read() as conn:
            rows = conn.execute(select(documents.c.document_key, func.count()).group_by(documents.c.document_key))
            return {str(key): int(n) for key, n in rows}
    finally:
        db.dispose()


def test_the_same_key_from_8_threads_gives_one_document(server: tuple[str, dict[str, Any], str]) -> None:
    base, init, database = server
    barrier = threading.Barrier(8)

    def post(_: int) -> httpx.Response:
        with httpx.Client(base_url=base, timeout=60) as http:
            barrier.wait()
            return http.post(
                "/api/v1/sales", json=sale(), headers={"X-API-KEY": init["apiKey"], "Idempotency-Key": "same"}
            )

    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(post, range(8)))
    statuses = sorted(r.status_code for r in responses)
    assert set(statuses) <= {200, 409}, [r.text for r in responses]
    oks = [r for r in responses if r.status_code == 200]
    assert oks and len({r.content for r in oks}) == 1
    assert sum(1 for r in oks if r.headers.get("idempotent-replay") != "true") == 1
    keyed = {k: n for k, n in _documents_by_key(database).items() if k.endswith(":key:same")}
    assert list(keyed.values()) == [1]
    assert _verify(database, init["vcrId"]) == 1


def test_two_concurrent_refunds_exceeding_the_line_one_succeeds(server: tuple[str, dict[str, Any], str]) -> None:
    base, init, database = server
    headers = {"X-API-KEY": init["apiKey"]}
    with httpx.Client(base_url=base, timeout=60) as http:
        created = http.post("/api/v1/sales", json=sale(quantity="3"), headers=headers)
        assert created.status_code == 200, created.text
    refund = {"cashier": {"id": 1}, "saleId": created.json()["saleId"], "items": [{"srcId": 0, "quantity": "2"}]}
    barrier = threading.Barrier(2)

    def post(_: int) -> httpx.Response:
        with httpx.Client(base_url=base, timeout=60) as http:
            barrier.wait()
            return http.post("/api/v1/sales/refund", json=refund, headers=headers)

    with ThreadPoolExecutor(2) as pool:
        responses = list(pool.map(post, range(2)))
    assert sorted(r.status_code for r in responses) == [200, 409], [r.text for r in responses]
    with httpx.Client(base_url=base, timeout=60) as http:
        detail = http.get(f"/api/v1/sales/{created.json()['saleId']}", headers=headers).json()
    assert [item["quantity"] for r in detail["refunds"] for item in r["items"]] == [2]
    assert _verify(database, init["vcrId"]) == 2


def test_500_sales_reusing_100_keys_give_one_document_per_key(server: tuple[str, dict[str, Any], str]) -> None:
    base, init, database = server
    rng = random.Random(7)
    plan = [(f"order-{rng.randrange(100)}", rng.random() < 0.1) for _ in range(500)]
    lock = threading.Lock()
    results: list[tuple[str, bool, int, str]] = []

    def client(part: list[tuple[str, bool]]) -> None:
        with httpx.Client(base_url=base, timeout=60) as http:
            for key, changed in part:
                response = http.post(
                    "/api/v1/sales",
                    json=sale(comment=f"changed {key}" if changed else None),
                    headers={"X-API-KEY": init["apiKey"], "Idempotency-Key": key},
                )
                with lock:
                    results.append((key, changed, response.status_code, response.text))

    threads = [threading.Thread(target=client, args=(plan[i::8],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 500
    assert all(status < 500 for _, _, status, _ in results), [r for r in results if r[2] >= 500][:3]
    # The first accepted body of a key decides; every request with the other body is a 422.
    winners: dict[str, bool] = {}
    for key, changed, status, _ in results:
        if status == 200:
            winners.setdefault(key, changed)
    for key, changed, status, text in results:
        if key in winners and changed != winners[key]:
            assert status == 422, text
        else:
            assert status in (200, 409), text
    per_key = {k.rsplit(":key:", 1)[1]: n for k, n in _documents_by_key(database).items() if ":key:" in k}
    assert set(per_key) == {key for key, *_ in results} and set(per_key.values()) == {1}
    assert _verify(database, init["vcrId"]) == len(per_key)


@pytest.mark.postgres
def test_32_registers_selling_at_once_on_postgres_do_not_stall(tmp_path: Path) -> None:
    database = create_postgres_database()
    try:
        env = openvcr_env(tmp_path / "sandbox")
        init = init_json(database, env)
        settings = Settings(database_url=database, sandbox_state_dir=tmp_path / "sandbox")
        db = Database(database)
        src = SrcService(db, build_gateway(settings), settings)
        first = (init["apiKey"], int(init["cashier"]["id"]), 1)
        refs = [add_register(db, settings, src, f"R{n}") for n in range(1, 32)]
        registers = [first] + [(r.api_key, r.cashier_id, r.departments[0]) for r in refs]
        db.dispose()
        with serve(database, env, "--workers", "1") as (base, _process):
            barrier = threading.Barrier(32)

            def sell(register: tuple[str, int, int]) -> list[int | str]:
                key, cashier, department = register
                body = sale()
                body["cashier"] = {"id": cashier}
                body["items"][0]["department"] = body["items"][0]["offer"]["defaultDepartment"] = {"id": department}
                with httpx.Client(base_url=base, timeout=45) as http:
                    barrier.wait()
                    out: list[int | str] = []
                    for _ in range(3):
                        response = http.post("/api/v1/sales", json=body, headers={"X-API-KEY": key})
                        out.append(200 if response.status_code == 200 else response.text)
                    return out

            with ThreadPoolExecutor(32) as pool:
                statuses = [s for part in pool.map(sell, registers) for s in part]
        assert statuses == [200] * 96, [s for s in statuses if s != 200][:3]
    finally:
        drop_postgres_database(database)
