"""Late fiscalization against an SRC sandbox run as its own process: stopped (``kill -STOP``) or gone.

- A stopped SRC takes the request and never answers: the document is in doubt (502, ``mayResubmit: false``)
  in both modes; after ``kill -CONT`` SRC registers what it had received and the maintenance pass settles
  every document, in order, each with its receipt — never a second receipt.
- An SRC that refuses connections registered nothing: with late fiscalization on the documents are
  deferred (502, ``mayResubmit: false``) and fiscalized in order once SRC is back; off, they are dropped
  (502, ``mayResubmit: true``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from openvcr.registers import journal
from openvcr.registers.export import verify_database
from openvcr.store.db import Database
from tests.e2e.server import free_port, init_json, openvcr_env, run_cli, serve

SALE = {
    "cashier": {"id": 1},
    "items": [
        {
            "offer": {"title": {"type": "universal", "content": "Tea"}, "type": "product", "classifierCode": "0902",
                      "defaultMeasureUnit": "pc", "defaultDepartment": {"id": 1}, "externalId": "TEA"},
            "department": {"id": 1}, "quantity": "1", "price": "700", "unit": "pc",
        }
    ],
    "autoSettle": {"tender": "cash"},
}  # fmt: skip


def priced(price: int) -> dict[str, Any]:
    """The sale at another price: documents in doubt are told apart by their amounts (printCopy resolution)."""
    return {**SALE, "items": [{**SALE["items"][0], "price": str(price)}]}  # type: ignore[dict-item]


@contextmanager
def sandbox_process(state: Path, port: int, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    args = [sys.executable, "-m", "openvcr", "sandbox", "src", "--port", str(port), "--state", str(state)]
    process = subprocess.Popen(
        args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except httpx.HTTPError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("the SRC sandbox did not start") from None
                time.sleep(0.1)
        yield process
    finally:
        os.killpg(process.pid, signal.SIGCONT)
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)


def _env(tmp_path: Path, src_url: str) -> dict[str, str]:
    return openvcr_env(
        tmp_path / "unused",
        OPENVCR_SRC_MODE="remote",
        OPENVCR_SRC_URL=src_url,
        OPENVCR_SRC_TIMEOUT_SECONDS="1",
        OPENVCR_SRC_CONNECT_TIMEOUT_SECONDS="1",
        OPENVCR_MAINTENANCE_INTERVAL_SECONDS="0.5",
        OPENVCR_RECOVERY_MIN_AGE_SECONDS="1",
    )


def _states(http: httpx.Client, key: str, ids: list[int]) -> list[tuple[str, Any]]:
    out = []
    for sale_id in ids:
        detail = http.get(f"/api/v1/sales/{sale_id}", headers={"X-API-KEY": key}).json()
        out.append((detail["fiscalStatus"], detail["receipt"]))
    return out


def _wait_settled(http: httpx.Client, key: str, ids: list[int], timeout: float = 60) -> list[tuple[str, Any]]:
    """Wait until every document is completed or dropped; return their (state, receipt)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        states = _states(http, key, ids)
        if all(state in ("completed", "dropped") for state, _ in states):
            return states
        time.sleep(0.5)
    raise AssertionError(f"not settled: {_states(http, key, ids)}")


def _src_holds_exactly(src_url: str, crn: str, receipt_ids: list[int]) -> None:
    """SRC's receipts are exactly ``receipt_ids``: 1…n, none past the last one (never a second receipt)."""
    from openvcr.authority.errors import AuthorityRejected
    from openvcr.authority.factory import build_gateway
    from openvcr.config import Settings

    gateway = build_gateway(Settings(src_mode="remote", src_url=src_url))
    assert sorted(receipt_ids) == list(range(1, len(receipt_ids) + 1))
    with pytest.raises(AuthorityRejected) as missing:
        gateway.print_copy(crn, None, len(receipt_ids) + 1)
    assert missing.value.code == 176


def _journal_refs(database: str, register_id: int) -> list[str]:
    db = Database(database)
    try:
        with db.read() as conn:
            refs = [e.doc_ref for e in journal.entries(conn, register_id)]
        assert verify_database(db, register_id=register_id).entries == len(refs)
    finally:
        db.dispose()
    return refs


