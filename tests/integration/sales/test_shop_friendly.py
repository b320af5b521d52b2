"""Shop-friendly sales: ``items[].department`` may be omitted (the offer's default department), and a unit price
may have up to 8 decimals — the line is price × quantity rounded half-up to the cent, and SRC registers exactly
that amount (the price rounded up to the cent, less a discount on the line total of the difference)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from openvcr.store.schema.documents import documents
from openvcr.store.schema.sales import sale_items, sales
from tests.integration.foundation.conftest import Api
from tests.integration.prepayments.helpers import post_sale


def _offer(api: Api, external_id: str, department: int) -> None:
    body = {
        "type": "product",
        "classifierCode": "0901",
        "title": {"type": "universal", "content": f"Coffee {external_id}"},
        "defaultMeasureUnit": "pc",
        "defaultDepartment": {"id": department},
        "externalId": external_id,
    }
    created = api.client.post("/api/v1/offers", json=body, headers=api.headers)
    assert created.status_code == 200, created.text


def _sale(items: list[dict[str, Any]], **amount: str) -> dict[str, Any]:
    return {"cashier": {"id": 1}, "items": items, "amount": amount or None, "autoSettle": None} | (
        {"amount": amount} if amount else {"autoSettle": {"tender": "nonCash"}}
    )


def _detail(api: Api, sale_id: int) -> dict[str, Any]:
    answer = api.client.get(f"/api/v1/sales/{sale_id}", headers=api.headers)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def _src_receipt(conn: Any, sale_id: int) -> dict[str, Any]:
    joined = sales.join(documents, documents.c.id == sales.c.document_id)
    return dict(conn.execute(select(documents.c.receipt).select_from(joined).where(sales.c.id == sale_id)).scalar_one())


def _count(api: Api) -> int:
    with api.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(documents)).scalar_one())


def test_an_omitted_department_is_the_offers_default_and_an_explicit_one_wins(api: Api) -> None:
    _offer(api, "DEP-2", department=2)
    body = _sale(
        [
            {"offer": {"externalId": "DEP-2"}, "quantity": "1", "price": "1000", "unit": "pc"},
            {"offer": {"externalId": "DEP-2"}, "department": {"id": 1}, "quantity": "1", "price": "500", "unit": "pc"},
        ],
        nonCash="1500",
    )
    sale = post_sale(api, body)
    assert sale.status_code == 200, sale.text
    items = _detail(api, sale.json()["saleId"])["items"]
    assert [item["department"]["internalId"] for item in items] == [2, 1]


def test_an_inline_new_offer_without_a_line_department_takes_its_declared_one(api: Api) -> None:
    item = {
        "offer": {
            "externalId": "NEW-3",
            "title": {"type": "universal", "content": "Tea"},
            "type": "product",
            "classifierCode": "0902",
            "defaultMeasureUnit": "pc",
            "defaultDepartment": {"id": 3},
        },
        "quantity": "2",
        "price": "300",
        "unit": "pc",
    }
    sale = post_sale(api, _sale([item], cash="600"))
    assert sale.status_code == 200, sale.text
    assert _detail(api, sale.json()["saleId"])["items"][0]["department"]["internalId"] == 3


def test_the_woocommerce_case_1000_amd_over_3_units(api: Api) -> None:
    _offer(api, "WOO-1", department=1)
    item = {"offer": {"externalId": "WOO-1"}, "quantity": 3, "price": "333.33333333", "unit": "pc"}
    sale = post_sale(api, _sale([item], nonCash="1000"))
    assert sale.status_code == 200, sale.text
    detail = _detail(api, sale.json()["saleId"])
    assert Decimal(str(detail["nonCashAmount"])) == Decimal("1000")
    with api.db.read() as conn:
        row = conn.execute(select(sale_items).where(sale_items.c.sale_id == sale.json()["saleId"])).one()
        assert Decimal(_src_receipt(conn, row.sale_id)["total"]) == Decimal("1000.00")
    # registered as SRC can take it: 333.34 × 3 = 1000.02, less 0.02 on the line total = 1000.00
    assert (row.price, row.discount, row.discount_type, row.total) == (
        Decimal("333.34"),
        Decimal("0.02"),
        "total",
        Decimal("1000.00"),
    )


@pytest.mark.parametrize(
    ("price", "quantity", "pays", "registered"),
    [
        ("12.345", "1", "12.35", ("12.35", None)),  # the ceiling is the half-up cent: no discount
        ("0.125", "4", "0.50", ("0.13", "0.02")),  # 0.13 × 4 = 0.52, less 0.02
        ("99.99999999", "0.5", "50.00", ("100.00", None)),  # 100.00 × 0.5 = 50.00
        ("1.005", "1.250", "1.26", ("1.01", None)),  # 1.01 × 1.25 = 1.2625 → 1.26
        ("7.77777777", "9", "70.00", ("7.78", "0.02")),  # 7.78 × 9 = 70.02, less 0.02
    ],
)
def test_fine_prices_pay_price_times_quantity_rounded_half_up_and_src_registers_the_same(
    api: Api, price: str, quantity: str, pays: str, registered: tuple[str, str | None]
) -> None:
    _offer(api, f"FINE-{price}-{quantity}", department=1)
    item = {"offer": {"externalId": f"FINE-{price}-{quantity}"}, "quantity": quantity, "price": price, "unit": "pc"}
    sale = post_sale(api, _sale([item], nonCash=pays))
    assert sale.status_code == 200, sale.text
    with api.db.read() as conn:
        row = conn.execute(select(sale_items).where(sale_items.c.sale_id == sale.json()["saleId"])).one()
        receipt = _src_receipt(conn, row.sale_id)
    exact = (Decimal(price) * Decimal(quantity)).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
    assert row.total == exact == Decimal(pays)
    assert (row.price, row.discount) == (
        Decimal(registered[0]),
        None if registered[1] is None else Decimal(registered[1]),
    )
    assert Decimal(receipt["total"]) == exact  # SRC's own arithmetic on what was sent gives the same amount


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        (lambda i: i.update(price="1.123456789"), ["items", 0, "price"], "at most 8 decimals"),
        (
            lambda i: i.update(discounts={"base": {"type": "percent", "value": "10"}}),
            ["items", 0, "discounts"],
            "cannot carry discounts",
        ),
        (lambda i: i.update(currency="USD"), ["items", 0, "price"], "foreign currency has at most 2 decimals"),
    ],
)
def test_what_a_fine_price_cannot_do_is_a_400_and_writes_nothing(
    api: Api, change: Any, path: list[Any], message: str
) -> None:
    from datetime import timedelta

    from openvcr.sales.rates import RateRow, store_rates, yerevan_today

    with api.db.write() as conn:
        store_rates(conn, [RateRow("USD", yerevan_today() - timedelta(days=1), 1, Decimal("387.5"))])
    _offer(api, "BAD-1", department=1)
    item: dict[str, Any] = {"offer": {"externalId": "BAD-1"}, "quantity": "3", "price": "333.33333333", "unit": "pc"}
    change(item)
    before = _count(api)
    answer = post_sale(api, _sale([item], nonCash="1000"))
    assert answer.status_code == 400, answer.text
    issue = answer.json()["issues"][0]
    assert issue["path"] == path and message in issue["message"]
    assert _count(api) == before


def test_an_omitted_department_whose_default_is_gone_is_a_400(api: Api) -> None:
    body = _sale([{"offer": {"externalId": "NOPE"}, "quantity": "1", "price": "10", "unit": "pc"}], cash="10")
    answer = post_sale(api, body)
    assert answer.status_code == 400
    assert answer.json()["issues"][0]["path"] == ["items", 0, "offer", "externalId"]
