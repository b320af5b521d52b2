"""The API reference renders in headless Chromium with no network beyond the server: Swagger UI at /docs and
ReDoc at /redoc show the operations of /openapi.json; / links them. Every request the pages make is recorded,
and one to any other host fails the test."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import httpx
from playwright.sync_api import Browser, Page, Request

from tests.browser.conftest import Shop


def _open(browser: Browser, url: str, hosts: list[str]) -> Page:
    context = browser.new_context()
    page = context.new_page()

    def watch(request: Request) -> None:
        host = urlsplit(request.url).hostname
        if host is not None:
            hosts.append(host)

    page.on("request", watch)
    page.route(
        "**/*",
        lambda route: (
            route.continue_() if urlsplit(route.request.url).hostname in (None, "127.0.0.1") else route.abort()
        ),
    )
    page.goto(url)
    return page


def _summaries(shop: Shop) -> list[str]:
    spec = httpx.get(f"{shop.base}/openapi.json", timeout=10).json()
    return [op["summary"] for path in spec["paths"].values() for op in path.values() if op.get("summary")]


def test_swagger_ui_shows_the_operations_offline(browser: Browser, shop: Shop, artifacts: Path) -> None:
    hosts: list[str] = []
    page = _open(browser, f"{shop.base}/docs", hosts)
    page.wait_for_selector(".opblock-summary-path", timeout=30_000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/api/v1/sales" in p for p in paths) and any("/api/v1/whoami" in p for p in paths)
    assert page.locator(".opblock").count() >= len(_summaries(shop)) // 2
    page.screenshot(path=str(artifacts / "docs-swagger.png"), full_page=False)
    page.context.close()
    assert set(hosts) == {"127.0.0.1"}, hosts


def test_redoc_shows_the_operations_offline(browser: Browser, shop: Shop, artifacts: Path) -> None:
    hosts: list[str] = []
    page = _open(browser, f"{shop.base}/redoc", hosts)
    summary = _summaries(shop)[0]
    page.locator("h2", has_text=summary).first.wait_for(timeout=30_000)
    page.screenshot(path=str(artifacts / "docs-redoc.png"), full_page=False)
    page.context.close()
    assert set(hosts) == {"127.0.0.1"}, hosts


def test_the_front_page_links_the_references(browser: Browser, shop: Shop) -> None:
    hosts: list[str] = []
    page = _open(browser, f"{shop.base}/", hosts)
    hrefs = page.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert {"/docs", "/redoc", "/openapi.json", "/healthz"} <= set(hrefs)
    page.get_by_role("link", name="API reference (Swagger UI)").click()
    page.wait_for_selector(".opblock-summary-path", timeout=30_000)
    page.context.close()
    assert set(hosts) == {"127.0.0.1"}, hosts
