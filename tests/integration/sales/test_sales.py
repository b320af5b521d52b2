"""POST /sales, GET /sales/{id}, POST /sales/refund: the contract, the SRC registration, the journal, and no
writes on bad input."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import orjson
import pytest
from sqlalchemy import func, select

from openvcr.documents.models import RequestKey
from openvcr.registers import journal
from openvcr.sales.schemas import SaleCreate
from openvcr.sales.service import SalesService
from openvcr.store.schema.journal import journal_entries
from openvcr.store.schema.sales import sale_refunds, sales
from tests.integration.foundation.conftest import Api

ORGAN = {"title": {"type": "universal", "content": "Երգեհոն"}, "type": "product", "classifierCode": "9205",
         "defaultMeasureUnit": "pc", "defaultDepartment": {"id": 1}, "externalId": "9205-13"}  # fmt: skip


def acceptance_sale() -> dict[str, Any]:
    return {
        "cashier": {"id": 1},
        "items": [
            {
                "offer": ORGAN,
                "department": {"id": 1},
                "quantity": "2",
                "price": "25000",
                "unit": "pc",
                "discounts": {
                    "base": {"type": "percent", "value": "10"},
                    "additional": {"type": "total", "value": "1000"},
                },
            },
            {
                "offer": {**ORGAN, "externalId": "REED", "title": {"type": "universal", "content": "Եղեգ"}},
                "department": {"id": 1},
                "quantity": "1.5",
                "price": 1000,
                "unit": "kg",
            },
        ],
        "amount": {"nonCash": "40000", "cash": "6000"},
        "buyer": {"type": "individual", "receipt": {"email": "buyer@example.com", "language": "en"}},
        "comment": "  gift\x07 wrap  ",
    }


def count(api: Api, table: Any) -> int:
    with api.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def side_effects(api: Api) -> tuple[int, int, int]:
    with api.db.read() as conn:
        head = journal.head(conn, api.init.register_id)
    return count(api, sales), count(api, journal_entries), head.number


def post_sale(api: Api, body: dict[str, Any], **headers: str) -> Any:
    return api.client.post("/api/v1/sales", json=body, headers={**api.headers, **headers})


def test_acceptance_sale_detail_and_partial_refund(api: Api) -> None:
    response = post_sale(api, acceptance_sale())
    assert response.status_code == 200, response.text
    created = response.json()
    assert set(created) == {"urlId", "saleId", "crn", "srcReceiptId", "fiscal", "receiptUrl"}
    assert created["crn"] == api.init.crn and created["fiscal"] and isinstance(created["srcReceiptId"], int)
    # the buyer asked for the receipt in English: the link opens the page in English
    assert created["receiptUrl"] == f"{api.settings.public_url}/en/r/{api.init.crn}/{created['urlId']}"

    detail = api.client.get(f"/api/v1/sales/{created['saleId']}", headers=api.headers).json()
    assert detail["receipt"]["total"] == 45500 and detail["receipt"]["change"] == 500
    assert detail["receipt"]["time"].isdigit() and detail["receipt"]["srcId"] == created["srcReceiptId"]
    assert detail["cashAmount"] == 6000 and detail["nonCashAmount"] == 40000 and detail["prepaymentAmount"] == 0
    assert detail["comment"] == "gift wrap"
    first, second = detail["items"]
    assert (first["srcId"], second["srcId"]) == (0, 1)
    assert (first["discount"], first["discountType"]) == (10, "percent")
    assert (first["additionalDiscount"], first["additionalDiscountType"]) == (1000, "total")
    assert (second["discount"], second["discountType"], second["quantity"]) == (None, None, 1.5)
    assert first["offer"]["classifierCode"] == "9205" and first["department"]["taxRegime"] == "vat"
    assert detail["refunds"] == []

    refund = api.client.post(
        "/api/v1/sales/refund",
        json={
            "cashier": {"id": 1},
            "saleId": created["saleId"],
            "items": [{"srcId": 0, "quantity": "1"}],
            "reason": "customer_request",
        },
        headers=api.headers,
    )
    assert refund.status_code == 200, refund.text
    body = refund.json()
    assert set(body) == {"urlId", "saleRefundId", "crn", "receiptId", "fiscal", "receiptUrl"}
    assert body["receiptUrl"] == f"{api.settings.public_url}/hy/r/{api.init.crn}/{body['urlId']}"
    assert body["fiscal"] is None and body["receiptId"] == created["srcReceiptId"] + 1
    detail = api.client.get(f"/api/v1/sales/{created['saleId']}", headers=api.headers).json()
    (only,) = detail["refunds"]
    assert only["receipt"]["total"] == 22000 and only["items"] == [{"quantity": 1}]
    assert only["cashAmount"] + only["nonCashAmount"] == 22000


def test_refund_without_items_returns_everything_left_then_409(api: Api) -> None:
    sale = post_sale(api, acceptance_sale()).json()
    refund_all = {"cashier": {"id": 1}, "saleId": sale["saleId"]}
    first = api.client.post("/api/v1/sales/refund", json=refund_all, headers=api.headers)
    assert first.status_code == 200, first.text
    detail = api.client.get(f"/api/v1/sales/{sale['saleId']}", headers=api.headers).json()
    (refund,) = detail["refunds"]
    assert refund["receipt"]["total"] == 45500
    assert (refund["cashAmount"], refund["nonCashAmount"]) == (5500, 40000)
    before = (count(api, sale_refunds), *side_effects(api))
    again = api.client.post("/api/v1/sales/refund", json=refund_all, headers=api.headers)
    assert again.status_code == 409 and again.json()["error"]
    assert (count(api, sale_refunds), *side_effects(api)) == before


def test_over_refund_of_a_line_is_409_and_writes_nothing(api: Api) -> None:
    sale = post_sale(api, acceptance_sale()).json()
    before = (count(api, sale_refunds), *side_effects(api))
    response = api.client.post(
        "/api/v1/sales/refund",
        json={"cashier": {"id": 1}, "saleId": sale["saleId"], "items": [{"srcId": 0, "quantity": "3"}]},
        headers=api.headers,
    )
    assert response.status_code == 409 and "can still be refunded" in response.json()["error"]
    assert (count(api, sale_refunds), *side_effects(api)) == before


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (lambda b: b["amount"].update(cash="0", nonCash="40000"), ["amount"]),
        (lambda b: b["amount"].update(nonCash="46000"), ["amount", "nonCash"]),
        (lambda b: b.update(amount={"nonCash": "45500", "cash": "1"}), ["amount", "cash"]),
        (lambda b: b["items"][0].update(department={"id": 99}), ["items", 0, "department", "id"]),
        (lambda b: b["items"][0].update(offer={"externalId": "NOPE"}), ["items", 0, "offer", "externalId"]),
        (lambda b: b["items"][0].update(quantity="0"), ["items", 0, "quantity"]),
        (lambda b: b["items"][0].update(price="1.123456789"), ["items", 0, "price"]),  # 9 decimals
        (lambda b: b["items"][0]["discounts"]["base"].update(value="100"), ["items", 0, "discounts", "base", "value"]),
        (lambda b: b.update(cashier={"id": 99}), ["cashier"]),
        (lambda b: b.update(autoSettle={"tender": "cash"}), []),
        (lambda b: b["items"][1].update(currency="USD"), ["items", 1, "currency"]),
        (lambda b: b["amount"].update(prepayment="100", nonCash="39900"), ["buyer"]),
        (lambda b: b.update(items=[]), ["items"]),
    ],
)
def test_bad_sales_are_400_naming_the_field_and_write_nothing(api: Api, mutate: Any, path: list[Any]) -> None:
    body = acceptance_sale()
    mutate(body)
    before = side_effects(api)
    response = post_sale(api, body)
    assert response.status_code == 400, response.text
    issues = response.json()["issues"]
    assert issues[0]["path"] == path
    assert side_effects(api) == before


def test_auto_settle_charges_the_total(api: Api) -> None:
    body = acceptance_sale()
    del body["amount"]
    body["autoSettle"] = {"tender": "nonCash"}
    sale = post_sale(api, body).json()
    detail = api.client.get(f"/api/v1/sales/{sale['saleId']}", headers=api.headers).json()
    assert (detail["nonCashAmount"], detail["cashAmount"], detail["receipt"]["change"]) == (45500, 0, 0)


def test_idempotency_key_replays_byte_for_byte_and_a_different_body_is_422(api: Api) -> None:
    first = post_sale(api, acceptance_sale(), **{"Idempotency-Key": "order-1"})
    assert first.status_code == 200 and "idempotent-replay" not in first.headers
    assert "idempotency-replayed" not in first.headers
    state = side_effects(api)
    replay = post_sale(api, acceptance_sale(), **{"Idempotency-Key": "order-1"})
    assert replay.status_code == 200
    assert replay.headers["idempotent-replay"] == "true"
    assert replay.headers["idempotency-replayed"] == "true"
    assert replay.content == first.content
    assert side_effects(api) == state
    other = acceptance_sale()
    other["comment"] = "different"
    mismatch = post_sale(api, other, **{"Idempotency-Key": "order-1"})
    assert mismatch.status_code == 422 and "different request" in mismatch.json()["error"]
    assert side_effects(api) == state


def test_every_sale_is_journaled_and_verifies(api: Api) -> None:
    for _ in range(3):
        assert post_sale(api, acceptance_sale()).status_code == 200
    from openvcr.registers.export import verify_database

    result = verify_database(api.db, register_id=api.init.register_id)
    assert result.entries == 3


def test_parallel_sales_on_one_register_get_contiguous_numbers_and_distinct_receipts(api: Api) -> None:
    service = SalesService(api.client.app.state.ctx.engine)  # type: ignore[attr-defined]
    body = SaleCreate.model_validate(
        {
            "cashier": {"id": 1},
            "items": [{"offer": ORGAN, "department": {"id": 1}, "quantity": "1", "price": "100", "unit": "pc"}],
            "autoSettle": {"tender": "cash"},
        }
    )
    post_sale(api, acceptance_sale())  # creates the offer once
    results: list[dict[str, Any]] = []
    endpoint = "POST /sales"
    errors: list[BaseException] = []

    def one(n: int) -> None:
        try:
            key = RequestKey.of(endpoint, api.init.register_id, f"parallel:{n}", {"n": n})
            results.append(orjson.loads(service.create_sale(api.init.register_id, body, key).body))
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len({r["srcReceiptId"] for r in results}) == 50
    with api.db.read() as conn:
        numbers = [e.number for e in journal.entries(conn, api.init.register_id)]
    assert numbers == list(range(1, 52))
    with api.db.read() as conn:
        totals = conn.execute(select(func.sum(sales.c.total))).scalar_one()
    assert Decimal(totals) == Decimal("45500") + 50 * Decimal("100")


def test_unknown_or_foreign_sale_is_404(api: Api) -> None:
    assert api.client.get("/api/v1/sales/999", headers=api.headers).status_code == 404
    refund = api.client.post("/api/v1/sales/refund", json={"cashier": {"id": 1}, "saleId": 999}, headers=api.headers)
    assert refund.status_code == 404
