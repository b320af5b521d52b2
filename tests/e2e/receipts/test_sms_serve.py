"""Receipt SMS from a real ``openvcr serve`` (with its V-SDC listener) to the tests' SMSC over real SMPP PDUs: a
VCR API sale with ``buyer.phone`` and a V-SDC invoice with ``phone`` each arrive once, in UCS-2 Armenian, with
the fiscal number and the link; delivery receipts mark them delivered; an SMSC down for a while still gets
the message once afterwards."""

from __future__ import annotations

import json
import ssl
import time
from pathlib import Path
from typing import Any

import httpx

from openvcr.config import Settings
from openvcr.registers.signing_keys import clear_signer_cache
from openvcr.store.db import Database
from openvcr.vsdc import service
from tests.e2e.server import free_port, init_json, openvcr_env, run_cli, serve
from tests.fake_smsc import FakeSmsc, Submitted, fake_smsc
from tests.integration.prepayments.helpers import buyer, sale_body
from tests.unit.vsdc.seed import seed_json

PHONE = "+37491123456"
PUBLIC = "https://receipts.shop.test"


def cli_json(env: dict[str, str], *args: str) -> Any:
    done = run_cli(list(args), env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def wait_until(check: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError("timed out")


def sms_env(tmp_path: Path, smsc_port: int) -> dict[str, str]:
    return openvcr_env(
        tmp_path / "sandbox",
        OPENVCR_SMPP_URL=f"smpp://openvcr:secret@127.0.0.1:{smsc_port}?source=OpenVCR",
        OPENVCR_PUBLIC_URL=PUBLIC,
        OPENVCR_SMS_RETRY_BASE_SECONDS="0.2",
        OPENVCR_SMS_RETRY_MAX_SECONDS="0.5",
        OPENVCR_SMPP_TIMEOUT_SECONDS="3",
    )


def sell(base: str, api_key: str) -> dict[str, Any]:
    body = sale_body("4000")
    body["buyer"] = buyer(phone=PHONE)
    response = httpx.post(f"{base}/api/v1/sales", json=body, headers={"X-API-KEY": api_key}, timeout=30)
    assert response.status_code == 200, response.text
    return dict(response.json())


def accepted(smsc: FakeSmsc, destination: str) -> list[Submitted]:
    return [p for p in smsc.submitted if p.message_id and p.destination == destination]


def whole(parts: list[Submitted]) -> str:
    """The text of one concatenated message, its parts in order (each part once)."""
    assert len({p.udh[3] for p in parts}) == 1  # one reference
    assert sorted(p.udh[5] for p in parts) == list(range(1, parts[0].udh[4] + 1))
    return "".join(p.text for p in sorted(parts, key=lambda p: p.udh[5]))


def received(smsc: FakeSmsc, destination: str) -> str:
    """Wait until every part of the message to ``destination`` arrived; its text."""

    def complete() -> str | None:
        parts = accepted(smsc, destination)
        return whole(parts) if parts and len(parts) == parts[0].udh[4] else None

    return str(wait_until(complete))


def vsdc_device(database: str, tmp_path: Path) -> service.DeviceFiles:
    clear_signer_cache()
    settings = Settings(database_url=database, atax_state_dir=tmp_path / "atax")
    db = Database(database)
    try:
        service.init_ca(db, settings)
        service.add_taxpayer(db, tin="123456789", name="Seed Taxpayer", rates=service.parse_rates("A=0,B=18,C=16,D=32"))
        return service.add_device(db, settings, tin="123456789", mcr="777777777", out_dir=tmp_path / "device")
    finally:
        db.dispose()


def test_a_sale_and_a_vsdc_invoice_are_texted_once_and_marked_delivered(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'x.db'}"
    smsc_port, vsdc_port = free_port(), free_port()
    env = sms_env(tmp_path, smsc_port)
    init = init_json(database, env)
    done = run_cli(["registers", "update", str(init["vcrId"]), "--sms-receipts", "on", "--database", database], env)
    assert done.returncode == 0 and "receipt SMS on" in done.stdout, done.stderr
    [register] = cli_json(env, "registers", "list", "--json", "--database", database)
    assert register["smsReceipts"] is True
    files = vsdc_device(database, tmp_path)
    with (
        fake_smsc(smsc_port) as smsc,
        serve(database, env, "--vsdc-port", str(vsdc_port)) as (base, _process),
    ):
        smsc.auto_receipt = "DELIVRD"
        log = " ".join((tmp_path / f"serve-{base.rsplit(':', 1)[1]}.log").read_text().split())
        assert f"receipt SMS go through smpp://127.0.0.1:{smsc_port} (as openvcr, transceiver" in log
        assert "secret" not in log
        created = sell(base, init["apiKey"])
        sale_sms = received(smsc, "37491123456")
        link = f"{PUBLIC}/r/{created['urlId']}"
        assert sale_sms.startswith("«Ավազարկղ» ՍՊԸ: Կտրոն 4000.00 ֏, ՖՀ ")
        assert created["fiscal"] in sale_sms and sale_sms.endswith(link)
        assert {p.data_coding for p in accepted(smsc, "37491123456")} == {8}

        context = ssl.create_default_context(cafile=str(files.ca))
        context.load_cert_chain(str(files.cert), str(files.key))
        invoice = seed_json(phone="+37477123456", itype="Normal", ino="42")
        with httpx.Client(verify=context, timeout=30) as client:
            answer = client.post(f"https://127.0.0.1:{vsdc_port}/merchant/invoice", content=invoice,
                                 headers={"Content-Type": "application/json"})  # fmt: skip
        assert answer.status_code == 200, answer.text
        verification = answer.json()["verificationUrl"]
        vsdc_sms = received(smsc, "37477123456")
        assert vsdc_sms.startswith("Seed Taxpayer: Կտրոն 12120.00 ֏, ՖՀ ") and vsdc_sms.endswith(verification)

        def delivered() -> Any:
            rows = cli_json(env, "outbox", "list", "--kind", "receipt_sms", "--json", "--database", database)
            return rows if len(rows) == 2 and {r["status"] for r in rows} == {"delivered"} else None

        rows = wait_until(delivered)
        time.sleep(1.0)  # the worker had time to send again: it must not
        sent = accepted(smsc, "37491123456") + accepted(smsc, "37477123456")
        assert len(smsc.submitted) == len(sent)
    assert {tuple(r["remoteIds"]) for r in rows} == {
        tuple(p.message_id for p in sorted(accepted(smsc, d), key=lambda p: p.udh[5]))
        for d in ("37491123456", "37477123456")
    }
    assert [r["attempts"] for r in rows] == [1, 1]
    [status] = cli_json(env, "outbox", "status", "--json", "--database", database)[-1:]
    assert (status["kind"], status["delivered"], status["sent"], status["failed"]) == ("receipt_sms", 2, 0, 0)


def test_an_smsc_down_for_a_while_gets_the_message_once_afterwards(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'x.db'}"
    smsc_port = free_port()
    env = sms_env(tmp_path, smsc_port)
    init = init_json(database, env)
    assert run_cli(["registers", "update", "1", "--sms-receipts", "on", "--database", database], env).returncode == 0
    with serve(database, env) as (base, _process):
        created = sell(base, init["apiKey"])

        def retried() -> Any:
            rows = cli_json(env, "outbox", "list", "--kind", "receipt_sms", "--json", "--database", database)
            return rows if rows and rows[0]["attempts"] >= 2 else None

        [waiting] = wait_until(retried)
        assert waiting["status"] == "pending" and "cannot reach the SMSC" in waiting["lastError"]
        assert PHONE not in waiting["lastError"]
        smsc = FakeSmsc(smsc_port).start()
        try:
            text = received(smsc, "37491123456")
            assert created["fiscal"] in text and text.endswith(f"{PUBLIC}/r/{created['urlId']}")
            count = len(smsc.submitted)
            time.sleep(1.5)  # several more backoff periods
            assert len(smsc.submitted) == count
            for part in accepted(smsc, "37491123456"):
                assert part.message_id is not None and smsc.receipt(part.message_id, "DELIVRD")

            def delivered() -> Any:
                rows = cli_json(env, "outbox", "list", "--kind", "receipt_sms", "--json", "--database", database)
                return rows if rows[0]["status"] == "delivered" else None

            [listed] = wait_until(delivered)
        finally:
            smsc.stop()
    assert listed["attempts"] >= 3 and listed["lastError"] is None
