"""The console over HTTP, in process: sign-in, cookies, CSRF, throttling, roles, and isolation between
businesses (every console route walked as each role of business A and as the owner of business B)."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from openvcr.console.api import router
from openvcr.console.models import allowed
from openvcr.store.schema.console import console_audit, console_login_failures, console_sessions
from openvcr.store.schema.foundation import api_keys
from openvcr.store.schema.outbox import outbox_messages
from tests.integration.console.conftest import PASSWORD, Console

CSRF = re.compile(r'name="csrf" value="([^"]+)"')

# Every GET page of the console and the permission it needs (None: any signed-in user). A new page must be
# added here, or the walk fails.
PAGES: dict[str, str | None] = {
    "/console/overview": "overview",
    "/console/registers": "registers",
    "/console/keys": "keys",
    "/console/sales": "sales",
    "/console/sales/{sale_id}": "sales",
    "/console/documents": "documents",
    "/console/prepayments": "prepayments",
    "/console/outbox": "outbox",
    "/console/devices": "devices",
    "/console/catalog": "catalog",
    "/console/people": "people",
    "/console/audit": "audit",
    "/console/account": None,
    "/console/reports": "reports",
    "/console/reports/{report_id}": "reports",
    "/console/reports/{report_id}.pdf": "reports",
    "/console/webhooks": "webhooks",
    "/console/webhooks/{webhook_id}": "webhooks",
    "/console/connect/{request_id}": "keys",
}
PUBLIC = {"/console/login", "/console/login/{token}", "/console/language/{code}", "/console"}


def fresh(console: Console) -> TestClient:
    return TestClient(console.client.app, base_url="http://127.0.0.1:8000")


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> str:
    """Sign in through the form; return the session's CSRF token."""
    form = client.get("/console/login")
    assert form.status_code == 200
    token = CSRF.search(form.text)
    assert token is not None
    answer = client.post("/console/login", data={"csrf": token.group(1), "email": email, "password": password},
                         follow_redirects=False)  # fmt: skip
    assert answer.status_code == 303, answer.text
    page = client.get("/console/account")
    found = CSRF.search(page.text)
    assert found is not None
    return found.group(1)


