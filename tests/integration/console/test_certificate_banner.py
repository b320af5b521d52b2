"""The certificate banner: a business whose register's own SRC certificate expires within 30 days (or has
expired) sees, on every console page, a banner naming the register and the date — from the certificate
watch's snapshot; another business sees none, and none is shown once the snapshot says all is well."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from openvcr.api.context import AppContext
from openvcr.authority.expiry import CertificateWatch
from openvcr.authority.factory import build_gateway, sandbox_simulator
from openvcr.authority.identity import MS_PER_DAY, iso_date
from openvcr.authority.sandbox import ca
from openvcr.authority.service import SrcService
from openvcr.registers import onboarding
from openvcr.store.db import now_ms
from tests.integration.console.conftest import Console
from tests.integration.console.test_web import PAGES, fresh, sign_in

BANNER = re.compile(r'<p class="banner (expiring|expired)" role="alert" data-certificate-register="(\d+)">(.*?)</p>')


def add_certified_register(c: Console, tmp_path: Path, days: int) -> tuple[int, str]:
    """A production register of business A with its own certificate valid for ``days`` days; (id, CRN)."""
    src = SrcService(c.db, build_gateway(c.settings, c.db), c.settings)
    simulator = sandbox_simulator(c.settings)
    crn, sn = simulator.state.register(tin=c.a.tin, taxpayer="«Ավազարկղ» ՍՊԸ", address="Yerevan")
    added = onboarding.add_register(
        c.db, c.settings, src, onboarding.NewRegister(True, c.a.tin, None, crn, sn, "Yerevan")
    )
    assert added.csr_pem is not None
    pem, _ = ca.sign_request(tmp_path / "ca", simulator.state, added.csr_pem.encode(), crn=crn, tin=c.a.tin, days=days)
    onboarding.import_certificate(c.db, c.settings, src, added.register_id, cert=pem)
    return added.register_id, crn


def context(c: Console) -> AppContext:
    ctx = c.client.app.state.ctx  # type: ignore[attr-defined]
    assert isinstance(ctx, AppContext)
    return ctx


def english(c: Console, email: str) -> TestClient:
    client = fresh(c)
    client.headers["accept-language"] = "en"
    sign_in(client, email)
    return client


def test_every_page_of_the_business_names_the_register_and_the_date(two_businesses: Console, tmp_path: Path) -> None:
    c = two_businesses
    register_id, crn = add_certified_register(c, tmp_path, days=21)
    owner = english(c, "owner@a.example")
    [state] = context(c).certificates.refresh()
    assert state.entity_id is not None and state.status == "expiring"
    date = iso_date(state.not_after)
    for path in PAGES:
        if "{" in path:
            continue
        page = owner.get(path)
        assert page.status_code == 200, path
        found = BANNER.search(page.text)
        assert found is not None, path
        assert found.group(1) == "expiring" and found.group(2) == str(register_id)
        assert str(register_id) in found.group(3) and crn in found.group(3) and date in found.group(3)
    accountant = english(c, "accountant@a.example")
    assert BANNER.search(accountant.get("/console/sales").text) is not None
    other = english(c, "owner@b.example")  # another business: no banner, nothing of A's register
    page = other.get("/console/overview").text
    assert BANNER.search(page) is None and crn not in page
    # in Armenian too
    armenian = fresh(c)
    sign_in(armenian, "developer@a.example")
    found = BANNER.search(armenian.get("/console/registers").text)
    assert found is not None and "ՊԵԿ վկայականի" in found.group(3) and date in found.group(3)


def test_an_expired_certificate_is_an_expired_banner_and_a_valid_one_none(
    two_businesses: Console, tmp_path: Path
) -> None:
    c = two_businesses
    register_id, _crn = add_certified_register(c, tmp_path, days=21)
    ctx = context(c)
    ctx.certificates = CertificateWatch(c.db, clock=lambda: now_ms() + 40 * MS_PER_DAY)
    ctx.certificates.refresh()
    owner = english(c, "owner@a.example")
    found = BANNER.search(owner.get("/console/overview").text)
    assert found is not None and found.group(1) == "expired" and found.group(2) == str(register_id)
    assert "expired on" in found.group(3)
    ctx.certificates = CertificateWatch(c.db, clock=lambda: now_ms() - 30 * MS_PER_DAY)  # 51 days left then
    ctx.certificates.refresh()
    assert BANNER.search(owner.get("/console/overview").text) is None
