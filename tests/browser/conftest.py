"""Browser tests: a real ``openvcr serve`` process and headless Debian Chromium driven by Playwright.

Chromium is Debian's ``chromium`` package (``make test`` installs it when run as root); Playwright never
downloads a browser here (``executable_path``). Without chromium the tests skip, except under ``CI=true``,
where they fail. Screenshots (and a PDF of the print view) are written to ``test-artifacts/browser/``
(git-ignored; ``OPENVCR_TEST_ARTIFACTS`` overrides the directory).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright

from openvcr.sales.rates import yerevan_today
from tests.e2e.server import init_json, openvcr_env, run_cli, serve

DEBIAN_CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]


def chromium_executable() -> str:
    """The chromium to drive; skips the test without one (fails under ``CI=true``)."""
    found = DEBIAN_CHROMIUM if os.access(DEBIAN_CHROMIUM, os.X_OK) else shutil.which("chromium")
    if found is None:
        reason = "no chromium (Debian: apt-get install chromium; make test installs it as root)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}: under CI=true browser tests may not skip")
        pytest.skip(reason)
    return found


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    """Per module: Playwright's sync API keeps an event loop running in the main thread while it is open, and
    later tests (the SDK's async client) need that thread free of one."""
    chromium_executable()
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    launched = playwright.chromium.launch(executable_path=chromium_executable(), headless=True)
    try:
        yield launched
    finally:
        launched.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    directory = Path(os.environ.get("OPENVCR_TEST_ARTIFACTS") or ROOT / "test-artifacts") / "browser"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


class Shop:
    """A served register and the documents registered on it for the page tests."""

    def __init__(self, base: str, database: str, init: dict[str, Any]) -> None:
        self.base = base
        self.database = database
        self.init = init
        self.crn = str(init["crn"])
        self.client = httpx.Client(base_url=f"{base}/api/v1", headers={"X-API-KEY": init["apiKey"]}, timeout=30)

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.client.post(path, json=body)
        assert response.status_code == 200, response.text
        return dict(response.json())


def item(external_id: str, department: int, price: str, quantity: str = "1", **extra: Any) -> dict[str, Any]:
    return {
        "offer": {
            "title": {
                "type": "localized",
                "content": {"hy": f"Ապրանք {external_id}", "ru": f"Товар {external_id}", "en": f"Goods {external_id}"},
            },
            "type": "product",
            "classifierCode": "0901",
            "defaultMeasureUnit": "pc",
            "defaultDepartment": {"id": department},
            "externalId": external_id,
        },
        "department": {"id": department},
        "quantity": quantity,
        "price": price,
        "unit": "pc",
        **extra,
    }


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    """``openvcr serve`` (public URL: the served address) with one register and its documents."""
    home = tmp_path_factory.mktemp("shop")
    database = f"sqlite:///{home / 'openvcr.db'}"
    env = openvcr_env(home / "sandbox")
    init = init_json(database, env)
    yesterday = (yerevan_today() - timedelta(days=1)).isoformat()
    done = run_cli(["rates", "set", "USD", "387.50", "--date", yesterday, "--database", database], env)
    assert done.returncode == 0, done.stderr
    with serve(database, env) as (base, _process):
        served = Shop(base, database, init)
        try:
            yield served
        finally:
            served.client.close()
