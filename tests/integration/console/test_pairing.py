"""Pairing (``console.pairing``): connect requests, their approval in the console, the code exchange."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from openvcr.api.ratelimit import RateLimiter
from openvcr.console.pairing import INVALID_CODE, digest
from openvcr.store.db import now_ms
from openvcr.store.schema.console import console_audit
from openvcr.store.schema.foundation import api_keys, registers
from openvcr.store.schema.pairing import connect_requests
from tests.integration.console.conftest import Console
from tests.integration.console.test_web import count, fresh, sign_in

REDIRECT = "https://shop.example/openvcr/callback?x=1"


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


def connect(client: TestClient, challenge: str, **overrides: Any) -> dict[str, Any]:
    body = {"redirectUri": REDIRECT, "storeName": "Green Shop", "state": "st-1", "codeChallenge": challenge}
    body.update(overrides)
    answer = client.post("/api/v1/connect/requests", json=body)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def request_id_of(created: dict[str, Any]) -> str:
    assert created["connectUrl"] == f"http://127.0.0.1:8000/console/connect/{created['requestId']}"
    return str(created["requestId"])


def approve(client: TestClient, csrf: str, request_id: str, register_id: int) -> dict[str, list[str]]:
    answer = client.post(f"/console/connect/{request_id}", data={"csrf": csrf, "decision": "approve",
                                                                 "register": str(register_id)},
                         follow_redirects=False)  # fmt: skip
    assert answer.status_code == 303, answer.text
    target = answer.headers["location"]
    assert target.startswith("https://shop.example/openvcr/callback?x=1&")
    return parse_qs(urlsplit(target).query)


def paired(c: Console, email: str = "owner@a.example") -> tuple[str, str, TestClient, str]:
    """A request approved for A's register: (code, verifier, the signed-in browser, its CSRF token)."""
    verifier, challenge = pkce()
    request_id = request_id_of(connect(c.client, challenge))
    browser = fresh(c)
    csrf = sign_in(browser, email)
    query = approve(browser, csrf, request_id, c.a.register_id)
    assert query["state"] == ["st-1"]
    return query["code"][0], verifier, browser, csrf


