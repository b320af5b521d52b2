"""The V-SDC listener over real mutual TLS (uvicorn in a thread, httpx with the device certificate)."""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote
from xml.etree import ElementTree

import defusedxml.ElementTree as SafeET
import httpx
import pytest

from openvcr.config import Settings
from openvcr.registers.signing_keys import clear_signer_cache
from openvcr.store.db import Database
from openvcr.vsdc import crypto, service
from openvcr.vsdc.listener import build_server
from tests.e2e.server import free_port
from tests.unit.vsdc.seed import seed_json, seed_xml

COMBINATION = "There was an error with your MCR/TIN  (777777777/123456789) combination. Please try again."


@dataclass
class Listener:
    url: str
    db: Database
    settings: Settings
    files: service.DeviceFiles
    tmp: Path

    def client(self, files: service.DeviceFiles | None = None, *, with_cert: bool = True) -> httpx.Client:
        files = files or self.files
        context = ssl.create_default_context(cafile=str(files.ca))
        if with_cert:
            context.load_cert_chain(str(files.cert), str(files.key))
        return httpx.Client(verify=context, timeout=10)

    def post(self, body: bytes, content_type: str = "application/json", **headers: str) -> httpx.Response:
        with self.client() as client:
            return client.post(self.url, content=body, headers={"Content-Type": content_type, **headers})


def _start(settings: Settings, db: Database, tmp: Path, context: str = "") -> Iterator[str]:
    port = free_port()
    work = tmp / f"work-{port}"
    work.mkdir()
    server = build_server(settings, db, port=port, context=context, host="127.0.0.1", work_dir=work)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise AssertionError("the V-SDC listener did not start")
        time.sleep(0.05)
    try:
        yield f"https://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def _setup(database: Database, tmp_path: Path, **overrides: Any) -> tuple[Settings, service.DeviceFiles]:
    clear_signer_cache()
    settings = Settings(
        database_url=database.url,
        public_url="https://vsdc.example",
        atax_state_dir=tmp_path / "atax",
        log_level="warning",
        **overrides,
    )
    service.init_ca(database, settings)
    service.add_taxpayer(
        database, tin="123456789", name="Seed Taxpayer", rates=service.parse_rates("A=0,B=18,C=16,D=32")
    )
    files = service.add_device(database, settings, tin="123456789", mcr="777777777", out_dir=tmp_path / "device")
    return settings, files


@pytest.fixture
def listener(database: Database, tmp_path: Path) -> Iterator[Listener]:
    settings, files = _setup(database, tmp_path)
    for base in _start(settings, database, tmp_path, context="ctx"):
        yield Listener(base + "/ctx/merchant/invoice", database, settings, files, tmp_path)


def test_the_seed_request_in_json_is_signed_over_mutual_tls(listener: Listener) -> None:
    answer = listener.post(seed_json())
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    body = answer.json()
    assert body["success"] is True
    assert body["message"] == "Request successfully processed"
    assert body["vsdcNumber"] == "MCR_777777777"
    assert body["invoiceNumber"] == "xxxxxxxxxxxxxxx"
    assert body["totalInvoices"] == 1
    assert body["verificationUrl"].startswith(
        "https://vsdc.example/ticket/verify?tin=123456789&date=2014-12-31+21%3A07%3A36+-0400&bid=000000000000001"
        "&itype=T&ttype=S&mcr=777777777&ino=xxxxxxxxxxxxxxx&data="
    )
    assert "$" not in body["journal"]
    assert body["signature"] in body["journal"]
    # idempotent replay over the wire: the same answer, nothing counted twice
    again = listener.post(seed_json())
    assert again.json() == body


def test_the_seed_request_in_xml_is_answered_in_xml_unless_accept_asks_for_json(listener: Listener) -> None:
    answer = listener.post(seed_xml(), "application/xml")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/xml")
    root = SafeET.fromstring(answer.content)
    assert isinstance(root, ElementTree.Element)
    assert root.tag == "response"
    assert root.findtext("success") == "true"
    assert root.findtext("vsdcNumber") == "MCR_777777777"
    assert root.findtext("totalInvoices") == "1"
    as_json = listener.post(seed_xml(), "text/xml", Accept="application/json")
    assert as_json.headers["content-type"].startswith("application/json")
    assert as_json.json()["signature"] == root.findtext("signature")


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"tin": "XYZ"}, {"success": False, "status": None, "message": "TIN <XYZ> does not exist.", "errors": []}),
        (
            {"mcr": "000000000000001"},
            {"success": False, "message": None, "errors": ["MCR <000000000000001> does not exist."]},
        ),
        (
            {"hr": 25},
            {
                "success": False,
                "status": None,
                "message": "Tax Rate expected <0.000000> but was <25.000000>",
                "errors": [],
            },
        ),
        (
            {"journal": None},
            {"success": False, "status": None, "message": "Journal is missing", "errors": ["Journal is missing"]},
        ),
    ],
)
def test_the_contract_errors_come_back_exactly(listener: Listener, changes: dict[str, Any], expected: object) -> None:
    answer = listener.post(seed_json(**changes))
    assert answer.status_code == 400
    assert answer.json() == expected
    assert json.loads(answer.content) == expected


