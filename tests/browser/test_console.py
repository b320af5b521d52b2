"""The merchant console in headless Chromium against a real ``openvcr serve``: the first login from the link
``serve`` prints, an accountant kept away from API keys, a key created and revoked (the API then answers 401),
a sale made through the API found in the list with a working receipt link, a partial refund from the console,
and a screenshot of every page (desktop and phone) under ``test-artifacts/browser/console-*.png``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from tests.e2e.server import add_console_user, init_json, openvcr_env, serve

PASSWORD = "accountant's long password"
LINK = re.compile(r"(http://127\.0\.0\.1:\d+/console/login/[A-Za-z0-9_\-]+)")
PAGES = ("overview", "sales", "prepayments", "documents", "catalog", "registers", "keys", "outbox", "devices", "people",
         "audit", "account", "reports", "webhooks")  # fmt: skip


class Served:
    def __init__(self, base: str, init: dict[str, Any], link: str) -> None:
        self.base = base
        self.init = init
        self.link = link
        self.api = httpx.Client(base_url=f"{base}/api/v1", headers={"X-API-KEY": init["apiKey"]}, timeout=30)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("console")
    database = f"sqlite:///{home / 'openvcr.db'}"
    env = openvcr_env(home / "sandbox", OPENVCR_KEY_CACHE_SECONDS="0")
    init = init_json(database, env)
    with serve(database, env) as (base, _process):
        printed = next(home.glob("serve-*.log")).read_text()
        found = LINK.search(printed)
        assert found is not None, printed
        assert "Console: first owner owner@example.com" in printed
        add_console_user(database, env, "accountant@shop.example", "accountant", init["tin"], PASSWORD)
        running = Served(base, init, found.group(1))
        try:
            yield running
        finally:
            running.api.close()


@pytest.fixture(scope="module")
def owner(browser: Browser, served: Served) -> Iterator[BrowserContext]:
    context = browser.new_context(base_url=served.base)
    yield context
    context.close()


def shot(page: Page, artifacts: Path, name: str) -> None:
    page.screenshot(path=str(artifacts / f"console-{name}.png"), full_page=True)


def no_outside_requests(page: Page, base: str) -> list[str]:
    outside: list[str] = []
    page.on("request", lambda request: None if request.url.startswith(base) else outside.append(request.url))
    return outside


def test_first_login_from_the_printed_link_then_every_page(
    owner: BrowserContext, served: Served, artifacts: Path
) -> None:
    page = owner.new_page()
    outside = no_outside_requests(page, served.base)
    page.goto(served.link)
    shot(page, artifacts, "login-link")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{served.base}/console/overview")
    assert page.locator("h1").inner_text() == "Overview"
    assert page.locator("svg.chart").count() == 3
    for name in PAGES:
        response = page.goto(f"/console/{name}")
        assert response is not None and response.status == 200, name
        shot(page, artifacts, name)
    assert page.evaluate("typeof htmx") == "object"  # the vendored htmx loaded (from the package)
    assert outside == []
    # the link worked once
    again = owner.browser.new_context(base_url=served.base) if owner.browser else None
    assert again is not None
    other = again.new_page()
    other.goto(served.link)
    other.get_by_role("button", name="Continue").click()
    assert "/console/login" in other.url and other.locator("[role=alert]").count() == 1
    again.close()


def test_the_console_on_a_phone_in_armenian(
    browser: Browser, owner: BrowserContext, served: Served, artifacts: Path
) -> None:
    cookies = owner.cookies()
    phone = browser.new_context(base_url=served.base, viewport={"width": 390, "height": 844}, is_mobile=True)
    phone.add_cookies(cookies)
    page = phone.new_page()
    page.goto("/console/language/hy?next=/console/overview")
    assert page.locator("h1").inner_text() == "Ամփոփում"
    shot(page, artifacts, "phone-overview-hy")
    page.get_by_role("link", name="Վաճառքներ").click()
    page.wait_for_url(f"{served.base}/console/sales")
    assert page.locator("h1").inner_text() == "Վաճառքներ"
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width  # nothing wider than the phone (tables scroll inside their box)
    shot(page, artifacts, "phone-sales-hy")
    phone.close()


def test_an_accountant_signs_in_with_the_form_and_cannot_open_keys(
    browser: Browser, served: Served, artifacts: Path
) -> None:
    context = browser.new_context(base_url=served.base)
    page = context.new_page()
    page.goto("/console/login")
    page.fill("input[name=email]", "accountant@shop.example")
    page.fill("input[name=password]", PASSWORD)
    page.keyboard.press("Enter")  # the form works from the keyboard
    page.wait_for_url(f"{served.base}/console/overview")
    assert page.get_by_role("link", name="API keys").count() == 0
    response = page.goto("/console/keys")
    assert response is not None and response.status == 403
    shot(page, artifacts, "accountant-keys-403")
    context.close()


def test_a_key_created_in_the_console_works_and_once_revoked_gets_401(
    owner: BrowserContext, served: Served, artifacts: Path
) -> None:
    page = owner.new_page()
    page.goto("/console/keys")
    page.fill("#key-name", "web shop")
    page.get_by_role("button", name="Create").click()
    secret = page.locator("#new-key").inner_text()
    assert secret.startswith("ovcr_")
    shot(page, artifacts, "key-created")
    whoami = httpx.get(f"{served.base}/api/v1/whoami", headers={"X-API-KEY": secret}, timeout=30)
    assert whoami.status_code == 200
    page.goto("/console/keys")
    assert secret not in page.content()  # shown once
    row = page.locator("tr", has_text="web shop")
    row.get_by_role("button", name="Revoke").click()
    page.wait_for_url(f"{served.base}/console/keys")
    assert "Revoked" in page.locator("tr", has_text="web shop").inner_text()
    whoami = httpx.get(f"{served.base}/api/v1/whoami", headers={"X-API-KEY": secret}, timeout=30)
    assert whoami.status_code == 401


def test_a_sale_from_the_api_is_listed_its_receipt_opens_and_a_line_is_refunded(
    owner: BrowserContext, served: Served, artifacts: Path
) -> None:
    sale = served.api.post("/sales", json={
        "cashier": {"id": 1},
        "items": [{"offer": {"externalId": "SKU-001"}, "quantity": "3", "price": "2000", "unit": "pc"},
                  {"offer": {"externalId": "SKU-002"}, "quantity": "1", "price": "1000", "unit": "unit"}],
        "amount": {"cash": "7000"},
    })  # fmt: skip
    assert sale.status_code == 200, sale.text
    sale_id = sale.json()["saleId"]
    page = owner.new_page()
    page.goto("/console/sales")
    page.locator(f"tr[data-sale='{sale_id}'] a").click()
    page.wait_for_url(f"{served.base}/console/sales/{sale_id}")
    shot(page, artifacts, "sale")
    receipt = page.locator("#receipt-link").get_attribute("href")
    pdf = page.locator("#pdf-link").get_attribute("href")
    assert receipt == sale.json()["receiptUrl"]
    assert pdf is not None and httpx.get(f"{served.base}{pdf}", timeout=30).headers["content-type"] == "application/pdf"
    receipt_page = owner.new_page()
    opened = receipt_page.goto(receipt)
    assert opened is not None and opened.status == 200
    assert sale.json()["fiscal"] in receipt_page.content()
    receipt_page.close()
    page.fill("#qty_0", "1")
    page.get_by_role("button", name="Refund these lines").click()
    page.wait_for_selector("[role=status]")
    assert "Refund registered" in page.locator("[role=status]").inner_text()
    shot(page, artifacts, "sale-refunded")
    refunds = served.api.get(f"/sales/{sale_id}").json()["refunds"]
    assert [r["items"] for r in refunds] == [[{"quantity": 1}]]
    page.goto("/console/audit")
    assert "sale.refund" in page.locator("#audit").inner_text()
    page.goto("/console/overview")
    assert page.locator("[data-figure=refunds]").first.inner_text() == "2\u202f000.00"
    shot(page, artifacts, "overview-with-sales")
