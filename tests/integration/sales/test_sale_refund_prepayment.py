"""The prepayment part of a sale refund goes back to the advances it came from; when they were refunded since,
the refund is refused (409) and nothing is written, rather than crediting a closed prepayment."""

from __future__ import annotations

from typing import Any

from tests.integration.foundation.conftest import Api

BUYER = {"type": "individual", "phone": "+37491000001"}
TEA = {"title": {"type": "universal", "content": "Tea"}, "type": "product", "classifierCode": "0902",
       "defaultMeasureUnit": "pc", "defaultDepartment": {"id": 1}, "externalId": "TEA"}  # fmt: skip


def _post(api: Api, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = api.client.post(path, json=body, headers=api.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _balance(api: Api) -> Any:
    response = api.client.get(
        "/api/v1/prepayments/balance", params={"customerRef": BUYER["phone"]}, headers=api.headers
    )
    assert response.status_code == 200, response.text
    return response.json()["balance"]


def _sale_paid_by_prepayment(api: Api) -> tuple[int, int]:
    prepayment = _post(api, "/api/v1/prepayments", {"cashier": {"id": 1}, "amount": {"cash": "1000"}, "buyer": BUYER})
    sale = _post(
        api,
        "/api/v1/sales",
        {
            "cashier": {"id": 1},
            "items": [{"offer": TEA, "department": {"id": 1}, "quantity": "1", "price": "700", "unit": "pc"}],
            "amount": {"prepayment": "700"},
            "buyer": BUYER,
        },
    )
    return prepayment["prepaymentId"], sale["saleId"]


def test_refunding_a_prepaid_sale_gives_the_advance_back(api: Api) -> None:
    _, sale_id = _sale_paid_by_prepayment(api)
    assert _balance(api) == 300
    _post(api, "/api/v1/sales/refund", {"cashier": {"id": 1}, "saleId": sale_id})
    assert _balance(api) == 1000


def test_when_the_advance_was_refunded_meanwhile_the_sale_refund_is_409_and_writes_nothing(api: Api) -> None:
    prepayment_id, sale_id = _sale_paid_by_prepayment(api)
    _post(api, "/api/v1/prepayments/refund", {"cashier": {"id": 1}, "prepaymentId": prepayment_id})
    assert _balance(api) == 0
    response = api.client.post(
        "/api/v1/sales/refund", json={"cashier": {"id": 1}, "saleId": sale_id}, headers=api.headers
    )
    assert response.status_code == 409
    assert "refunded since" in response.json()["error"]
    detail = api.client.get(f"/api/v1/sales/{sale_id}", headers=api.headers).json()
    assert detail["refunds"] == []
    assert _balance(api) == 0