def test_the_certificate_of_another_device_gets_the_combination_error(listener: Listener) -> None:
    other = service.add_device(
        listener.db, listener.settings, tin="123456789", mcr="888", out_dir=listener.tmp / "other"
    )
    with listener.client(other) as client:
        answer = client.post(listener.url, content=seed_json(), headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    assert answer.json() == {"success": False, "status": None, "message": COMBINATION, "errors": [COMBINATION]}


def test_a_request_without_a_client_certificate_is_refused_in_the_handshake(listener: Listener) -> None:
    with listener.client(with_cert=False) as client, pytest.raises(httpx.TransportError):
        client.post(listener.url, content=seed_json(), headers={"Content-Type": "application/json"})


def test_a_certificate_of_another_ca_is_refused_in_the_handshake(listener: Listener, tmp_path: Path) -> None:
    foreign_pem, foreign_key = crypto.create_ca("Foreign CA")
    cert, key = crypto.issue_device_certificate(foreign_pem, foreign_key, tin="123456789", mcr="777777777")
    (tmp_path / "f.pem").write_text(crypto.cert_pem(cert))
    (tmp_path / "f.key").write_bytes(crypto.key_pem(key, None))
    context = ssl.create_default_context(cafile=str(listener.files.ca))
    context.load_cert_chain(str(tmp_path / "f.pem"), str(tmp_path / "f.key"))
    with httpx.Client(verify=context, timeout=10) as client, pytest.raises(httpx.TransportError):
        client.post(listener.url, content=seed_json(), headers={"Content-Type": "application/json"})


def test_a_revoked_certificate_is_refused_from_the_next_request_on(listener: Listener) -> None:
    with listener.client() as client:
        first = client.post(listener.url, content=seed_json(), headers={"Content-Type": "application/json"})
        assert first.status_code == 200
        service.revoke_device(listener.db, "777777777")
        second = client.post(listener.url, content=seed_json(ino="2"), headers={"Content-Type": "application/json"})
    assert second.status_code == 401
    assert second.json()["message"] == "The client certificate is unknown or revoked"
    with listener.db.read() as conn:
        from openvcr.vsdc import repository

        device = repository.device_by_mcr(conn, "777777777")
        assert device is not None
        assert repository.invoice_by_ino(conn, device.register_id, "2") is None


def test_an_oversized_body_is_refused(listener: Listener) -> None:
    answer = listener.post(b"{" + b" " * (1024 * 1024 + 10) + b"}")
    assert answer.status_code == 413
    assert answer.json()["message"] == "The request body is larger than 1048576 bytes"


def test_a_forwarded_certificate_is_trusted_only_from_a_configured_proxy(database: Database, tmp_path: Path) -> None:
    settings, files = _setup(database, tmp_path, vsdc_trusted_proxies=["127.0.0.1"])
    header = quote(files.cert.read_text())
    context = ssl.create_default_context(cafile=str(files.ca))  # the proxy presents no client certificate
    for base in _start(settings, database, tmp_path):
        url = base + "/merchant/invoice"
        with httpx.Client(verify=context, timeout=10) as client:
            forwarded = client.post(
                url, content=seed_json(), headers={"Content-Type": "application/json", "X-SSL-Client-Cert": header}
            )
            missing = client.post(url, content=seed_json(ino="2"), headers={"Content-Type": "application/json"})
        assert forwarded.status_code == 200, forwarded.text
        assert missing.status_code == 401
        assert missing.json()["message"] == "A client certificate is required"


def test_a_forwarded_certificate_from_an_untrusted_address_is_ignored(database: Database, tmp_path: Path) -> None:
    settings, files = _setup(database, tmp_path, vsdc_trusted_proxies=["192.0.2.1"])
    header = quote(files.cert.read_text())
    context = ssl.create_default_context(cafile=str(files.ca))
    for base in _start(settings, database, tmp_path):
        with httpx.Client(verify=context, timeout=10) as client:
            answer = client.post(
                base + "/merchant/invoice",
                content=seed_json(),
                headers={"Content-Type": "application/json", "X-SSL-Client-Cert": header},
            )
        assert answer.status_code == 401
