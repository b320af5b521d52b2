"""The cursor lists for integrators (``GET /sales``, ``/sales/refunds``, ``/prepayments/refunds``) on SQLite and
PostgreSQL: newest first, pages that neither repeat nor skip, filters, exact 400s, one register only."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.foundation.conftest import Api
from tests.integration.reports.helpers import (
    money,
    ok,
    prepay_ok,
    refund_prepayment,
    refund_sale,
    second_register,
    sell,
)


def listing(api: Api, path: str, headers: dict[str, str] | None = None, **params: Any) -> Any:
    return api.client.get(f"/api/v1{path}", params=params, headers=headers or api.headers)


def every_page(api: Api, path: str, limit: int, **params: Any) -> tuple[list[dict[str, Any]], int]:
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    pages = 0
    while True:
        extra = {"cursor": cursor} if cursor else {}
        page = ok(listing(api, path, limit=limit, **params, **extra))
        pages += 1
        assert len(page["items"]) <= limit
        items += page["items"]
        cursor = page["nextCursor"]
        if cursor is None:
            return items, pages


def test_sales_are_listed_newest_first_in_pages_with_their_receipt_links(api: Api) -> None:
    made = [sell(api, str(1000 + i)) for i in range(5)]
    items, pages = every_page(api, "/sales", 2)
    assert pages == 3
    assert [i["id"] for i in items] == [s["saleId"] for s in reversed(made)]
    by_id = {s["saleId"]: s for s in made}
    for item in items:
        sale = by_id[item["id"]]
        assert item["urlId"] == sale["urlId"]
        assert item["receiptUrl"] == sale["receiptUrl"] and item["receiptUrl"]
        assert item["receiptId"] == sale["srcReceiptId"]
        assert item["state"] == "completed"
        assert item["createdAt"].endswith("Z") and len(item["createdAt"]) == 24
    assert [money(i["total"]) for i in items] == [money(1004), money(1003), money(1002), money(1001), money(1000)]
    exact = ok(listing(api, "/sales", limit=5))
    assert len(exact["items"]) == 5 and exact["nextCursor"] is None
    # a sale made between two pages never shows up on a later page (newest first)
    first = ok(listing(api, "/sales", limit=2))
    sell(api, "9")
    second = ok(listing(api, "/sales", limit=2, cursor=first["nextCursor"]))
    assert [i["id"] for i in second["items"]] == [made[2]["saleId"], made[1]["saleId"]]


def test_refund_lists_name_what_they_refund(api: Api) -> None:
    sale = sell(api, "4000")
    sale_refund = refund_sale(api, sale["saleId"])
    prepayment = prepay_ok(api, "5000")
    prepayment_refund = refund_prepayment(api, prepayment["prepaymentId"])
    refunds = ok(listing(api, "/sales/refunds"))["items"]
    assert [(r["id"], r["saleId"], r["urlId"], money(r["total"])) for r in refunds] == [
        (sale_refund["saleRefundId"], sale["saleId"], sale_refund["urlId"], money(4000))
    ]
    assert refunds[0]["receiptUrl"] == sale_refund["receiptUrl"]
    returned = ok(listing(api, "/prepayments/refunds"))["items"]
    assert [(r["id"], r["prepaymentId"], r["urlId"], money(r["total"])) for r in returned] == [
        (prepayment_refund["prepaymentRefundId"], prepayment["prepaymentId"], prepayment_refund["urlId"], money(5000))
    ]
    # the existing 500-row list keeps its shape: a JSON array
    assert isinstance(ok_list(listing(api, "/prepayments")), list)


def ok_list(response: Any) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def test_state_and_period_filters(api: Api) -> None:
    made = sell(api)
    assert [i["id"] for i in ok(listing(api, "/sales", state="completed"))["items"]] == [made["saleId"]]
    assert ok(listing(api, "/sales", state="dropped"))["items"] == []
    assert ok(listing(api, "/sales", **{"from": "2999-01-01"}))["items"] == []
    assert ok(listing(api, "/sales", to="2000-01-01T00:00:00Z"))["items"] == []
    created = ok(listing(api, "/sales"))["items"][0]["createdAt"]
    assert len(ok(listing(api, "/sales", **{"from": created, "to": created}))["items"]) == 1
    assert len(ok(listing(api, "/sales", **{"from": created[:10], "to": created[:10]}))["items"]) == 1


@pytest.mark.parametrize("path", ["/sales", "/sales/refunds", "/prepayments/refunds"])
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 501}, "limit"),
        ({"limit": 0}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"cursor": "%%%"}, "cursor"),
        ({"cursor": "W10"}, "cursor"),  # base64url of []
        ({"state": "open"}, "state"),
        ({"from": "2026-13-01"}, "from"),
    ],
)
def test_bad_parameters_are_a_400_with_the_field(api: Api, path: str, params: dict[str, Any], field: str) -> None:
    response = listing(api, path, **params)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"]
    assert body["issues"][0]["path"][-1] == field


def test_a_key_of_another_register_sees_none_of_these_documents(api: Api) -> None:
    sale = sell(api)
    refund_sale(api, sale["saleId"])
    refund_prepayment(api, prepay_ok(api)["prepaymentId"])
    other = second_register(api)
    for path in ("/sales", "/sales/refunds", "/prepayments/refunds"):
        assert ok(listing(api, path, headers=other))["items"] == []
        assert len(ok(listing(api, path))["items"]) == 1
    # a cursor made on register A reads nothing of A on register B
    first = ok(listing(api, "/sales", limit=1))
    assert first["nextCursor"] is None
    sell(api)
    page = ok(listing(api, "/sales", limit=1))
    assert ok(listing(api, "/sales", headers=other, cursor=page["nextCursor"]))["items"] == []


def test_lists_need_their_read_scopes(api: Api) -> None:
    from openvcr.registers.keys import create_key

    with api.db.write() as conn:
        sales_only = create_key(conn, api.init.register_id, ("sales:read",)).key
    headers = {"X-API-KEY": sales_only}
    assert listing(api, "/sales", headers=headers).status_code == 200
    assert listing(api, "/sales/refunds", headers=headers).status_code == 200
    assert listing(api, "/prepayments/refunds", headers=headers).status_code == 403
    assert api.client.get("/api/v1/sales").status_code == 401


def test_a_document_not_fiscalized_is_listed_in_its_state_and_stays_out_of_the_shift(api: Api) -> None:
    from tests.integration.documents.helpers import crash_during_send, crashing_post, engine_of
    from tests.integration.prepayments.helpers import sale_body

    done = sell(api, "1000")
    with crash_during_send(api, after_src_registered=False):
        crashing_post(api, "/sales", sale_body("2500"))
    items = ok(listing(api, "/sales"))["items"]
    assert [(i["state"], i["receiptUrl"] is None, i["receiptId"]) for i in items] == [
        ("sent", True, None),
        ("completed", False, done["srcReceiptId"]),
    ]
    assert [i["id"] for i in ok(listing(api, "/sales", state="sent"))["items"]] == [items[0]["id"]]
    assert [i["id"] for i in ok(listing(api, "/sales", state="completed"))["items"]] == [done["saleId"]]
    x = ok(api.client.post("/api/v1/reports/x", headers=api.headers))
    assert x["totals"]["documents"]["sale"] == {"count": 1, "total": 1000}  # only what the journal holds
    engine_of(api).recover(min_age_ms=0)  # SRC registered nothing: dropped
    assert [i["state"] for i in ok(listing(api, "/sales"))["items"]] == ["dropped", "completed"]
    assert [i["id"] for i in ok(listing(api, "/sales", state="dropped"))["items"]] == [items[0]["id"]]
