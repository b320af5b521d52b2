"""The public verification page ``GET /ticket/verify`` (HTML and JSON) against stored, signed invoices."""

from __future__ import annotations

import asyncio
import base64
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI

from openvcr.api.app import create_app
from openvcr.vsdc import service
from openvcr.vsdc.schemas import parse_body
from tests.integration.vsdc.conftest import Vsdc
from tests.unit.vsdc.seed import seed_json


class Client:
    """A synchronous client of the in-process app (httpx over ASGI)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def get(self, url: str, headers: dict[str, str] | None = None) -> httpx.Response:
        async def call() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                return await client.get(url, headers=headers)

        return asyncio.run(call())


@pytest.fixture
def client(vsdc: Vsdc) -> Client:
    return Client(create_app(vsdc.settings, db=vsdc.db))


def signed_link(vsdc: Vsdc, **changes: object) -> str:
    response = service.fiscalize(
        vsdc.db, vsdc.settings, cert_serial=vsdc.serial, fields=parse_body(seed_json(**changes), "json")
    )
    url = urlsplit(response["verificationUrl"])
    return f"{url.path}?{url.query}"


def _replace(link: str, name: str, value: str) -> str:
    path, _, query = link.partition("?")
    parts = [f"{name}={value}" if p.split("=", 1)[0] == name else p for p in query.split("&")]
    return path + "?" + "&".join(parts)


def test_a_signed_invoice_link_is_valid_with_decrypted_counters(vsdc: Vsdc, client: Client) -> None:
    link = signed_link(vsdc, itype="Normal")
    answer = client.get(link, headers={"Accept": "application/json"})
    assert answer.status_code == 200
    body = answer.json()
    assert body["valid"] is True
    assert body["reason"] is None
    assert body["tin"] == "123456789"
    assert body["taxpayer"] == "Seed Taxpayer"
    assert body["counters"]["invoiceCount"] == "1"
    assert body["counters"]["salesTotal"] == "12120.00"
    assert body["amounts"]["B"] == {"rate": "18", "taxable": "2000", "tax": "360"}


def test_the_page_for_a_phone_says_valid(vsdc: Vsdc, client: Client) -> None:
    answer = client.get(signed_link(vsdc), headers={"Accept": "text/html"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert '<div class="verdict valid" id="verdict">VALID</div>' in answer.text
    assert "Seed Taxpayer" in answer.text
    assert "MCR_777777777" in answer.text


def test_an_altered_signature_is_not_valid(vsdc: Vsdc, client: Client) -> None:
    link = signed_link(vsdc)
    sign = base64.b64encode(b"\x30\x44" + bytes(68)).decode()
    body = client.get(_replace(link, "sign", sign.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")),
                      headers={"Accept": "application/json"}).json()  # fmt: skip
    assert body["valid"] is False
    assert body["reason"] == "The signature does not match the invoice signed by the V-SDC."
    html = client.get(_replace(link, "sign", "AAAA")).text
    assert "NOT VALID" in html
    assert "The signature does not match the invoice signed by the V-SDC." in html


def test_altered_internal_data_is_not_valid(vsdc: Vsdc, client: Client) -> None:
    link = signed_link(vsdc)
    data = next(p for p in link.split("?", 1)[1].split("&") if p.startswith("data="))[5:]
    tampered = ("B" if data[0] != "B" else "C") + data[1:]
    body = client.get(_replace(link, "data", tampered), headers={"Accept": "application/json"}).json()
    assert body["valid"] is False
    assert body["reason"] == (
        "The internal data is not the V-SDC's: it does not decrypt under the device's counter key."
    )


def test_an_altered_amount_is_not_valid(vsdc: Vsdc, client: Client) -> None:
    body = client.get(_replace(signed_link(vsdc), "mb", "2001"), headers={"Accept": "application/json"}).json()
    assert body == body | {"valid": False, "reason": "The amount mb differs from the signed invoice."}


def test_an_unknown_invoice_is_not_valid(vsdc: Vsdc, client: Client) -> None:
    body = client.get("/ticket/verify?mcr=777777777&ino=nope", headers={"Accept": "application/json"}).json()
    assert body["valid"] is False
    assert body["reason"] == "Invoice nope of device 777777777 was never signed."
