"""The operator API (``/api/operator/v1``) end to end in-process: a host onboards a business — business,
register (CSR), certificate (activation with SRC), first sale — with an operator token, never a register key."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from openvcr.api.app import create_app
from openvcr.authority.factory import build_gateway, sandbox_simulator
from openvcr.authority.sandbox import ca
from openvcr.config import Settings
from openvcr.console import service as console
from openvcr.operators import service
from openvcr.store.db import Database
from openvcr.store.schema.foundation import business_entities, registers
from openvcr.store.schema.identity import register_identities

BASE = "/api/operator/v1"
SALE = {
    "items": [
        {
            "offer": {"title": {"type": "universal", "content": "Tea"}, "type": "product", "classifierCode": "0902",
                      "defaultMeasureUnit": "pc", "defaultDepartment": {"id": 1}, "externalId": "TEA"},
            "department": {"id": 1}, "quantity": "1", "price": "700", "unit": "pc",
        }
    ],
    "autoSettle": {"tender": "cash"},
}  # fmt: skip


@dataclass
class Host:
    client: TestClient
    db: Database
    settings: Settings
    headers: dict[str, str]
    ca_home: Path


@pytest.fixture
def host(database: Database, tmp_path: Path) -> Iterator[Host]:
    # key_cache_seconds=0: a key revoked by ``disable`` fails at once (else within the revocation delay)
    settings = Settings(database_url=database.url, sandbox_state_dir=tmp_path / "sandbox", key_cache_seconds=0)
    token = service.create_token(database, "host")
    app = create_app(settings, db=database, gateway=build_gateway(settings, database))
    with TestClient(app) as client:
        yield Host(client, database, settings, {"Authorization": f"Bearer {token.token}"}, tmp_path / "ca")


def _count(db: Database, table: Any) -> int:
    with db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _onboard_register(host: Host, tin: str = "01234567") -> dict[str, Any]:
    crn, sn = sandbox_simulator(host.settings).state.register(tin=tin, taxpayer="Shop LLC", address="Yerevan")
    created = host.client.post(
        f"{BASE}/registers", json={"businessTin": tin, "crn": crn, "sn": sn, "address": "Yerevan"}, headers=host.headers
    )
    assert created.status_code == 201, created.text
    return dict(created.json())


def _sign(host: Host, register: dict[str, Any]) -> str:
    simulator = sandbox_simulator(host.settings)
    pem, _ = ca.sign_request(
        host.ca_home, simulator.state, register["csr"].encode(), crn=register["crn"], tin=register["businessTin"]
    )
    return pem.decode()


def test_a_host_onboards_a_business_from_nothing_to_its_first_sale(host: Host) -> None:
    business = host.client.post(
        f"{BASE}/businesses", json={"tin": "01234567", "name": "Shop LLC"}, headers=host.headers
    )
    assert business.status_code == 201 and business.json()["tin"] == "01234567"
    register = _onboard_register(host)
    assert register["mode"] == "production" and register["csr"].startswith("-----BEGIN CERTIFICATE REQUEST")
    listed = host.client.get(f"{BASE}/registers", headers=host.headers).json()
    assert listed[0]["health"] == "degraded" and listed[0]["certificate"]["status"] == "awaiting"
    assert (
        host.client.get(f"{BASE}/registers/{register['vcrId']}/csr", headers=host.headers).json()["csr"]
        == (register["csr"])
    )

    ca_pem = ca.ca_files(host.ca_home).ca_cert
    certificate = _sign(host, register)
    imported = host.client.put(
        f"{BASE}/registers/{register['vcrId']}/certificate",
        json={"certificate": certificate, "ca": ca_pem.read_text()},
        headers=host.headers,
    )
    assert imported.status_code == 200, imported.text
    assert imported.json()["authorityStatus"] == "operating" and imported.json()["activationError"] is None
    health = host.client.get(f"{BASE}/registers/{register['vcrId']}", headers=host.headers).json()
    assert health["health"] == "ok" and health["certificate"]["status"] == "valid" and health["problems"] == []

    key = {"X-API-KEY": register["apiKey"]}
    departments = host.client.get("/api/v1/departments", headers=key).json()
    vat = next(d["internalId"] for d in departments if d["taxRegime"] == "vat")
    item = {**SALE["items"][0], "department": {"id": vat}}  # type: ignore[index]
    item["offer"] = {**item["offer"], "defaultDepartment": {"id": vat}}
    sale = {**SALE, "cashier": {"id": register["cashier"]["id"]}, "items": [item]}
    sold = host.client.post("/api/v1/sales", json=sale, headers=key)
    assert sold.status_code == 200, sold.text
    assert sold.json()["crn"] == register["crn"]

    disabled = host.client.post(f"{BASE}/registers/{register['vcrId']}/disable", headers=host.headers)
    assert disabled.json()["health"] == "disabled"
    assert host.client.post("/api/v1/sales", json=sale, headers=key).status_code == 401
    assert sandbox_simulator(host.settings).state.summary(register["crn"])["receipts"] == 1  # type: ignore[index]


def test_only_an_operator_token_opens_the_operator_api(host: Host) -> None:
    assert host.client.get(f"{BASE}/registers").status_code == 401
    assert host.client.get(f"{BASE}/registers", headers={"Authorization": "Bearer ovop_nope"}).status_code == 401
    host.client.post(f"{BASE}/businesses", json={"tin": "01234567", "name": "Shop"}, headers=host.headers)
    added = _onboard_register(host)
    for headers in ({"Authorization": f"Bearer {added['apiKey']}"}, {"X-API-KEY": added["apiKey"]}):
        answer = host.client.get(f"{BASE}/registers", headers=headers)
        assert answer.status_code == 401 and "error" in answer.json()
    revoked = service.create_token(host.db, "old")
    service.revoke_token(host.db, revoked.id)
    assert (
        host.client.get(f"{BASE}/businesses", headers={"Authorization": f"Bearer {revoked.token}"}).status_code == 401
    )


def test_bad_input_is_an_exact_4xx_and_writes_nothing(host: Host) -> None:
    post = host.client.post
    assert post(f"{BASE}/businesses", json={"tin": "123", "name": "Shop"}, headers=host.headers).status_code == 400
    assert post(f"{BASE}/businesses", json={"tin": "01234567"}, headers=host.headers).status_code == 400
    assert _count(host.db, business_entities) == 0
    assert post(f"{BASE}/businesses", json={"tin": "01234567", "name": "Shop"}, headers=host.headers).status_code == 201
    assert post(f"{BASE}/businesses", json={"tin": "01234567", "name": "Shop"}, headers=host.headers).status_code == 409
    unknown = post(f"{BASE}/registers", json={"businessTin": "07654321", "crn": "1", "sn": "1"}, headers=host.headers)
    assert unknown.status_code == 404
    no_crn = post(f"{BASE}/registers", json={"businessTin": "01234567", "sn": "1"}, headers=host.headers)
    assert no_crn.status_code == 400 and no_crn.json()["issues"][0]["path"] == ["crn"]
    assert _count(host.db, registers) == 0

    register = _onboard_register(host)
    other = ec.generate_private_key(ec.SECP256R1())
    stranger = ca.issue_client_certificate(
        host.ca_home, sandbox_simulator(host.settings).state, crn=register["crn"], tin="01234567",
        out_dir=host.ca_home / "stranger",
    )  # fmt: skip
    put = host.client.put
    url = f"{BASE}/registers/{register['vcrId']}/certificate"
    mismatch = put(url, json={"certificate": stranger.cert.read_text()}, headers=host.headers)
    assert mismatch.status_code == 400 and "does not match the register's key" in mismatch.json()["error"]
    assert put(url, json={"p12": "%%%"}, headers=host.headers).status_code == 400
    bundle = pkcs12.serialize_key_and_certificates(b"x", other, None, None, serialization.NoEncryption())
    no_cert = put(url, json={"p12": base64.b64encode(bundle).decode()}, headers=host.headers)
    assert no_cert.status_code == 400
    assert put(url, json={}, headers=host.headers).status_code == 400
    assert put(f"{BASE}/registers/999/certificate", json={"certificate": "x"}, headers=host.headers).status_code == 404
    with host.db.read() as conn:
        assert conn.execute(select(register_identities.c.cert_pem)).scalar() is None


def test_the_operator_api_has_its_own_tag_in_openapi(host: Host) -> None:
    spec = host.client.get("/openapi.json").json()
    operator_paths = {path for path in spec["paths"] if path.startswith(BASE)}
    assert {f"{BASE}/businesses", f"{BASE}/registers", f"{BASE}/registers/{{register_id}}/certificate"} <= (
        operator_paths
    )
    for path in operator_paths:
        for operation in spec["paths"][path].values():
            assert operation["tags"] == ["operator"]


def _login_once(client: TestClient, url: str) -> int:
    """Use a one-time login link as the console does (the form, then its POST); the POST's status."""
    path = url.split("://", 1)[1].split("/", 1)[1]
    form = client.get(f"/{path}")
    assert form.status_code == 200
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf is not None
    return client.post(f"/{path}", data={"csrf": csrf.group(1)}, follow_redirects=False).status_code


