"""The naive receipt service of the bench: validates, signs, and commits one receipt per 200, on both backends."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from bench import naive, workload
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from fastapi.testclient import TestClient

KEY = "bench-key"
REFS = workload.RegisterRefs(register_id=1, api_key=KEY, cashier_id=1, departments=(1, 2))


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    naive.setup(db_url, [KEY])
    with TestClient(naive.create_app(db_url, pool_size=2)) as test_client:
        yield test_client


def _register_pem(db_url: str) -> str:
    path = naive.sqlite_path(db_url)
    if path is not None:
        conn = naive._sqlite_connect(path)
        try:
            return str(conn.execute("SELECT key_pem FROM registers").fetchone()[0])
        finally:
            conn.close()
    import psycopg

    with psycopg.connect(naive.libpq_url(db_url)) as pg:
        row = pg.execute("SELECT key_pem FROM registers").fetchone()
        assert row is not None
        return str(row[0])


def test_each_sale_is_validated_signed_and_committed_once(client: TestClient, db_url: str) -> None:
    requests = workload.sale_requests(REFS, 3, seed=1)
    answers = [client.post(r["path"], content=r["body"], headers=r["headers"]) for r in requests]

    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.json()["number"] for a in answers] == [1, 2, 3]
    left = naive.stored(db_url)
    assert left == naive.Stored(receipts=3, distinct_numbers=3, counters_total=3, signatures_valid=3)
    public = load_pem_public_key(naive.public_key_pem(_register_pem(db_url)).encode())
    assert isinstance(public, ec.EllipticCurvePublicKey)
    sale = naive.sale_bytes(naive.Sale.model_validate_json(requests[0]["body"]))
    signature = base64.b64decode(answers[0].json()["signature"])
    public.verify(signature, naive.receipt_bytes(1, 1, sale), ec.ECDSA(hashes.SHA256()))


def test_an_invalid_sale_or_an_unknown_key_commits_nothing(client: TestClient, db_url: str) -> None:
    request = workload.sale_requests(REFS, 1, seed=2)[0]
    no_items = '{"cashier":{"id":1},"items":[],"autoSettle":{"tender":"cash"}}'
    two_ways = request["body"][:-1] + ',"autoSettle":{"tender":"cash"}}'

    assert client.post(request["path"], content=no_items, headers=request["headers"]).status_code == 422
    if '"amount"' in request["body"]:
        assert client.post(request["path"], content=two_ways, headers=request["headers"]).status_code == 422
    other = {**request["headers"], "X-API-KEY": "not-a-key"}
    assert client.post(request["path"], content=request["body"], headers=other).status_code == 401

    assert naive.stored(db_url) == naive.Stored(0, 0, 0, 0)
    assert client.post(request["path"], content=request["body"], headers=request["headers"]).json()["number"] == 1
