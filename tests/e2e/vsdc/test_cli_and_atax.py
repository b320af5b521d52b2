"""The ``openvcr vsdc`` / ``outbox`` / ``sandbox atax`` commands as real processes, and delivery to a real
aTAX sandbox process across an outage and restarts."""

from __future__ import annotations

import json
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
from cryptography.hazmat.primitives.serialization import load_pem_private_key, pkcs12

from openvcr.config import Settings
from openvcr.outbox import repository as outbox
from openvcr.outbox.worker import OutboxWorker
from openvcr.registers.signing_keys import clear_signer_cache
from openvcr.store.db import Database
from openvcr.vsdc import service
from openvcr.vsdc.atax.client import deliverers
from openvcr.vsdc.schemas import parse_body
from tests.e2e.server import free_port, openvcr_env, run_cli
from tests.unit.vsdc.seed import seed_json

LATER = 10**15


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    done = run_cli(list(args), env)
    assert done.returncode == 0, done.stderr
    return done


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return openvcr_env(tmp_path / "sandbox")


def test_ca_taxpayer_and_device_commands(db_url: str, env: dict[str, str], tmp_path: Path) -> None:
    ca = cli(env, "vsdc", "ca", "init", "--database", db_url).stdout
    assert ca.startswith("-----BEGIN CERTIFICATE-----")
    assert cli(env, "vsdc", "ca", "init", "--database", db_url).stdout == ca  # kept, not replaced
    added = cli(env, "vsdc", "taxpayer", "add", "--tin", "123456789", "--name", "Seed", "--rates", "A=0,B=18,C=16,D=32",
                "--database", db_url)  # fmt: skip
    assert json.loads(added.stdout)["tin"] == "123456789"
    out = tmp_path / "dev"
    device = cli(env, "vsdc", "device", "add", "--tin", "123456789", "--mcr", "777777777", "--out", str(out),
                 "--passphrase", "s3cret", "--database", db_url)  # fmt: skip
    files = json.loads(device.stdout)
    assert set(files) == {"serial", "cert", "key", "p12", "ca"}
    assert files["cert"] == str(out / f"{files['serial']}.pem")
    assert Path(files["ca"]).read_text() == ca
    key_pem = Path(files["key"]).read_bytes()
    assert b"ENCRYPTED" in key_pem
    load_pem_private_key(key_pem, password=b"s3cret")
    bundle = pkcs12.load_pkcs12(Path(files["p12"]).read_bytes(), b"s3cret")
    assert bundle.cert is not None
    assert format(bundle.cert.certificate.serial_number, "x") == files["serial"]
    assert oct(Path(files["key"]).stat().st_mode & 0o777) == "0o600"
    status = json.loads(cli(env, "outbox", "status", "--json", "--database", db_url).stdout)
    assert [(s["kind"], s["pending"], s["delivered"], s["failed"]) for s in status] == [("atax.vsdc_device", 1, 0, 0)]
    revoked = cli(env, "vsdc", "device", "revoke", "--mcr", "777777777", "--database", db_url)
    assert json.loads(revoked.stdout) == {"mcr": "777777777", "revoked": True}


def test_bad_input_is_refused_with_a_clear_error_and_writes_nothing(db_url: str, env: dict[str, str]) -> None:
    cli(env, "vsdc", "ca", "init", "--database", db_url)
    args = ["vsdc", "taxpayer", "add", "--tin", "1", "--name", "X", "--rates", "A=0,B=18", "--database", db_url]
    done = run_cli(args, env)
    assert done.returncode == 1
    assert "rates of C, D are missing" in done.stderr
    done = run_cli(["vsdc", "device", "add", "--tin", "1", "--mcr", "9", "--out", "/tmp/x", "--database", db_url], env)
    assert done.returncode == 1
    assert "TIN 1 is not a V-SDC taxpayer" in done.stderr
    done = run_cli(["vsdc", "device", "revoke", "--mcr", "9", "--database", db_url], env)
    assert done.returncode == 1
    assert "MCR 9 does not exist" in done.stderr
    assert json.loads(cli(env, "outbox", "status", "--json", "--database", db_url).stdout) == []


@contextmanager
def atax_sandbox(port: int, state: Path, env: dict[str, str]) -> Iterator[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "openvcr", "sandbox", "atax", "--port", str(port), "--state", str(state)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, "the aTAX sandbox exited"
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the aTAX sandbox did not start"
            time.sleep(0.1)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # a hard stop: what it acknowledged must have been stored
        process.wait(timeout=15)


def _statuses(db: Database) -> dict[str, tuple[int, int, int]]:
    with db.read() as conn:
        return {s.kind: (s.pending, s.delivered, s.failed) for s in outbox.status(conn)}


def _deliver(settings: Settings) -> dict[str, tuple[int, int, int]]:
    """One pass of a freshly started worker process-equivalent (new database handle, new worker)."""
    db = Database(settings.database_url)
    try:
        OutboxWorker(db, deliverers(settings, db)).run_once(now=LATER)
        return _statuses(db)
    finally:
        db.dispose()


def test_invoices_reach_a_real_atax_sandbox_exactly_once_across_an_outage_and_restarts(
    database: Database, env: dict[str, str], tmp_path: Path
) -> None:
    clear_signer_cache()
    port = free_port()
    settings = Settings(database_url=database.url, atax_url=f"http://127.0.0.1:{port}", atax_timeout_seconds=5)
    service.init_ca(database, settings)
    service.add_taxpayer(database, tin="123456789", name="Seed", rates=service.parse_rates("A=0,B=18,C=16,D=32"))
    files = service.add_device(database, settings, tin="123456789", mcr="777777777", out_dir=tmp_path / "d")

    def fiscalize(**changes: Any) -> None:
        fields = parse_body(seed_json(**changes), "json")
        service.fiscalize(database, settings, cert_serial=files.serial, fields=fields)

    fiscalize(itype="Normal")
    state = tmp_path / "atax-state"
    # aTAX is down: nothing is lost, everything stays pending
    assert _deliver(settings) == {"atax.vsdc_device": (1, 0, 0), "atax.vsdc_invoice": (1, 0, 0)}
    with atax_sandbox(port, state, env) as base:
        assert _deliver(settings) == {"atax.vsdc_device": (0, 1, 0), "atax.vsdc_invoice": (0, 1, 0)}
    fiscalize(itype="Normal", ino="2")
    assert _deliver(settings)["atax.vsdc_invoice"] == (1, 1, 0)  # down again
    with atax_sandbox(port, state, env) as base:  # restarted on the same state
        assert _deliver(settings)["atax.vsdc_invoice"] == (0, 2, 0)
        received = httpx.get(base + "/api/v1/devices/777777777/invoices", timeout=5).json()
    assert [(r["ino"], r["invoiceCount"]) for r in received] == [("xxxxxxxxxxxxxxx", 1), ("2", 2)]
    assert received[1]["counters"]["salesTotal"] == "24240.00"