@pytest.mark.parametrize("late", ["on", "off"])
def test_a_stopped_src_leaves_documents_in_doubt_then_they_complete_in_order(tmp_path: Path, late: str) -> None:
    port = free_port()
    with sandbox_process(tmp_path / "src", port, openvcr_env(tmp_path / "unused")) as src:
        env = _env(tmp_path, f"http://127.0.0.1:{port}/taxsystem-rs-vcr")
        database = f"sqlite:///{tmp_path / 'late.db'}"
        init = init_json(database, env)
        done = run_cli(
            ["registers", "update", str(init["vcrId"]), "--late-fiscalization", late, "--database", database], env
        )
        assert done.returncode == 0, done.stderr
        key = init["apiKey"]
        with serve(database, env) as (base, _process), httpx.Client(base_url=base, timeout=30) as http:
            first = http.post("/api/v1/sales", json=SALE, headers={"X-API-KEY": key})
            assert first.status_code == 200, first.text
            os.killpg(src.pid, signal.SIGSTOP)
            pending: list[int] = []
            for n in range(3):
                response = http.post(
                    "/api/v1/sales", json=priced(710 + n), headers={"X-API-KEY": key, "Idempotency-Key": f"s{n}"}
                )
                assert response.status_code == 502, response.text
                body = response.json()["pending"]
                assert body["type"] == "sale" and body["statusUrl"] == f"/api/v1/sales/{body['id']}"
                pending.append(body["id"])
            states = _states(http, key, pending)
            assert all(receipt is None for _, receipt in states)
            # A request that reached the stopped SRC is in doubt (the server settles it: mayResubmit false);
            # once SRC's listen queue is full, a connection fails before anything is sent: such a document is
            # deferred (late fiscalization on) or dropped (off).
            unsent = "deferred" if late == "on" else "dropped"
            assert {state for state, _ in states} <= {"in_doubt", unsent} and states[0][0] == "in_doubt"
            os.killpg(src.pid, signal.SIGCONT)
            settled = _wait_settled(http, key, pending)
        completed = [doc for doc, (state, _) in zip(pending, settled, strict=True) if state == "completed"]
        receipts = [receipt["srcId"] for state, receipt in settled if state == "completed"]
        if late == "on":
            assert completed == pending  # every document kept is fiscalized, in order
        assert receipts == sorted(receipts)
        _src_holds_exactly(env["OPENVCR_SRC_URL"], init["crn"], [first.json()["srcReceiptId"], *receipts])
    assert _journal_refs(database, init["vcrId"]) == [str(first.json()["saleId"]), *map(str, completed)]


@pytest.mark.parametrize("late", ["on", "off"])
def test_an_src_refusing_connections_defers_or_drops_by_the_register_setting(tmp_path: Path, late: str) -> None:
    port = free_port()
    src_url = f"http://127.0.0.1:{port}/taxsystem-rs-vcr"
    env = _env(tmp_path, src_url)
    database = f"sqlite:///{tmp_path / 'late.db'}"
    with sandbox_process(tmp_path / "src", port, openvcr_env(tmp_path / "unused")):
        init = init_json(database, env)
    done = run_cli(
        ["registers", "update", str(init["vcrId"]), "--late-fiscalization", late, "--database", database], env
    )
    assert done.returncode == 0, done.stderr
    listed = run_cli(["registers", "list", "--json", "--database", database], env)
    assert f'"lateFiscalization": {"true" if late == "on" else "false"}' in listed.stdout
    key = init["apiKey"]
    with serve(database, env) as (base, _process), httpx.Client(base_url=base, timeout=30) as http:
        pending = []
        for n in range(3):  # SRC is down: nothing listens on its port
            response = http.post("/api/v1/sales", json=SALE, headers={"X-API-KEY": key, "Idempotency-Key": f"d{n}"})
            assert response.status_code == 502, response.text
            body = response.json()["pending"]
            assert body["mayResubmit"] is (late == "off")
            pending.append(body["id"])
        expected = "deferred" if late == "on" else "dropped"
        assert [state for state, _ in _states(http, key, pending)] == [expected] * 3
        with sandbox_process(tmp_path / "src", port, openvcr_env(tmp_path / "unused")):
            if late == "on":
                settled = _wait_settled(http, key, pending)
                assert [state for state, _ in settled] == ["completed"] * 3
                receipts = [receipt["srcId"] for _, receipt in settled]
                assert receipts == sorted(receipts)
            else:
                time.sleep(2)  # a few maintenance passes: nothing may send a dropped document
                assert [state for state, _ in _states(http, key, pending)] == ["dropped"] * 3
                again = http.post("/api/v1/sales", json=SALE, headers={"X-API-KEY": key, "Idempotency-Key": "d0"})
                assert again.status_code == 200 and again.json()["saleId"] not in pending
    refs = _journal_refs(database, init["vcrId"])
    assert refs == (list(map(str, pending)) if late == "on" else [str(again.json()["saleId"])])
