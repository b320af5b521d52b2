"""Certificate expiry watched: a log line a day, the Prometheus gauge per register, ``/healthz`` degraded with
the reason, and an expired certificate refusing to send with an error that names the expiry (a 4xx)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from openvcr.api.app import create_app, watch_certificates
from openvcr.api.context import AppContext
from openvcr.authority.expiry import CertificateWatch
from openvcr.authority.factory import build_gateway, sandbox_simulator
from openvcr.authority.identity import MS_PER_DAY
from openvcr.authority.pool import RegisterGateways
from openvcr.authority.sandbox import ca
from openvcr.authority.service import SrcService
from openvcr.config import Settings
from openvcr.registers import onboarding
from openvcr.store.db import Database, now_ms
from openvcr.store.schema.foundation import registers
from openvcr.webhooks import service as webhooks
from tests.integration.webhooks.helpers import webhook_messages

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


def _mine(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """The certificate log lines of this thread (the app's start-up pass logs from its own thread)."""
    return [r for r in caplog.records if r.name == "openvcr.certificates" and r.thread == threading.get_ident()]


@dataclass
class Served:
    client: TestClient
    ctx: AppContext
    added: onboarding.AddedRegister
    settings: Settings


@pytest.fixture
def served(database: Database, tmp_path: Path) -> Iterator[Served]:
    """One production register whose certificate (from its CSR) is valid for 20 more days."""
    settings = Settings(database_url=database.url, sandbox_state_dir=tmp_path / "sandbox")
    gateway = build_gateway(settings, database)
    src = SrcService(database, gateway, settings)
    simulator = sandbox_simulator(settings)
    crn, sn = simulator.state.register(tin="01234567", taxpayer="Shop LLC", address="Yerevan")
    added = onboarding.add_register(
        database, settings, src, onboarding.NewRegister(True, "01234567", "Shop LLC", crn, sn, "Yerevan")
    )
    assert added.csr_pem is not None
    pem, _ = ca.sign_request(tmp_path / "ca", simulator.state, added.csr_pem.encode(), crn=crn, tin="01234567", days=21)
    onboarding.import_certificate(database, settings, src, added.register_id, cert=pem)
    app = create_app(settings, db=database, gateway=gateway)
    with TestClient(app) as client:
        yield Served(client, app.state.ctx, added, settings)


def test_an_expiring_certificate_degrades_healthz_sets_the_gauge_and_is_logged_once_a_day(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    watch = served.ctx.certificates = CertificateWatch(served.ctx.db)  # not the one the start-up pass used
    with caplog.at_level(logging.WARNING, logger="openvcr.certificates"):
        watch_certificates(served.ctx)
        watch_certificates(served.ctx)
    logged = _mine(caplog)
    assert len(logged) == 1 and logged[0].levelno == logging.WARNING and "19 days left" in logged[0].getMessage()
    health = served.client.get("/healthz")
    assert health.status_code == 200
    body = health.json()
    assert body["status"] == "degraded"
    assert body["reasons"] == [
        f"register {served.added.register_id} (CRN {served.added.crn}): its SRC certificate expires on "
        f"{body['reasons'][0].split('expires on ')[1].split(' (')[0]} (19 days left); import a renewed one"
    ]
    metrics = served.client.get("/metrics").text
    assert f'openvcr_certificate_days_left{{register="{served.added.register_id}"}} 19.0' in metrics

    caplog.clear()
    watch.clock = lambda: now_ms() + MS_PER_DAY  # the next day: logged again
    with caplog.at_level(logging.WARNING, logger="openvcr.certificates"):
        watch_certificates(served.ctx)
    assert len(_mine(caplog)) == 1


def test_a_certificate_valid_for_long_is_healthy(database: Database, tmp_path: Path) -> None:
    watch = CertificateWatch(database)
    assert watch.refresh() == () and watch.problems() == []
    settings = Settings(database_url=database.url, sandbox_state_dir=tmp_path / "sandbox")
    with TestClient(create_app(settings, db=database, gateway=build_gateway(settings, database))) as client:
        assert client.get("/healthz").json() == {"status": "ok"}


def test_an_expired_certificate_refuses_the_sale_with_a_409_naming_the_expiry(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    later = now_ms() + 30 * MS_PER_DAY
    gateway = served.ctx.gateway
    assert isinstance(gateway, RegisterGateways)
    gateway.clock = lambda: later
    served.ctx.certificates = CertificateWatch(served.ctx.db, clock=lambda: later)
    with caplog.at_level(logging.WARNING, logger="openvcr.certificates"):
        watch_certificates(served.ctx)
    assert [r.levelno for r in _mine(caplog)] == [logging.ERROR]
    receipts_before = sandbox_simulator(served.settings).state.summary(served.added.crn)
    response = served.client.post("/api/v1/sales", json=SALE, headers={"X-API-KEY": served.added.api_key})
    assert response.status_code == 409, response.text
    error = response.json()["error"]
    assert error.startswith("Not sent to SRC: CERTIFICATE_EXPIRED") and "expired on" in error
    assert sandbox_simulator(served.settings).state.summary(served.added.crn) == receipts_before
    assert "expired on" in served.client.get("/healthz").json()["reasons"][0]
    metrics = served.client.get("/metrics").text
    assert f'openvcr_certificate_days_left{{register="{served.added.register_id}"}} -11.0' in metrics  # rounded down


def test_integrators_are_told_once_per_stage_whatever_the_number_of_processes(served: Served) -> None:
    db = served.ctx.db
    with db.read() as conn:
        entity_id = conn.execute(
            select(registers.c.entity_id).where(registers.c.id == served.added.register_id)
        ).scalar_one()
    master_key = served.settings.master_key.get_secret_value()
    webhooks.create_endpoint(db, entity_id, "https://example.am/hook", ("certificate.expiring",), master_key)
    before = len(webhook_messages(db))  # the app's start-up pass ran before the endpoint existed

    def told_after(days: int) -> list[dict[str, object]]:
        for _process in range(2):  # two processes, each with its own watch, each refreshing twice
            watch = CertificateWatch(db, clock=lambda: now_ms() + days * MS_PER_DAY)
            watch.refresh()
            watch.refresh()
        return [m["event"]["data"] for m in webhook_messages(db)[before:]]

    assert [d["daysLeft"] for d in told_after(0)] == [19]  # within 30 days: the first stage, once
    assert [d["daysLeft"] for d in told_after(5)] == [19]  # still the same stage: nothing new
    assert [d["daysLeft"] for d in told_after(13)] == [19, 6]  # under 7 days left
    told = told_after(25)  # expired: the last stage
    assert [(d["daysLeft"], d["status"]) for d in told] == [(19, "expiring"), (6, "expiring"), (-6, "expired")]
    assert all(d["crn"] == served.added.crn and d["registerId"] == served.added.register_id for d in told)
