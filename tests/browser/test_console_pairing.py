"""Pairing in headless Chromium against a real ``openvcr serve``: a shop (a loopback HTTP server as its redirect
target, the SDK for its API calls) asks to connect; the merchant signs in, sees the shop's name and host, picks
a register and approves; the shop receives ``code`` and ``state``, exchanges the code with its PKCE verifier,
and its new key works and is listed on the console's keys page under the shop's name. A second request is
denied (``error=access_denied``). Screenshots: ``test-artifacts/browser/pairing-*.png``."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, Page

from openvcr.client import Client, ConnectRequestCreate, pkce_pair
from tests.e2e.server import add_console_user, free_port, init_json, openvcr_env, serve

PASSWORD = "the developer's long password"


@dataclass
class ShopServer:
    """The shop's redirect target on loopback: remembers the query of every ``/callback`` it is sent to."""

    url: str
    received: list[dict[str, list[str]]] = field(default_factory=list)


@pytest.fixture(scope="module")
def shop() -> Iterator[ShopServer]:
    port = free_port()
    target = ShopServer(f"http://127.0.0.1:{port}/callback")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if parts.path == "/callback":
                target.received.append(parse_qs(parts.query))
            body = b"<!doctype html><title>Green Shop</title><h1>Green Shop: back from OpenVCR</h1>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield target
    finally:
        server.shutdown()
        server.server_close()


@dataclass(frozen=True)
class Served:
    base: str
    init: dict[str, Any]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("pairing")
    database = f"sqlite:///{home / 'openvcr.db'}"
    port = free_port()
    env = openvcr_env(home / "sandbox", OPENVCR_PUBLIC_URL=f"http://127.0.0.1:{port}")
    init = init_json(database, env)
    add_console_user(database, env, "dev@shop.example", "developer", init["tin"], PASSWORD)
    with serve(database, env, port=port) as (base, _process):
        yield Served(base, init)


def shot(page: Page, artifacts: Path, name: str) -> None:
    page.screenshot(path=str(artifacts / f"pairing-{name}.png"), full_page=True)


def test_a_whole_pairing_round_trip_with_a_pkce_verifier(
    browser: Browser, served: Served, shop: ShopServer, artifacts: Path
) -> None:
    pair = pkce_pair()
    with Client(served.base) as anonymous:
        created = anonymous.create_connect_request(
            ConnectRequestCreate(
                redirect_uri=shop.url, store_name="Green Shop", state="order-state-7", code_challenge=pair.challenge
            )
        )
    context = browser.new_context(base_url=served.base)
    page = context.new_page()
    page.goto(created.connect_url)
    assert "/console/login" in page.url  # sign in first, then back to the request
    shot(page, artifacts, "login")
    page.fill("#email", "dev@shop.example")
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(created.connect_url)
    assert page.locator("#store-name").inner_text() == "Green Shop"
    assert page.locator("#redirect-host").inner_text() == urlsplit(shop.url).netloc
    page.select_option("#connect-register", str(served.init["vcrId"]))
    shot(page, artifacts, "approve")
    page.get_by_role("button", name="Approve").click()
    page.wait_for_url(f"{shop.url}?*")
    shot(page, artifacts, "shop-callback")
    assert len(shop.received) == 1
    query = shop.received[0]
    assert query["state"] == ["order-state-7"] and set(query) == {"code", "state"}
    with Client(served.base) as anonymous:
        done = anonymous.exchange_connect_code(query["code"][0], pair.verifier)
    assert done.vcr_id == served.init["vcrId"] and done.expires_at is None
    with Client(served.base, done.api_key) as paired:
        who = paired.whoami()
    assert who.vcr_id == done.vcr_id and who.crn == served.init["crn"]
    page.goto("/console/keys")
    row = page.locator("#keys tbody tr", has_text="Green Shop")
    assert row.count() == 1
    assert done.api_key[:12] in row.inner_text() and "webhooks" not in row.inner_text()
    shot(page, artifacts, "keys")
    # the request was answered: its page is gone
    gone = page.goto(created.connect_url)
    assert gone is not None and gone.status == 404
    shot(page, artifacts, "answered")

    # a denial goes back with error=access_denied and the state
    other = pkce_pair()
    with Client(served.base) as anonymous:
        denied = anonymous.create_connect_request(
            ConnectRequestCreate(
                redirect_uri=shop.url, store_name="Other Shop", state="s-2", code_challenge=other.challenge
            )
        )
    page.goto(denied.connect_url)
    page.get_by_role("button", name="Deny").click()
    page.wait_for_url(f"{shop.url}?*")
    assert shop.received[-1] == {"error": ["access_denied"], "state": ["s-2"]}
    page.goto("/console/keys")
    assert page.locator("#keys tbody tr", has_text="Other Shop").count() == 0
    context.close()
