"""Requests and side-effect counters shared by the prepayment and receipt-page tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from openvcr.authority.factory import sandbox_simulator
from openvcr.registers import journal
from openvcr.store.schema.journal import journal_entries
from openvcr.store.schema.sales import prepayment_refunds, prepayment_usages, prepayments, sales
from tests.integration.foundation.conftest import Api

PHONE = "+37491123456"


def buyer(**overrides: Any) -> dict[str, Any]:
    return {"type": "individual", "phone": PHONE, **overrides}


def prepayment_body(cash: str | None = "10000", non_cash: str | None = None, **extra: Any) -> dict[str, Any]:
    amount = {k: v for k, v in (("cash", cash), ("nonCash", non_cash)) if v is not None}
    return {"cashier": {"id": 1}, "amount": amount, "buyer": buyer(), **extra}


def post_prepayment(api: Api, body: dict[str, Any], **headers: str) -> Any:
    return api.client.post("/api/v1/prepayments", json=body, headers={**api.headers, **headers})


def prepay(api: Api, cash: str | None = "10000", non_cash: str | None = None, **extra: Any) -> dict[str, Any]:
    response = post_prepayment(api, prepayment_body(cash, non_cash, **extra))
    assert response.status_code == 200, response.text
    return dict(response.json())


def refund(api: Api, prepayment_id: int, **headers: str) -> Any:
    return api.client.post(
        "/api/v1/prepayments/refund",
        json={"cashier": {"id": 1}, "prepaymentId": prepayment_id, "reason": "customer_request"},
        headers={**api.headers, **headers},
    )


def sale_body(price: str = "4000", quantity: str = "1", **payment: str) -> dict[str, Any]:
    return {
        "cashier": {"id": 1},
        "items": [
            {
                "offer": {
                    "title": {"type": "universal", "content": "Սուրճ"},
                    "type": "product",
                    "classifierCode": "0901",
                    "defaultMeasureUnit": "pc",
                    "defaultDepartment": {"id": 1},
                    "externalId": "COFFEE",
                },
                "department": {"id": 1},
                "quantity": quantity,
                "price": price,
                "unit": "pc",
            }
        ],
        "amount": payment or {"cash": price},
        "buyer": buyer(),
    }


def post_sale(api: Api, body: dict[str, Any], **headers: str) -> Any:
    return api.client.post("/api/v1/sales", json=body, headers={**api.headers, **headers})


def get(api: Api, path: str, **params: Any) -> Any:
    return api.client.get(f"/api/v1{path}", params=params, headers=api.headers)


def count(api: Api, table: Any) -> int:
    with api.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def src_receipts(api: Api) -> int:
    assert api.init.crn is not None
    summary = sandbox_simulator(api.settings).state.summary(api.init.crn)
    assert summary is not None
    return int(summary["receipts"])


def side_effects(api: Api) -> dict[str, int]:
    """Everything a fiscal document writes: rows, journal entries, the journal head, SRC receipts."""
    with api.db.read() as conn:
        head = journal.head(conn, api.init.register_id)
    return {
        "sales": count(api, sales),
        "prepayments": count(api, prepayments),
        "usages": count(api, prepayment_usages),
        "refunds": count(api, prepayment_refunds),
        "journal": count(api, journal_entries),
        "head": head.number,
        "documents": head.counters.documents,
        "src": src_receipts(api),
    }