def test_an_operator_invites_a_business_first_owner_whose_link_signs_in_once(host: Host) -> None:
    created = host.client.post(f"{BASE}/businesses", json={"tin": "07654321", "name": "Tea LLC"}, headers=host.headers)
    business = created.json()
    url = f"{BASE}/businesses/{business['id']}/owners"
    answer = host.client.post(url, json={"email": "Boss@Tea.example"}, headers=host.headers)
    assert answer.status_code == 201, answer.text
    invited = answer.json()
    assert (invited["businessId"], invited["businessTin"], invited["email"], invited["role"]) == (
        business["id"], "07654321", "boss@tea.example", "owner"
    )  # fmt: skip
    assert invited["linkValidMinutes"] == host.settings.console_link_minutes
    assert invited["loginUrl"].startswith(f"{host.settings.public_url.rstrip('/')}/console/login/")
    [user] = console.users_of(host.db, business["id"])
    assert not user.has_password and [(m.tin, m.role) for m in user.memberships] == [("07654321", "owner")]
    browser = TestClient(host.client.app)
    assert _login_once(browser, invited["loginUrl"]) == 303
    assert browser.get("/console/account").status_code == 200  # signed in, as the owner
    assert _login_once(TestClient(host.client.app), invited["loginUrl"]) == 401  # once only
    # the first owner only: another invitation is a 409 and adds no one
    again = host.client.post(url, json={"email": "other@tea.example"}, headers=host.headers)
    assert again.status_code == 409 and "has an owner already" in again.text
    assert [u.email for u in console.users_of(host.db, business["id"])] == ["boss@tea.example"]