def count(console: Console, table: object) -> int:
    with console.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def test_the_session_cookie_is_httponly_samesite_and_the_pages_need_it(two_businesses: Console) -> None:
    client = fresh(two_businesses)
    answer = client.get("/console/sales", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/login?next=%2Fconsole%2Fsales"
    form = client.get("/console/login")
    csrf = CSRF.search(form.text)
    assert csrf is not None
    done = client.post("/console/login", data={"csrf": csrf.group(1), "email": "Owner@A.example",
                                               "password": PASSWORD, "next": "/console/sales"},
                       follow_redirects=False)  # fmt: skip
    assert done.status_code == 303 and done.headers["location"] == "/console/sales"
    cookie = next(v for k, v in done.headers.multi_items() if k == "set-cookie" and v.startswith("ovcr_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie  # plain http public URL (see docs/console.md)
    page = client.get("/console/sales")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert "script-src 'self'" in page.headers["content-security-policy"]
    token = done.headers["set-cookie"].split("ovcr_session=")[1].split(";")[0]
    with two_businesses.db.read() as conn:
        stored = [r.token_hash for r in conn.execute(select(console_sessions))]
    assert token not in stored and len(stored) == 1


def test_secure_cookies_when_the_public_url_is_https(two_businesses: Console) -> None:
    two_businesses.client.app.state.ctx.settings = two_businesses.settings.model_copy(  # type: ignore[attr-defined]
        update={"public_url": "https://shop.example"}
    )
    client = fresh(two_businesses)
    form = client.get("/console/login")
    csrf = CSRF.search(form.text)
    assert csrf is not None
    done = client.post("/console/login", data={"csrf": csrf.group(1), "email": "owner@a.example",
                                               "password": PASSWORD}, follow_redirects=False)  # fmt: skip
    assert "Secure" in done.headers["set-cookie"]


def test_a_post_without_the_session_csrf_token_is_refused_and_changes_nothing(two_businesses: Console) -> None:
    client = fresh(two_businesses)
    csrf = sign_in(client, "owner@a.example")
    keys_before = count(two_businesses, api_keys)
    for data in ({"register": str(two_businesses.a.register_id), "name": "x"},
                 {"register": str(two_businesses.a.register_id), "name": "x", "csrf": "wrong"}):  # fmt: skip
        answer = client.post("/console/keys", data=data)
        assert answer.status_code == 403
    assert count(two_businesses, api_keys) == keys_before
    answer = client.post("/console/keys", data={"register": str(two_businesses.a.register_id), "name": "ok",
                                                "scope": "sales:read", "csrf": csrf})  # fmt: skip
    assert answer.status_code == 200 and "ovcr_" in answer.text
    assert count(two_businesses, api_keys) == keys_before + 1


def test_the_login_form_needs_its_own_csrf_token(two_businesses: Console) -> None:
    client = fresh(two_businesses)
    client.get("/console/login")
    answer = client.post("/console/login", data={"csrf": "forged", "email": "owner@a.example", "password": PASSWORD})
    assert answer.status_code == 403
    assert count(two_businesses, console_sessions) == 0


def test_failed_sign_ins_are_throttled_per_email_and_address(two_businesses: Console) -> None:
    client = fresh(two_businesses)
    form = client.get("/console/login")
    csrf = CSRF.search(form.text)
    assert csrf is not None
    data = {"csrf": csrf.group(1), "email": "owner@a.example", "password": "wrong password!"}
    for _ in range(3):  # console_login_attempts=3
        assert client.post("/console/login", data=data).status_code == 401
    assert count(two_businesses, console_login_failures) == 3
    right = {**data, "password": PASSWORD}
    refused = client.post("/console/login", data=right)
    assert refused.status_code == 429 and "Retry-After" in refused.headers
    assert count(two_businesses, console_sessions) == 0
    assert count(two_businesses, console_login_failures) == 3  # a throttled try is not even checked
    # another e-mail from the same address is not throttled
    assert client.post("/console/login", data={**right, "email": "accountant@a.example"},
                       follow_redirects=False).status_code == 303  # fmt: skip


def test_an_accountant_cannot_open_keys_nor_create_one(two_businesses: Console) -> None:
    client = fresh(two_businesses)
    csrf = sign_in(client, "accountant@a.example")
    assert client.get("/console/keys").status_code == 403
    before = count(two_businesses, api_keys)
    answer = client.post("/console/keys", data={"register": str(two_businesses.a.register_id), "csrf": csrf})
    assert answer.status_code == 403
    assert count(two_businesses, api_keys) == before
    assert 'href="/console/keys"' not in client.get("/console/sales").text


def test_a_key_revoked_in_the_console_gets_401_from_the_api_and_is_audited(two_businesses: Console) -> None:
    two_businesses.client.app.state.ctx.authenticator.cache_seconds = 0  # type: ignore[attr-defined]
    client = fresh(two_businesses)
    csrf = sign_in(client, "developer@a.example")
    made = client.post("/console/keys", data={"register": str(two_businesses.a.register_id), "name": "shop",
                                              "scope": ["account:read", "sales:read"], "csrf": csrf})  # fmt: skip
    key = re.search(r'<code id="new-key">([^<]+)</code>', made.text)
    assert key is not None
    headers = {"X-API-KEY": key.group(1)}
    assert two_businesses.client.get("/api/v1/whoami", headers=headers).status_code == 200
    key_id = re.search(r'data-key="(\d+)"', made.text)
    assert key_id is not None
    assert client.post(f"/console/keys/{key_id.group(1)}/revoke", data={"csrf": csrf}).status_code == 200
    assert two_businesses.client.get("/api/v1/whoami", headers=headers).status_code == 401
    owner = fresh(two_businesses)
    sign_in(owner, "owner@a.example")
    log = owner.get("/console/audit").text
    assert "key.create" in log and "key.revoke" in log and "developer@a.example" in log


def _console_pages() -> set[str]:
    return {r.path for r in router.routes if isinstance(r, APIRoute) and "GET" in r.methods}


def test_every_console_page_as_every_role_shows_nothing_of_another_business(two_businesses: Console) -> None:
    c = two_businesses
    assert _console_pages() == set(PAGES) | PUBLIC
    sale_a, sale_b = c.sell("a")["saleId"], c.sell("b")["saleId"]
    prepaid_a, prepaid_b = c.prepay("a", "+37491000001"), c.prepay("b", "+37491000002")
    report_a, report_b = (c.client.post("/api/v1/reports/x", headers=c.api(b)).json()["id"] for b in ("a", "b"))
    hook_a, hook_b = (
        c.client.post("/api/v1/webhooks", json={"url": f"https://{b}-hooks.example/in", "events": ["sale.completed"]},
                      headers=c.api(b)).json()["id"]
        for b in ("a", "b")
    )  # fmt: skip
    connect = {"redirectUri": "https://shop.example/cb", "storeName": "S", "state": "s", "codeChallenge": "A" * 43}
    pairing = c.client.post("/api/v1/connect/requests", json=connect).json()
    with c.db.read() as conn:
        prefixes = {r.register_id: r.prefix for r in conn.execute(select(api_keys))}
    marks = {
        "a": [c.a.tin, str(c.a.crn), prefixes[c.a.register_id], "«Ավազարկղ» ՍՊԸ", "91000001", "a-hooks.example"],
        "b": [c.b.tin, str(c.b.crn), prefixes[c.b.register_id], "«Բ-բիզնես» ՍՊԸ", "91000002", "b-hooks.example"],
    }
    users = [("owner@a.example", "owner", "a"), ("accountant@a.example", "accountant", "a"),
             ("developer@a.example", "developer", "a"), ("owner@b.example", "owner", "b")]  # fmt: skip
    for email, role, home in users:
        other = "b" if home == "a" else "a"
        own_sale, other_sale = (sale_a, sale_b) if home == "a" else (sale_b, sale_a)
        own_report, other_report = (report_a, report_b) if home == "a" else (report_b, report_a)
        own_hook, other_hook = (hook_a, hook_b) if home == "a" else (hook_b, hook_a)
        client = fresh(c)
        csrf = sign_in(client, email)
        for path, permission in PAGES.items():
            url = path.replace("{sale_id}", str(own_sale)).replace("{report_id}", str(own_report))
            url = url.replace("{webhook_id}", str(own_hook))
            url = url.replace("{request_id}", pairing["requestId"])
            answer = client.get(url)
            expected = 200 if permission is None or allowed(role, permission) else 403
            assert answer.status_code == expected, (email, url, answer.status_code)
            for mark in marks[other]:
                assert mark not in answer.text, (email, url, mark)
        # the other business's rows by id: not found, nothing done
        assert client.get(f"/console/sales/{other_sale}").status_code in (403, 404)
        for url in (f"/console/reports/{other_report}", f"/console/reports/{other_report}.pdf",
                    f"/console/webhooks/{other_hook}"):  # fmt: skip
            assert client.get(url).status_code in (403, 404)
        other_register = (c.b if home == "a" else c.a).register_id
        for kind in ("x", "z"):
            answer = client.post(f"/console/reports/{kind}", data={"csrf": csrf, "register": str(other_register),
                                                                   "confirm": "1", "token": "t"})  # fmt: skip
            assert answer.status_code in (403, 404)
        other_key = next(k for r, k in prefixes.items() if r == (c.b if home == "a" else c.a).register_id)
        with c.db.read() as conn:
            other_key_id = conn.execute(select(api_keys.c.id).where(api_keys.c.prefix == other_key)).scalar_one()
        answer = client.post(f"/console/keys/{other_key_id}/revoke", data={"csrf": csrf})
        assert answer.status_code in (403, 404)
        answer = client.post(f"/console/sales/{other_sale}/refund", data={"csrf": csrf, "whole": "1", "cashier": "1"})
        assert answer.status_code in (403, 404)
        other_prepayment = (prepaid_b if home == "a" else prepaid_a)["prepaymentId"]
        answer = client.post(f"/console/prepayments/{other_prepayment}/refund", data={"csrf": csrf, "token": "t"})
        assert answer.status_code in (403, 404)
        other_register = (c.b if home == "a" else c.a).register_id
        assert client.post(f"/console/registers/{other_register}/check", data={"csrf": csrf}).status_code in (403, 404)
        for url in (f"/console/webhooks/{other_hook}/delete", f"/console/webhooks/{other_hook}/deliveries/1/replay"):
            assert client.post(url, data={"csrf": csrf}).status_code in (403, 404)
        answer = client.post("/console/business", data={"csrf": csrf, "entity": str(999)})
        assert answer.status_code == 403
        assert client.get(f"/console/catalog?register={(c.b if home == 'a' else c.a).register_id}").status_code in (
            403,
            404,
        )
    with c.db.read() as conn:
        revoked = select(func.count()).select_from(api_keys).where(api_keys.c.revoked_at.is_not(None))
        assert conn.execute(revoked).scalar_one() == 0
    assert c.client.get("/api/v1/whoami", headers=c.api("b")).status_code == 200
    for business in ("a", "b"):  # no report taken on another business's register, no endpoint deleted
        assert len(c.client.get("/api/v1/reports", headers=c.api(business)).json()["items"]) == 1
        assert [h["status"] for h in c.client.get("/api/v1/webhooks", headers=c.api(business)).json()] == ["active"]
    for business, prepaid in (("a", prepaid_a), ("b", prepaid_b)):
        state = c.client.get(f"/api/v1/prepayments/{prepaid['prepaymentId']}", headers=c.api(business)).json()
        assert state["refund"] is None, state


def test_a_partial_refund_from_the_console_goes_through_the_sales_service(two_businesses: Console) -> None:
    c = two_businesses
    sale = c.sell("a", price="1500.00", quantity="2")
    client = fresh(c)
    csrf = sign_in(client, "accountant@a.example")
    page = client.get(f"/console/sales/{sale['saleId']}")
    token = re.search(r'name="token" value="([^"]+)"', page.text)
    assert token is not None and 'id="receipt-link"' in page.text
    form = {"csrf": csrf, "token": token.group(1), "cashier": str(c.a.cashier_id), "qty_0": "1", "qty_1": "0"}
    answer = client.post(f"/console/sales/{sale['saleId']}/refund", data=form)
    assert answer.status_code == 200, answer.text
    again = client.post(f"/console/sales/{sale['saleId']}/refund", data=form)  # the same form twice: one refund
    assert again.status_code == 200
    detail = c.client.get(f"/api/v1/sales/{sale['saleId']}", headers=c.api("a")).json()
    assert [r["items"] for r in detail["refunds"]] == [[{"quantity": 1}]]
    assert [Decimal(str(r["cashAmount"])) for r in detail["refunds"]] == [Decimal(1500)]
    too_much = {**form, "token": "another", "qty_0": "5"}
    refused = client.post(f"/console/sales/{sale['saleId']}/refund", data=too_much)
    assert refused.status_code == 409
    assert len(c.client.get(f"/api/v1/sales/{sale['saleId']}", headers=c.api("a")).json()["refunds"]) == 1
    rest = client.post(f"/console/sales/{sale['saleId']}/refund", data={**form, "token": "rest", "whole": "1"})
    assert rest.status_code == 200  # everything left: 1 mouse and the delivery
    refunds = c.client.get(f"/api/v1/sales/{sale['saleId']}", headers=c.api("a")).json()["refunds"]
    assert sorted(Decimal(str(r["cashAmount"])) for r in refunds) == [Decimal(1500), Decimal(2000)]
    with c.db.read() as conn:
        assert (
            conn.execute(
                select(func.count()).select_from(console_audit).where(console_audit.c.action == "sale.refund")
            ).scalar_one()
            == 2
        )  # the replayed form is not a refund


@pytest.mark.parametrize(
    "query",
    [
        "from=yesterday",
        "to=2026-13-01",
        "cashier=abc",
        "min=lots",
        "max=1e999",
        "state=happy",
        "receipt=-1",
        "before=99999999999999999999",
    ],
)
def test_bad_filters_are_a_400_page_never_a_5xx(two_businesses: Console, query: str) -> None:
    client = fresh(two_businesses)
    sign_in(client, "owner@a.example")
    assert client.get(f"/console/sales?{query}").status_code == 400


def test_a_prepayment_is_refunded_from_the_console_once(two_businesses: Console) -> None:
    c = two_businesses
    prepaid = c.prepay("a", "+37491000009", cash="4000")
    client = fresh(c)
    csrf = sign_in(client, "accountant@a.example")
    page = client.get("/console/prepayments")
    assert page.status_code == 200 and "4\u202f000.00" in page.text
    token = re.search(r'name="token" value="([^"]+)"', page.text)
    assert token is not None
    form = {"csrf": csrf, "token": token.group(1)}
    url = f"/console/prepayments/{prepaid['prepaymentId']}/refund"
    assert client.post(url, data=form).status_code == 200
    assert client.post(url, data=form).status_code == 200  # the same form again: the same refund
    state = c.client.get(f"/api/v1/prepayments/{prepaid['prepaymentId']}", headers=c.api("a")).json()
    assert state["refund"] is not None
    assert client.post(url, data={**form, "token": "another"}).status_code == 409  # nothing left
    with c.db.read() as conn:
        refunds = select(func.count()).select_from(console_audit).where(console_audit.c.action == "prepayment.refund")
        assert conn.execute(refunds).scalar_one() == 1


def test_the_connection_check_asks_the_sandbox_with_the_register_credentials(two_businesses: Console) -> None:
    client = fresh(two_businesses)
    csrf = sign_in(client, "developer@a.example")
    answer = client.post(f"/console/registers/{two_businesses.a.register_id}/check", data={"csrf": csrf})
    assert answer.status_code == 200 and '<p class="ok" role="status">' in answer.text


def test_an_owner_adds_a_person_changes_roles_and_keeps_an_owner(two_businesses: Console) -> None:
    c = two_businesses
    owner = fresh(c)
    csrf = sign_in(owner, "owner@a.example")
    added = owner.post("/console/people", data={"csrf": csrf, "email": "New.Dev@a.example", "role": "developer"})
    assert added.status_code == 200
    link = re.search(r'<code id="login-link">http://127\.0\.0\.1:8000(/console/login/[^<]+)</code>', added.text)
    assert link is not None
    newcomer = fresh(c)
    form = newcomer.get(link.group(1))
    token = CSRF.search(form.text)
    assert token is not None
    assert newcomer.post(link.group(1), data={"csrf": token.group(1)}, follow_redirects=False).status_code == 303
    assert newcomer.get("/console/keys").status_code == 200  # a developer
    assert newcomer.get("/console/sales").status_code == 403
    users = {u.email: u for u in service_users(c)}
    new_id, owner_id = users["new.dev@a.example"].id, users["owner@a.example"].id
    assert owner.post(f"/console/people/{new_id}/role", data={"csrf": csrf, "role": "accountant"}).status_code == 200
    assert newcomer.get("/console/keys").status_code == 403 and newcomer.get("/console/sales").status_code == 200
    assert owner.post(f"/console/people/{new_id}/role", data={"csrf": csrf, "role": "remove"}).status_code == 200
    assert newcomer.get("/console/sales", follow_redirects=False).status_code == 303  # the session is gone
    last = owner.post(f"/console/people/{owner_id}/role", data={"csrf": csrf, "role": "developer"})
    assert last.status_code == 409  # the only owner stays an owner
    assert owner.get("/console/people").status_code == 200
    b_owner = {u.email: u for u in service_users(c)}["owner@b.example"].id
    assert owner.post(f"/console/people/{b_owner}/role", data={"csrf": csrf, "role": "remove"}).status_code == 404
    accountant = fresh(c)
    csrf_a = sign_in(accountant, "accountant@a.example")
    refused = accountant.post("/console/people", data={"csrf": csrf_a, "email": "x@a.example", "role": "owner"})
    assert refused.status_code == 403
    assert "x@a.example" not in {u.email for u in service_users(c)}


def service_users(c: Console) -> list[Any]:
    from openvcr.console.service import list_users

    return list_users(c.db)


def test_the_outbox_page_lists_the_receipt_e_mails_of_this_business_only(two_businesses: Console) -> None:
    c = two_businesses
    c.sell("a", email="buyer-a@example.com")
    c.sell("b", email="buyer-b@example.com")
    with c.db.read() as conn:
        ids = {r.id for r in conn.execute(select(outbox_messages))}
    assert len(ids) == 2
    shown = {}
    for email in ("owner@a.example", "developer@a.example", "owner@b.example"):
        page = fresh_page(c, email, "/console/outbox")
        shown[email] = {int(i) for i in re.findall(r"<tr><td>(\d+)</td><td>receipt_email</td>", page)}
    assert shown["owner@a.example"] == shown["developer@a.example"]
    assert len(shown["owner@a.example"]) == 1 and len(shown["owner@b.example"]) == 1
    assert shown["owner@a.example"] | shown["owner@b.example"] == ids
    assert fresh_page(c, "accountant@a.example", "/console/outbox").count("<tr><td>") == 0  # 403 page


def fresh_page(c: Console, email: str, path: str) -> str:
    client = fresh(c)
    sign_in(client, email)
    return client.get(path).text


def test_an_owner_creates_an_offer_a_cashier_and_a_department_bad_input_writes_nothing(two_businesses: Console) -> None:
    c = two_businesses
    client = fresh(c)
    csrf = sign_in(client, "owner@a.example")
    reg = str(c.a.register_id)
    api = c.client

    def offers() -> list[Any]:
        return list(api.get("/api/v1/offers", headers=c.api("a")).json())

    def cashiers() -> list[Any]:
        return list(api.get("/api/v1/cashiers", headers=c.api("a")).json())

    before_offers, before_cashiers = len(offers()), len(cashiers())
    offer = {"csrf": csrf, "register": reg, "title": "Սուրճ", "external": "COFFEE-1", "type": "product",
             "classifier": "0901", "unit": "pc", "department": "1"}  # fmt: skip
    for bad in ({"unit": "furlong"}, {"type": "gift"}, {"department": "999"}, {"title": ""}):
        assert client.post("/console/catalog/offers", data={**offer, **bad}).status_code == 400, bad
    assert len(offers()) == before_offers
    assert client.post("/console/catalog/offers", data=offer, follow_redirects=False).status_code == 303
    assert client.post("/console/catalog/offers", data=offer).status_code == 409  # the same externalId
    assert [o["externalId"] for o in offers()].count("COFFEE-1") == 1
    cashier = {"csrf": csrf, "register": reg, "name": "Անի", "pin": "12ab"}
    assert client.post("/console/catalog/cashiers", data=cashier).status_code == 400
    assert len(cashiers()) == before_cashiers
    made = client.post("/console/catalog/cashiers", data={**cashier, "pin": "4321"}, follow_redirects=False)
    assert made.status_code == 303 and len(cashiers()) == before_cashiers + 1
    department = {"csrf": csrf, "register": reg, "title": "Խոհանոց", "regime": "turnover_tax"}
    made = client.post("/console/catalog/departments", data=department, follow_redirects=False)
    assert made.status_code == 303
    assert len(api.get("/api/v1/departments", headers=c.api("a")).json()) == 5
    other = {**offer, "register": str(c.b.register_id), "external": "COFFEE-B"}
    assert client.post("/console/catalog/offers", data=other).status_code == 404
    accountant = fresh(c)
    csrf_a = sign_in(accountant, "accountant@a.example")
    assert (
        accountant.post("/console/catalog/offers", data={**offer, "csrf": csrf_a, "external": "X"}).status_code == 403
    )
    audit = fresh_page(c, "owner@a.example", "/console/audit")
    assert "offer.create" in audit and "cashier.create" in audit and "department.create" in audit


def test_a_device_is_added_with_its_certificate_downloaded_once_and_revoked(two_businesses: Console) -> None:
    from cryptography.hazmat.primitives.serialization import pkcs12

    from openvcr.vsdc import service as vsdc

    c = two_businesses
    vsdc.init_ca(c.db, c.settings)
    vsdc.add_taxpayer(c.db, tin=c.a.tin, name="A", rates=vsdc.parse_rates("A=0,B=20,C=16,D=32"))
    client = fresh(c)
    csrf = sign_in(client, "developer@a.example")
    form = {"csrf": csrf, "mcr": "MCR-A-1", "passphrase": "short", "sandbox": "1"}
    assert client.post("/console/devices", data=form).status_code == 400
    made = client.post("/console/devices", data={**form, "passphrase": "a good passphrase"})
    assert made.status_code == 200 and made.headers["content-type"] == "application/x-pkcs12"
    key, cert, _ = pkcs12.load_key_and_certificates(made.content, b"a good passphrase")
    assert key is not None and cert is not None
    again = client.post("/console/devices", data={**form, "passphrase": "a good passphrase"})
    assert again.status_code == 409  # the same MCR: no second certificate
    page = client.get("/console/devices").text
    assert "MCR-A-1" in page and format(cert.serial_number, "x") in page
    assert cert.not_valid_after_utc.date().isoformat() in page  # the certificate's expiry
    device = re.search(r'data-device="(\d+)"', page)
    assert device is not None
    other = fresh(c)
    csrf_b = sign_in(other, "owner@b.example")
    assert "MCR-A-1" not in other.get("/console/devices").text
    assert other.post(f"/console/devices/{device.group(1)}/revoke", data={"csrf": csrf_b}).status_code == 404
    assert vsdc.device_for_certificate(c.db, format(cert.serial_number, "x")) is not None
    assert client.post(f"/console/devices/{device.group(1)}/revoke", data={"csrf": csrf}).status_code == 200
    assert vsdc.device_for_certificate(c.db, format(cert.serial_number, "x")) is None
    b_form = {"csrf": csrf_b, "mcr": "MCR-B-1", "passphrase": "a good passphrase"}
    assert other.post("/console/devices", data=b_form).status_code == 409  # B is not a V-SDC taxpayer


def test_the_sales_list_pages_with_a_cursor_and_keeps_its_filters(two_businesses: Console) -> None:
    c = two_businesses
    made = [c.sell("a", price=f"{1000 + n}.00", quantity="1")["saleId"] for n in range(27)]
    client = fresh(c)
    sign_in(client, "accountant@a.example")
    first = client.get("/console/sales?min=1000&state=completed")
    ids = [int(i) for i in re.findall(r'data-sale="(\d+)"', first.text)]
    assert ids == sorted(made, reverse=True)[:25]
    following = re.search(r'href="(/console/sales\?[^"]+)" rel="next"', first.text)
    assert following is not None
    url = following.group(1).replace("&amp;", "&")
    assert "min=1000" in url and "state=completed" in url and f"before={ids[-1]}" in url
    rest = [int(i) for i in re.findall(r'data-sale="(\d+)"', client.get(url).text)]
    assert rest == sorted(made, reverse=True)[25:]
    narrow = client.get("/console/sales?min=1510.50&max=1512")  # totals are 1500 + n
    assert sorted(int(i) for i in re.findall(r'data-sale="(\d+)"', narrow.text)) == made[11:13]


def test_the_registers_page_shows_the_src_certificate_expiry(two_businesses: Console, tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "register")])
    now = datetime.now(tz=UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(7).not_valid_before(now).not_valid_after(now + timedelta(days=90))
            .sign(key, hashes.SHA256()))  # fmt: skip
    path = tmp_path / "src.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    client = fresh(two_businesses)
    sign_in(client, "developer@a.example")
    assert "src-certificate" in client.get("/console/registers").text
    ctx = two_businesses.client.app.state.ctx  # type: ignore[attr-defined]
    ctx.settings = ctx.settings.model_copy(update={"src_cert": path})
    page = client.get("/console/registers").text
    assert (now + timedelta(days=90)).date().isoformat() in page


def test_the_overview_adds_up_sales_refunds_tenders_and_regimes_of_this_business(two_businesses: Console) -> None:
    c = two_businesses
    sale = c.sell("a", price="1500.00", quantity="2")  # 3000 (VAT) + 500 (VAT), in cash
    c.sell("b", price="9000.00", quantity="1")  # another business: not counted
    refund = c.client.post("/api/v1/sales/refund", headers=c.api("a"),
                           json={"cashier": {"id": c.a.cashier_id}, "saleId": sale["saleId"],
                                 "items": [{"srcId": 1, "quantity": "1"}]})  # fmt: skip
    assert refund.status_code == 200, refund.text
    client = fresh(c)
    sign_in(client, "accountant@a.example")
    page = client.get("/console/overview", headers={"Accept-Language": "en"}).text
    figures = re.findall(r'data-figure="(\w+)">([^<]+)<', page)
    nbsp = "\u202f"
    assert figures == [("sales", f"3{nbsp}500.00"), ("refunds", "500.00"), ("net", f"3{nbsp}000.00")] * 2
    assert f"Cash: 3{nbsp}000.00" in page
    assert f"VAT taxable: 3{nbsp}500.00" in page


def test_a_form_with_too_many_fields_or_not_utf8_is_a_400_page(two_businesses: Console) -> None:
    client = fresh(two_businesses)
    csrf = sign_in(client, "owner@a.example")
    many = "&".join(f"f{n}=1" for n in range(2500)) + f"&csrf={csrf}"
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    assert client.post("/console/keys", content=many, headers=headers).status_code == 400
    assert client.post("/console/keys", content=b"name=\xff&csrf=" + csrf.encode(), headers=headers).status_code == 400
    assert client.post("/console/login", content=many, headers=headers).status_code == 400


@pytest.mark.parametrize("number", [3_000_000_000, 2**53 - 1])
def test_ids_no_row_can_have_are_not_found_never_a_5xx(two_businesses: Console, number: int) -> None:
    client = fresh(two_businesses)
    csrf = sign_in(client, "owner@a.example")
    assert client.get(f"/console/sales/{number}").status_code == 404
    for path in (f"/console/keys/{number}/revoke", f"/console/keys/{number}/rotate", f"/console/sales/{number}/refund",
                 f"/console/prepayments/{number}/refund", f"/console/registers/{number}/check",
                 f"/console/devices/{number}/revoke", f"/console/people/{number}/role"):  # fmt: skip
        assert client.post(path, data={"csrf": csrf, "register": "1"}).status_code == 404, path
    assert client.get(f"/console/sales?cashier={number}").status_code in (200, 400)
    assert client.get("/console/sales/99999999999999999999").status_code in (400, 422)