def test_a_whole_round_trip_issues_a_key_named_after_the_shop(two_businesses: Console) -> None:
    c = two_businesses
    verifier, challenge = pkce()
    created = connect(c.client, challenge)
    request_id = request_id_of(created)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", created["expiresAt"])
    browser = fresh(c)
    page = browser.get(f"/console/connect/{request_id}", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/console/login?next=")
    csrf = sign_in(browser, "developer@a.example")
    page = browser.get(f"/console/connect/{request_id}")
    assert page.status_code == 200
    assert "Green Shop" in page.text and "shop.example" in page.text
    assert "form-action 'self' https://shop.example;" in page.headers["content-security-policy"]
    assert c.b.tin not in page.text and str(c.b.crn) not in page.text
    code = approve(browser, csrf, request_id, c.a.register_id)["code"][0]
    keys_before = count(c, api_keys)
    answer = c.client.post("/api/v1/connect/exchange", json={"code": code, "codeVerifier": verifier})
    assert answer.status_code == 200, answer.text
    done = answer.json()
    assert done["vcrId"] == c.a.register_id and done["expiresAt"] is None and done["registerName"]
    assert count(c, api_keys) == keys_before + 1
    who = c.client.get("/api/v1/whoami", headers={"X-API-KEY": done["apiKey"]})
    assert who.status_code == 200 and who.json()["vcrId"] == c.a.register_id
    with c.db.read() as conn:
        key = conn.execute(select(api_keys).order_by(api_keys.c.id.desc())).first()
        assert key is not None and key.name == "Green Shop" and "webhooks" not in key.scopes.split()
        row = conn.execute(select(connect_requests)).one()
        assert row.request_hash == digest(request_id) and row.code_hash == digest(code)
        assert request_id not in str(tuple(row)) and code not in str(tuple(row))
        actions = [a for (a,) in conn.execute(select(console_audit.c.action).order_by(console_audit.c.id))]
    assert actions[-2:] == ["pairing.approve", "key.create"]
    assert 'name="csrf"' in browser.get("/console/keys").text and "Green Shop" in browser.get("/console/keys").text


def test_a_code_is_single_use_and_every_failure_gets_the_same_answer(two_businesses: Console) -> None:
    c = two_businesses
    code, verifier, _, _ = paired(c)
    assert c.client.post("/api/v1/connect/exchange", json={"code": code, "codeVerifier": verifier}).status_code == 200
    keys = count(c, api_keys)
    again = c.client.post("/api/v1/connect/exchange", json={"code": code, "codeVerifier": verifier})
    unknown = c.client.post("/api/v1/connect/exchange", json={"code": "nope" * 11, "codeVerifier": verifier})
    code2, verifier2, _, _ = paired(c)
    wrong = c.client.post("/api/v1/connect/exchange", json={"code": code2, "codeVerifier": verifier + "x"})
    after_wrong = c.client.post("/api/v1/connect/exchange", json={"code": code2, "codeVerifier": verifier2})
    short = c.client.post("/api/v1/connect/exchange", json={"code": code, "codeVerifier": "short"})
    code3, verifier3, _, _ = paired(c)
    padded = c.client.post("/api/v1/connect/exchange", json={"code": code3, "codeVerifier": f" {verifier3} "})
    answers = [again, unknown, wrong, after_wrong, short, padded]
    assert {a.status_code for a in answers} == {400}
    bodies = [{k: v for k, v in a.json().items() if k != "requestId"} for a in answers]
    assert all(b == {"error": INVALID_CODE, "issues": []} for b in bodies), bodies
    assert count(c, api_keys) == keys


def test_no_key_for_a_register_disabled_after_the_approval(two_businesses: Console) -> None:
    c = two_businesses
    code, verifier, _, _ = paired(c)
    keys = count(c, api_keys)
    with c.db.write() as conn:
        conn.execute(update(registers).where(registers.c.id == c.a.register_id).values(disabled_at=now_ms()))
    answer = c.client.post("/api/v1/connect/exchange", json={"code": code, "codeVerifier": verifier})
    assert answer.status_code == 400 and answer.json()["error"] == INVALID_CODE
    assert count(c, api_keys) == keys


def test_an_expired_code_or_request_is_refused(two_businesses: Console) -> None:
    c = two_businesses
    code, verifier, browser, csrf = paired(c)
    with c.db.write() as conn:
        conn.execute(update(connect_requests).values(code_expires_at=1))
    keys = count(c, api_keys)
    answer = c.client.post("/api/v1/connect/exchange", json={"code": code, "codeVerifier": verifier})
    assert answer.status_code == 400 and answer.json()["error"] == INVALID_CODE
    _, challenge = pkce()
    request_id = request_id_of(connect(c.client, challenge))
    with c.db.write() as conn:
        conn.execute(update(connect_requests).where(connect_requests.c.status == "pending").values(expires_at=1))
    assert browser.get(f"/console/connect/{request_id}").status_code == 404
    answer = browser.post(f"/console/connect/{request_id}", data={"csrf": csrf, "decision": "approve",
                                                                  "register": str(c.a.register_id)})  # fmt: skip
    assert answer.status_code == 404
    assert count(c, api_keys) == keys
    with c.db.read() as conn:
        assert conn.execute(select(connect_requests.c.status).where(connect_requests.c.expires_at == 1)).all() == [
            ("pending",)
        ]


def test_a_request_is_decided_once_and_a_denial_goes_back_with_access_denied(two_businesses: Console) -> None:
    c = two_businesses
    _, challenge = pkce()
    request_id = request_id_of(connect(c.client, challenge, state=" s t&x "))
    browser = fresh(c)
    csrf = sign_in(browser, "owner@a.example")
    answer = browser.post(f"/console/connect/{request_id}", data={"csrf": csrf, "decision": "deny"},
                          follow_redirects=False)  # fmt: skip
    assert answer.status_code == 303
    assert parse_qs(urlsplit(answer.headers["location"]).query) == {"x": ["1"], "error": ["access_denied"],
                                                                     "state": [" s t&x "]}  # fmt: skip
    again = browser.post(f"/console/connect/{request_id}", data={"csrf": csrf, "decision": "approve",
                                                                 "register": str(c.a.register_id)})  # fmt: skip
    assert again.status_code == 404
    with c.db.read() as conn:
        row = conn.execute(select(connect_requests)).one()
        assert row.status == "denied" and row.code_hash is None
        assert conn.execute(select(console_audit.c.action).order_by(console_audit.c.id.desc())).first() == (
            "pairing.deny",
        )


def test_approval_needs_sign_in_csrf_the_keys_permission_and_a_register_of_ones_own(two_businesses: Console) -> None:
    c = two_businesses
    _, challenge = pkce()
    request_id = request_id_of(connect(c.client, challenge))
    anonymous = fresh(c)
    answer = anonymous.post(f"/console/connect/{request_id}", data={"decision": "approve",
                                                                   "register": str(c.a.register_id)},
                            follow_redirects=False)  # fmt: skip
    assert answer.status_code == 303 and answer.headers["location"].startswith("/console/login")
    owner_a = fresh(c)
    csrf = sign_in(owner_a, "owner@a.example")
    assert owner_a.post(f"/console/connect/{request_id}", data={"csrf": csrf}).status_code == 400  # no decision
    answer = owner_a.post(f"/console/connect/{request_id}", data={"csrf": "forged", "decision": "approve",
                                                                  "register": str(c.a.register_id)})  # fmt: skip
    assert answer.status_code == 403
    accountant = fresh(c)
    accountant_csrf = sign_in(accountant, "accountant@a.example")
    assert accountant.get(f"/console/connect/{request_id}").status_code == 403
    answer = accountant.post(f"/console/connect/{request_id}", data={"csrf": accountant_csrf, "decision": "approve",
                                                                     "register": str(c.a.register_id)})  # fmt: skip
    assert answer.status_code == 403
    owner_b = fresh(c)
    csrf_b = sign_in(owner_b, "owner@b.example")
    page = owner_b.get(f"/console/connect/{request_id}")
    assert page.status_code == 200 and f'value="{c.a.register_id}"' not in page.text
    answer = owner_b.post(f"/console/connect/{request_id}", data={"csrf": csrf_b, "decision": "approve",
                                                                  "register": str(c.a.register_id)})  # fmt: skip
    assert answer.status_code == 404
    with c.db.read() as conn:
        row = conn.execute(select(connect_requests)).one()
        assert row.status == "pending" and row.register_id is None and row.code_hash is None
        assert conn.execute(select(func.count()).select_from(console_audit).where(
            console_audit.c.action.like("pairing.%"))).scalar_one() == 0  # fmt: skip
    # still approvable by someone of A
    assert approve(owner_a, csrf, request_id, c.a.register_id)["state"] == ["st-1"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("redirectUri", "http://shop.example/cb"),
        ("redirectUri", "/relative/cb"),
        ("redirectUri", "https://shop.example/cb#frag"),
        ("redirectUri", "https://user:pw@shop.example/cb"),
        ("redirectUri", "ftp://shop.example/cb"),
        ("redirectUri", "javascript:alert(1)"),
        ("redirectUri", "https://shop.example/c b"),
        ("storeName", ""),
        ("storeName", "x" * 101),
        ("storeName", "bad\x00name"),
        ("state", ""),
        ("codeChallenge", "short"),
        ("codeChallenge", "=" * 43),
        ("codeChallenge", None),
    ],
)
def test_a_bad_connect_request_is_a_400_writing_nothing(two_businesses: Console, field: str, value: Any) -> None:
    c = two_businesses
    _, challenge = pkce()
    body = {"redirectUri": REDIRECT, "storeName": "Green Shop", "state": "st", "codeChallenge": challenge}
    if value is None:
        del body[field]
    else:
        body[field] = value
    answer = c.client.post("/api/v1/connect/requests", json=body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["issues"][0]["path"] == [field]
    assert count(c, connect_requests) == 0


def test_loopback_http_is_allowed_and_no_api_key_is_needed(two_businesses: Console) -> None:
    c = two_businesses
    _, challenge = pkce()
    for uri in ("http://127.0.0.1:8123/cb", "http://localhost/cb", "http://[::1]:9/cb"):
        assert connect(c.client, challenge, redirectUri=uri)["requestId"]
    assert count(c, connect_requests) == 3


def test_unauthenticated_calls_are_rate_limited_per_address(two_businesses: Console) -> None:
    c = two_businesses
    c.client.app.state.pairing_limiter = RateLimiter(rate=0.001, burst=2)  # type: ignore[attr-defined]
    _, challenge = pkce()
    connect(c.client, challenge)
    connect(c.client, challenge)
    body = {"redirectUri": REDIRECT, "storeName": "x", "state": "s", "codeChallenge": challenge}
    answer = c.client.post("/api/v1/connect/requests", json=body)
    assert answer.status_code == 429 and int(answer.headers["retry-after"]) >= 1
    assert c.client.post("/api/v1/connect/exchange", json={"code": "a", "codeVerifier": "b"}).status_code == 429
    assert count(c, connect_requests) == 2


def test_requests_never_exchanged_are_purged_a_day_after_they_lapse(two_businesses: Console) -> None:
    c = two_businesses
    code, verifier, _, _ = paired(c)
    assert c.client.post("/api/v1/connect/exchange", json={"code": code, "codeVerifier": verifier}).status_code == 200
    _, challenge = pkce()
    connect(c.client, challenge)  # pending, lapsed long ago below
    connect(c.client, challenge)  # pending, lapsed an hour ago below
    with c.db.write() as conn:
        ids = [i for (i,) in conn.execute(select(connect_requests.c.id).order_by(connect_requests.c.id))]
        conn.execute(update(connect_requests).values(expires_at=1))  # the exchanged one too
        conn.execute(
            update(connect_requests).where(connect_requests.c.id == ids[2]).values(expires_at=now_ms() - 3_600_000)
        )
    connect(c.client, challenge)
    with c.db.read() as conn:
        left = [i for (i,) in conn.execute(select(connect_requests.c.id).order_by(connect_requests.c.id))]
    assert left[:2] == [ids[0], ids[2]] and len(left) == 3
