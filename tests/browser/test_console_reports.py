"""The console's reports page in headless Chromium against a real ``openvcr serve``: two sales and a refund made
through the API, then an X report and a (confirmed) Z report taken in the console, whose printed totals —
count, sum, per tender — are what the API sold; the PDF under the session; a second Z refused on the empty
shift. Screenshots: ``test-artifacts/browser/console-report-*.png``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from openvcr.receipts.render import amount
from openvcr.reports.i18n import strings
from tests.e2e.server import init_json, openvcr_env, serve

LINK = re.compile(r"(http://127\.0\.0\.1:\d+/console/login/[A-Za-z0-9_\-]+)")


class Served:
    def __init__(self, base: str, init: dict[str, Any], link: str) -> None:
        self.base = base
        self.init = init
        self.link = link
        self.api = httpx.Client(base_url=f"{base}/api/v1", headers={"X-API-KEY": init["apiKey"]}, timeout=30)

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = self.api.post(path, json=body)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("console-reports")
    database = f"sqlite:///{home / 'openvcr.db'}"
    env = openvcr_env(home / "sandbox")
    init = init_json(database, env)
    with serve(database, env) as (base, _process):
        found = LINK.search(next(home.glob("serve-*.log")).read_text())
        assert found is not None
        running = Served(base, init, found.group(1))
        try:
            yield running
        finally:
            running.api.close()


@pytest.fixture(scope="module")
def owner(browser: Browser, served: Served) -> Iterator[BrowserContext]:
    context = browser.new_context(base_url=served.base, locale="en-US")
    page = context.new_page()
    page.goto(served.link)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{served.base}/console/overview")
    page.close()
    yield context
    context.close()


def shot(page: Page, artifacts: Path, name: str) -> None:
    page.screenshot(path=str(artifacts / f"console-report-{name}.png"), full_page=True)


def printed_rows(page: Page) -> dict[str, str]:
    """The label → value rows of the embedded report (its sections' tables)."""
    rows = page.eval_on_selector_all(
        "article.shift-report section tr", "rows => rows.map(r => [r.cells[0].innerText, r.cells[1].innerText])"
    )
    return {label.strip(): value.strip() for label, value in rows}


def test_x_then_z_in_the_console_state_what_the_api_sold(
    owner: BrowserContext, served: Served, artifacts: Path
) -> None:
    cashier = {"id": 1}
    first = served.post("/sales", {
        "cashier": cashier,
        "items": [{"offer": {"externalId": "SKU-001"}, "quantity": "3", "price": "2000", "unit": "pc"},
                  {"offer": {"externalId": "SKU-002"}, "quantity": "1", "price": "1000", "unit": "unit"}],
        "amount": {"cash": "7000"},
    })  # fmt: skip
    second = served.post("/sales", {
        "cashier": cashier,
        "items": [{"offer": {"externalId": "SKU-001"}, "quantity": "2", "price": "2500", "unit": "pc"}],
        "amount": {"nonCash": "5000"},
    })  # fmt: skip
    served.post("/sales/refund", {"cashier": cashier, "saleId": second["saleId"],
                                  "items": [{"srcId": 0, "quantity": "1"}]})  # fmt: skip
    # what the API says it sold
    sales = [served.api.get(f"/sales/{s['saleId']}").json() for s in (first, second)]
    cash = sum(Decimal(str(s["cashAmount"])) for s in sales)
    non_cash = sum(Decimal(str(s["nonCashAmount"])) for s in sales)
    refunds = [r for s in sales for r in s["refunds"]]
    refund_cash = sum(Decimal(str(r["cashAmount"])) for r in refunds)
    refund_non_cash = sum(Decimal(str(r["nonCashAmount"])) for r in refunds)
    assert (cash, non_cash, len(refunds), refund_non_cash) == (Decimal(7000), Decimal(5000), 1, Decimal(2500))

    page = owner.new_page()
    page.goto("/console/reports")
    shot(page, artifacts, "list-empty")
    page.locator("#take-x").click()
    page.wait_for_selector("article.shift-report[data-report-type=x]")
    assert page.locator("h1").first.inner_text().startswith("X report")
    shot(page, artifacts, "x")

    page.goto("/console/reports")
    page.locator("#take-z").click()
    page.wait_for_selector("#confirm-z")
    shot(page, artifacts, "z-confirm")
    z_reports = served.api.get("/reports", params={"type": "z"}).json()["items"]
    assert z_reports == []  # the confirmation step took nothing
    page.locator("#confirm-z-button").click()
    page.wait_for_selector("article.shift-report[data-report-type=z]")
    shot(page, artifacts, "z")

    # the Z's totals (from the API) are what the API sold …
    [z] = served.api.get("/reports", params={"type": "z"}).json()["items"]
    totals = z["totals"]
    assert totals["documents"]["sale"]["count"] == 2
    assert Decimal(str(totals["documents"]["sale"]["total"])) == cash + non_cash
    assert totals["documents"]["saleRefund"]["count"] == 1
    assert Decimal(str(totals["documents"]["saleRefund"]["total"])) == refund_cash + refund_non_cash
    assert Decimal(str(totals["tenders"]["sale"]["cash"])) == cash
    assert Decimal(str(totals["tenders"]["sale"]["nonCash"])) == non_cash
    assert Decimal(str(totals["tenders"]["saleRefund"]["nonCash"])) == refund_non_cash
    # … and so is the page the console printed
    t = strings("en")
    rows = printed_rows(page)
    assert rows[f"{t['sale']} (2)"] == amount(cash + non_cash)
    assert rows[f"{t['sale_refund']} (1)"] == amount(refund_non_cash)
    assert rows[f"{t['sale']}: {t['cash']}"] == amount(cash)
    assert rows[f"{t['sale']}: {t['non_cash']}"] == amount(non_cash)
    assert rows[f"{t['sale_refund']}: {t['non_cash']}"] == amount(refund_non_cash)
    assert rows[t["net_cash"]] == amount(cash - refund_cash)

    # the PDF, through the console's session
    href = page.locator("#report-pdf").get_attribute("href")
    assert href == f"/console/reports/{z['id']}.pdf"
    pdf = page.request.get(href)
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf" and pdf.body()[:4] == b"%PDF"
    assert page.locator("#print").is_visible()
    page.emulate_media(media="print")
    assert not page.locator("header.top").is_visible() and not page.locator("#print").is_visible()
    shot(page, artifacts, "z-print")
    page.emulate_media(media="screen")

    # the list shows both; another Z on the empty shift is a clear 409
    page.goto("/console/reports")
    assert page.locator("tr[data-report]").count() == 2
    shot(page, artifacts, "list")
    page.locator("#take-z").click()
    page.wait_for_selector("#confirm-z")
    page.locator("#confirm-z-button").click()
    page.wait_for_selector("#refused")
    assert "The shift is empty" in page.locator("#refused").inner_text()
    shot(page, artifacts, "z-empty")
    assert len(served.api.get("/reports", params={"type": "z"}).json()["items"]) == 1
    page.goto("/console/audit")
    log = page.locator("#audit").inner_text()
    assert "report.x" in log and "report.z" in log
