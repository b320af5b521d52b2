"""Pairing through the SDK against a real ``openvcr serve``: a client without a key asks to connect, an owner
approves in the console (over HTTP, with the session's CSRF token), the client exchanges the code with its PKCE
verifier for a key that works; a spent code and a wrong verifier raise the same ``BadRequestError``."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from openvcr.client import (
    AsyncClient,
    BadRequestError,
    Client,
    ConnectExchanged,
    ConnectRequestCreate,
    pkce_challenge,
    pkce_pair,
)
from tests.e2e.server import add_console_user, free_port, init_json, openvcr_env, serve

PASSWORD = "the owner's long password"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
CALLBACK = "http://127.0.0.1:9/callback"  # never fetched: the test reads the redirect's Location


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
    add_console_user(database, env, "owner@shop.example", "owner", init["tin"], PASSWORD)
    with serve(database, env, port=port) as (base, _process):
        yield Served(base, init)


def approve(served: Served, connect_url: str) -> dict[str, list[str]]:
    """Sign in to the console and approve the request for the register; the query the shop is sent back with."""
    with httpx.Client(base_url=served.base, timeout=30) as browser:
        form = browser.get("/console/login")
        token = CSRF.search(form.text)
        assert token is not None
        signed = browser.post("/console/login", data={"csrf": token.group(1), "email": "owner@shop.example",
                                                      "password": PASSWORD})  # fmt: skip
        assert signed.status_code == 303, signed.text
        page = browser.get(connect_url)
        assert page.status_code == 200 and "Green Shop" in page.text and "127.0.0.1:9" in page.text
        csrf = CSRF.search(page.text)
        assert csrf is not None
        answer = browser.post(connect_url, data={"csrf": csrf.group(1), "decision": "approve",
                                                 "register": str(served.init["vcrId"])})  # fmt: skip
        assert answer.status_code == 303, answer.text
        location = answer.headers["location"]
        assert location.startswith(f"{CALLBACK}?")
        return parse_qs(urlsplit(location).query)


def request(challenge: str) -> ConnectRequestCreate:
    return ConnectRequestCreate(redirect_uri=CALLBACK, store_name="Green Shop", state="st-42",
                                code_challenge=challenge)  # fmt: skip


def test_pkce_pair_is_a_valid_verifier_and_its_s256_challenge() -> None:
    pair = pkce_pair()
    assert re.fullmatch(r"[A-Za-z0-9\-._~]{43,128}", pair.verifier)
    assert pair.challenge == pkce_challenge(pair.verifier) and len(pair.challenge) == 43
    digest = hashlib.sha256(pair.verifier.encode()).digest()
    assert base64.urlsafe_b64decode(pair.challenge + "=") == digest
    assert pkce_pair().verifier != pair.verifier


def test_the_sync_client_pairs_and_the_key_works(served: Served) -> None:
    pair = pkce_pair()
    with Client(served.base) as anonymous:
        created = anonymous.create_connect_request(request(pair.challenge))
        assert created.connect_url == f"{served.base}/console/connect/{created.request_id}"
        query = approve(served, created.connect_url)
        assert query["state"] == ["st-42"]
        done = anonymous.exchange_connect_code(query["code"][0], pair.verifier)
        with pytest.raises(BadRequestError) as spent:
            anonymous.exchange_connect_code(query["code"][0], pair.verifier)
    assert isinstance(done, ConnectExchanged) and done.expires_at is None
    assert done.vcr_id == served.init["vcrId"] and done.register_name
    with Client(served.base, done.api_key) as shop:
        assert shop.whoami().vcr_id == done.vcr_id
    # a wrong verifier: the same error as a spent code, and the code is burnt
    other = pkce_pair()
    with Client(served.base, served.init["apiKey"]) as keyed:  # a key is not sent on these calls, nor needed
        code = approve(served, keyed.create_connect_request(request(other.challenge)).connect_url)["code"][0]
        with pytest.raises(BadRequestError) as wrong:
            keyed.exchange_connect_code(code, pair.verifier)
        with pytest.raises(BadRequestError):
            keyed.exchange_connect_code(code, other.verifier)
    assert (wrong.value.status, wrong.value.message, wrong.value.issues) == (
        400,
        spent.value.message,
        spent.value.issues,
    )


def test_the_async_client_pairs(served: Served) -> None:
    pair = pkce_pair()

    async def run() -> ConnectExchanged:
        async with AsyncClient(served.base) as anonymous:
            created = await anonymous.create_connect_request(request(pair.challenge))
            query = await asyncio.to_thread(approve, served, created.connect_url)
            return await anonymous.exchange_connect_code(query["code"][0], pair.verifier)

    done = asyncio.run(run())
    with Client(served.base, done.api_key) as shop:
        assert shop.whoami().vcr_id == done.vcr_id
