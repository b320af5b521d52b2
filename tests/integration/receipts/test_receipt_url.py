"""``receiptUrl``: the public receipt page of a document, absolute under ``OPENVCR_PUBLIC_URL``, on the four
fiscal responses and the detail responses; null while the document has no receipt."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from openvcr.api.app import create_app
from openvcr.authority.factory import build_gateway
from openvcr.authority.service import SrcService
from openvcr.registers.service import initialize
from openvcr.store.db import Database
from openvcr.store.schema.documents import documents
from tests.integration.documents.helpers import engine_of, set_late_fiscalization, switchable_src
from tests.integration.foundation.conftest import Api, make_settings
from tests.integration.prepayments.helpers import (
    get,
    post_prepayment,
    post_sale,
    prepay,
    prepayment_body,
    refund,
    sale_body,
)

PUBLIC = "https://shop.example/receipts/"


@pytest.fixture
def shop(database: Database, db_url: str, tmp_path: Path) -> Iterator[Api]:
    """The app with ``OPENVCR_PUBLIC_URL`` set to an address with a path and a trailing slash."""
    settings = make_settings(db_url, tmp_path, public_url=PUBLIC)
    gateway = build_gateway(settings)
    result = initialize(database, settings, SrcService(database, gateway, settings))
    with TestClient(create_app(settings, db=database, gateway=gateway)) as client:
        yield Api(client, database, settings, result)


def link(api: Api, url_id: str, locale: str = "hy") -> str:
    return f"https://shop.example/receipts/{locale}/r/{api.init.crn}/{url_id}"


def test_every_fiscal_response_and_detail_carries_the_receipt_url(shop: Api) -> None:
    body = sale_body("3000", quantity="2", cash="6000")
    sale = post_sale(shop, body).json()
    assert sale["receiptUrl"] == link(shop, sale["urlId"])
    sale_refund = shop.client.post(
        "/api/v1/sales/refund",
        json={"cashier": {"id": 1}, "saleId": sale["saleId"], "items": [{"srcId": 0, "quantity": "1"}]},
        headers=shop.headers,
    ).json()
    assert sale_refund["receiptUrl"] == link(shop, sale_refund["urlId"])
    detail = get(shop, f"/sales/{sale['saleId']}").json()
    assert detail["receiptUrl"] == sale["receiptUrl"]
    assert [r["receiptUrl"] for r in detail["refunds"]] == [sale_refund["receiptUrl"]]
    status = get(shop, f"/sales/refunds/{sale_refund['saleRefundId']}").json()
    assert status["receiptUrl"] == sale_refund["receiptUrl"]

    prepayment = prepay(shop, cash="800", buyer={"type": "individual", "phone": "+37491000002",
                                                "receipt": {"email": "b@example.com", "language": "ru"}})  # fmt: skip
    assert prepayment["receiptUrl"] == link(shop, prepayment["urlId"], "ru")  # the buyer's receipt language
    back = refund(shop, prepayment["prepaymentId"]).json()
    assert back["receiptUrl"] == link(shop, back["urlId"])
    detail = get(shop, f"/prepayments/{prepayment['prepaymentId']}").json()
    assert detail["receiptUrl"] == prepayment["receiptUrl"] and detail["refund"]["receiptUrl"] == back["receiptUrl"]
    status = get(shop, f"/prepayments/refunds/{back['prepaymentRefundId']}").json()
    assert status["receiptUrl"] == back["receiptUrl"]


def test_the_receipt_url_opens_the_receipt_page(shop: Api) -> None:
    sale = post_sale(shop, sale_body()).json()
    path = sale["receiptUrl"].removeprefix("https://shop.example/receipts")
    page = shop.client.get(path)
    assert page.status_code == 200 and f'id="receipt-id">{sale["srcReceiptId"]}<' in page.text


def test_a_replay_repeats_the_receipt_url_byte_for_byte(shop: Api) -> None:
    first = post_sale(shop, sale_body(), **{"Idempotency-Key": "url-1"})
    again = post_sale(shop, sale_body(), **{"Idempotency-Key": "url-1"})
    assert again.headers["idempotent-replay"] == "true" and again.content == first.content
    assert b'"receiptUrl":"https://shop.example/receipts/hy/r/' in first.content


def test_the_receipt_url_is_null_until_the_document_has_a_receipt(shop: Api) -> None:
    set_late_fiscalization(shop, True)
    with switchable_src(shop) as src:
        src.down = True
        pending = post_prepayment(shop, prepayment_body("300"), **{"Idempotency-Key": "late-url"})
        assert pending.status_code == 502, pending.text
        prepayment_id = pending.json()["pending"]["id"]
        detail: dict[str, Any] = get(shop, f"/prepayments/{prepayment_id}").json()
        assert detail["fiscalStatus"] == "deferred" and detail["receipt"] is None and detail["receiptUrl"] is None
        with shop.db.read() as conn:
            url_id = conn.execute(select(documents.c.url_id)).scalar_one()
        awaiting = shop.client.get(f"/en/r/{shop.init.crn}/{url_id}")
        assert awaiting.status_code == 200 and "Receipt awaiting fiscalization" in awaiting.text
        src.down = False
    assert engine_of(shop).recover(min_age_ms=0).completed == 1
    assert "<h1>Prepayment receipt</h1>" in shop.client.get(f"/en/r/{shop.init.crn}/{url_id}").text
    detail = get(shop, f"/prepayments/{prepayment_id}").json()
    replay = post_prepayment(shop, prepayment_body("300"), **{"Idempotency-Key": "late-url"})
    assert replay.status_code == 200, replay.text
    assert replay.json()["urlId"] == url_id
    assert detail["receiptUrl"] == replay.json()["receiptUrl"] == link(shop, url_id)


def test_without_a_public_url_the_default_is_the_local_address(api: Api) -> None:
    sale = post_sale(api, sale_body()).json()
    assert sale["receiptUrl"] == f"http://127.0.0.1:8000/hy/r/{api.init.crn}/{sale['urlId']}"