def test_the_invitation_needs_the_operator_token_and_checks_its_input(host: Host) -> None:
    business = host.client.post(f"{BASE}/businesses", json={"tin": "07654322", "name": "Tea LLC"},
                                headers=host.headers).json()  # fmt: skip
    url = f"{BASE}/businesses/{business['id']}/owners"
    body = {"email": "boss@tea.example"}
    assert host.client.post(url, json=body).status_code == 401
    assert host.client.post(url, json=body, headers={"Authorization": "Bearer ovop_wrong"}).status_code == 401
    register = _onboard_register(host, "07654322")
    assert register["apiKey"]
    for headers in ({"X-API-KEY": register["apiKey"]}, {"Authorization": f"Bearer {register['apiKey']}"}):
        assert host.client.post(url, json=body, headers=headers).status_code == 401  # a register key is refused
    for bad in ({"email": "not an address"}, {}, {"email": ""}, {"email": ["a@b.example"]}):
        answer = host.client.post(url, json=bad, headers=host.headers)
        assert answer.status_code == 400, (bad, answer.text)
    assert host.client.post(f"{BASE}/businesses/999999/owners", json=body, headers=host.headers).status_code == 404
    assert console.users_of(host.db, business["id"]) == []
    spec = host.client.get("/openapi.json").json()
    assert spec["paths"][f"{BASE}/businesses/{{business_id}}/owners"]["post"]["tags"] == ["operator"]
    assert [t["name"] for t in spec["tags"]] == ["operator"] and "operator token" in spec["tags"][0]["description"]
