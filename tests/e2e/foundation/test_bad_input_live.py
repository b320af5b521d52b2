"""The edge's answers to oversized and unparsable bodies and out-of-range numbers, from a real ``openvcr serve``
(uvicorn, not the in-process client): 413 and 400 with the envelope and the request id, never a 5xx."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.e2e.server import init_json, openvcr_env, serve

SALE = {
    "cashier": {"id": 1},
    "items": [{"offer": {"id": 1}, "quantity": "1", "price": "1000", "unit": "pc"}],
    "amount": {"cash": "1000"},
}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    tmp = tmp_path_factory.mktemp("live")
    database = f"sqlite:///{tmp / 'x.db'}"
    env = openvcr_env(tmp / "sandbox")
    init = init_json(database, env)
    with serve(database, env) as (base, _process):
        yield base, {"X-API-KEY": str(init["apiKey"]), "Content-Type": "application/json"}


def envelope(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = dict(response.json())
    assert body["error"] and body["requestId"] == response.headers["X-Request-Id"]
    return body


def test_a_body_over_1_mib_is_a_413_with_the_envelope(live: tuple[str, dict[str, str]]) -> None:
    base, headers = live
    big = json.dumps({**SALE, "comment": "x" * (2 * 1024 * 1024)})
    with httpx.Client(base_url=base, timeout=30) as http:
        assert "1048576 bytes" in envelope(http.post("/api/v1/sales", content=big, headers=headers), 413)["error"]

        def chunks() -> Iterator[bytes]:
            yield b"[" + b" " * (1024 * 1024) + b"]"

        envelope(http.post("/api/v1/sales", content=chunks(), headers=headers), 413)
        assert http.get("/api/v1/whoami", headers=headers).status_code == 200  # the server is fine


def test_a_content_length_announcing_20_mb_is_refused_before_the_body_is_sent(
    live: tuple[str, dict[str, str]],
) -> None:
    base, headers = live
    url = urlsplit(base)
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        head = (
            "POST /api/v1/sales HTTP/1.1\r\n"
            f"Host: {url.netloc}\r\nX-API-KEY: {headers['X-API-KEY']}\r\n"
            "Content-Type: application/json\r\nContent-Length: 20000000\r\n\r\n"
        )
        sock.sendall(head.encode())  # and no body at all: the answer must not wait for it
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    assert b" 413 " in status_line
    assert b'"requestId"' in rest.partition(b"\r\n\r\n")[2]


@pytest.mark.parametrize(
    "content",
    [
        b"\xff\xfe{\x00}\x00",
        json.dumps(SALE).encode("utf-16"),
        b"[" * 50_000 + b"]" * 50_000,
        json.dumps(SALE).replace('"1000"', "NaN", 1).encode(),
        json.dumps(SALE).replace('"1000"', "1e400", 1).encode(),
    ],
)
def test_unparsable_and_non_finite_bodies_are_400s(live: tuple[str, dict[str, str]], content: bytes) -> None:
    base, headers = live
    with httpx.Client(base_url=base, timeout=30) as http:
        envelope(http.post("/api/v1/sales", content=content, headers=headers), 400)


def test_ids_beyond_2_53_are_400s_and_the_largest_is_a_404(live: tuple[str, dict[str, str]]) -> None:
    base, headers = live
    with httpx.Client(base_url=base, timeout=30) as http:
        for path in ("/api/v1/sales/{}", "/api/v1/offers/{}", "/api/v1/prepayments/{}"):
            envelope(http.get(path.format(2**63), headers=headers), 400)
            envelope(http.get(path.format(2**53 - 1), headers=headers), 404)
        refund = {"cashier": {"id": 1}, "saleId": 2**63}
        envelope(http.post("/api/v1/sales/refund", json=refund, headers=headers), 400)
