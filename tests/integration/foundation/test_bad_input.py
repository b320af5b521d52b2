"""Every input gets a 4xx with the envelope, or a 2xx, never a 5xx: out-of-range ids, non-finite and huge
numbers, oversized and unparsable bodies, control characters. Each refused request writes nothing. A 5xx that
can still happen (a bug) carries the request id in the body and in ``X-Request-Id``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from openvcr.api.app import create_app
from openvcr.authority.factory import build_gateway
from openvcr.sales.service import SalesService
from openvcr.store.db import Database
from openvcr.store.schema.foundation import departments
from tests.integration.foundation.conftest import Api, make_settings
from tests.integration.prepayments.helpers import count, prepayment_body, sale_body, side_effects

HUGE = 2**63
BEYOND_JSON = 2**53  # the first integer a JSON client cannot tell from its neighbour
MAX_ID = 2**53 - 1


def envelope(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = dict(response.json())
    assert isinstance(body["error"], str) and body["error"]
    assert body["requestId"] == response.headers["X-Request-Id"]
    assert set(body) <= {"error", "issues", "requestId", "pending"}
    return body


def post(api: Api, path: str, content: bytes | str, **headers: str) -> Any:
    return api.client.post(
        f"/api/v1{path}", content=content, headers={**api.headers, "Content-Type": "application/json", **headers}
    )


# ---- ids --------------------------------------------------------------------------------------------------


ID_PATHS = ["/sales/{}", "/sales/refunds/{}", "/offers/{}", "/prepayments/{}", "/prepayments/refunds/{}"]


def test_an_id_outside_1_to_2_53_in_the_path_is_a_400_naming_it_and_the_largest_is_a_404(api: Api) -> None:
    for path in ID_PATHS:
        for value in (HUGE, BEYOND_JSON, 10**30, 0, -1):
            body = envelope(api.client.get(f"/api/v1{path.format(value)}", headers=api.headers), 400)
            ((issue,),) = [body["issues"]]
            assert issue["path"][-1].endswith("_id"), (path, value, issue)
        for unknown in (MAX_ID, 2**31, 2**31 - 1):  # beyond PostgreSQL's integer column too: not found
            envelope(api.client.get(f"/api/v1{path.format(unknown)}", headers=api.headers), 404)
    patched = api.client.patch(
        f"/api/v1/offers/{HUGE}", json={"title": {"type": "universal", "content": "Tea"}}, headers=api.headers
    )
    envelope(patched, 400)
    envelope(api.client.delete(f"/api/v1/offers/{HUGE}", headers=api.headers), 400)


def _sale_with(**item: Any) -> dict[str, Any]:
    body = sale_body()
    body["items"][0].update(item)
    return body


BODY_IDS: dict[str, tuple[str, dict[str, Any], list[str | int]]] = {
    "saleId": ("/sales/refund", {"cashier": {"id": 1}, "saleId": HUGE}, ["saleId"]),
    "cashier.id": ("/sales", {**sale_body(), "cashier": {"id": HUGE}}, ["cashier", "id"]),
    "department.id": ("/sales", _sale_with(department={"id": HUGE}), ["items", 0, "department", "id"]),
    "offer.id": ("/sales", _sale_with(offer={"id": HUGE}), ["items", 0, "offer", "id"]),
    "offer.defaultDepartment.id": (
        "/sales",
        _sale_with(offer={**sale_body()["items"][0]["offer"], "defaultDepartment": {"id": HUGE}}),
        ["items", 0, "offer", "defaultDepartment", "id"],
    ),
    "prepaymentId": ("/prepayments/refund", {"cashier": {"id": 1}, "prepaymentId": BEYOND_JSON}, ["prepaymentId"]),
    "prepayment cashier.id": ("/prepayments", {**prepayment_body(), "cashier": {"id": HUGE}}, ["cashier", "id"]),
    "offers defaultDepartment.id": (
        "/offers",
        {
            "type": "product",
            "classifierCode": "0901",
            "title": {"type": "universal", "content": "Tea"},
            "defaultMeasureUnit": "pc",
            "defaultDepartment": {"id": HUGE},
        },
        ["defaultDepartment", "id"],
    ),
    "refund srcId": (
        "/sales/refund",
        {"cashier": {"id": 1}, "saleId": 1, "items": [{"srcId": HUGE, "quantity": "1"}]},
        ["items", 0, "srcId"],
    ),
}


def test_an_id_beyond_2_53_in_a_body_is_a_400_naming_it_and_writes_nothing(api: Api) -> None:
    before = side_effects(api)
    for case, (path, body, where) in BODY_IDS.items():
        issues = envelope(post(api, path, json.dumps(body)), 400)["issues"]
        assert where in [issue["path"] for issue in issues], (case, issues)
        # An id the schema takes but no INTEGER column holds (PostgreSQL): an unknown one, never a 5xx.
        unknown = json.dumps(body).replace(str(HUGE), str(2**31)).replace(str(BEYOND_JSON), str(MAX_ID))
        answer = post(api, path, unknown)
        assert answer.status_code in (400, 404), (case, answer.text)
        envelope(answer, answer.status_code)
    assert side_effects(api) == before


# ---- numbers ----------------------------------------------------------------------------------------------

SALE_TEMPLATE = json.dumps(sale_body(price="4000", nonCash="4000"))
NUMBERS = ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1" * 5000]


NUMBER_FIELDS = [
    ("/sales", SALE_TEMPLATE, '"price": "4000"'),
    ("/sales", SALE_TEMPLATE, '"quantity": "1"'),
    ("/sales", SALE_TEMPLATE, '"nonCash": "4000"'),
    ("/prepayments", json.dumps(prepayment_body()), '"cash": "10000"'),
    (
        "/sales/refund",
        json.dumps({"cashier": {"id": 1}, "saleId": 1, "refundAmounts": {"cash": "1"}}),
        '"cash": "1"',
    ),
    ("/prepayments", json.dumps({"cashier": {"id": 1}, "prepaymentId": 1}), '"prepaymentId": 1'),
]


def test_a_non_finite_or_endless_number_is_a_400_and_writes_nothing(api: Api) -> None:
    before = side_effects(api)
    for path, template, field in NUMBER_FIELDS:
        assert field in template
        name = field.split(":")[0]
        for number in NUMBERS:
            body = envelope(post(api, path, template.replace(field, f"{name}: {number}")), 400)
            assert body["error"] in ("Malformed JSON body", "Validation failed"), (field, number, body)
            if len(number) > 100:
                assert number[:100] not in json.dumps(body)
    assert side_effects(api) == before


# ---- bodies -----------------------------------------------------------------------------------------------

UNPARSABLE = {
    "bad UTF-8": SALE_TEMPLATE.encode().replace(b"4000", b"40\xff0", 1),
    "UTF-16": SALE_TEMPLATE.encode("utf-16"),
    "UTF-8 BOM": b"\xef\xbb\xbf" + SALE_TEMPLATE.encode(),
    "lone surrogate": SALE_TEMPLATE.replace('"pc"', '"\\ud800"', 1).encode(),
    "lone surrogate in a key": b'{"\\udfff": 1}',
    "nested 100 deep": b'{"cashier": ' + b"[" * 100 + b"]" * 100 + b"}",
    "nested 100 000 deep": b"[" * 100_000 + b"]" * 100_000,
    "truncated": SALE_TEMPLATE.encode()[:-5],
    "an integer of 5 000 digits": b'{"saleId": ' + b"9" * 5000 + b"}",
}


def test_every_unparsable_body_gets_the_same_message_in_the_envelope(api: Api) -> None:
    before = side_effects(api)
    for case, content in UNPARSABLE.items():
        body = envelope(post(api, "/sales", content), 400)
        assert body["error"] == "Malformed JSON body", (case, body)
        assert len(json.dumps(body)) < 600, case
    assert side_effects(api) == before


def test_a_body_over_the_limit_is_a_413_before_it_is_read(api: Api) -> None:
    before = side_effects(api)
    big = SALE_TEMPLATE[:-1] + ', "comment": "' + "x" * (1024 * 1024) + '"}'
    body = envelope(post(api, "/sales", big), 413)
    assert "1048576 bytes" in body["error"]
    assert side_effects(api) == before
    assert post(api, "/sales", SALE_TEMPLATE).status_code == 200  # a normal one still passes


def test_a_streamed_body_over_the_limit_is_a_413(api: Api) -> None:
    def chunks() -> Any:
        for _ in range(20):
            yield b" " * 65536  # white space is valid JSON padding; 1.25 MiB in all
        yield SALE_TEMPLATE.encode()

    before = side_effects(api)
    response = api.client.post(
        "/api/v1/sales", content=chunks(), headers={**api.headers, "Content-Type": "application/json"}
    )
    envelope(response, 413)
    assert side_effects(api) == before


def test_the_body_limit_is_a_setting(database: Database, db_url: str, tmp_path: Path) -> None:
    settings = make_settings(db_url, tmp_path, max_body_bytes=2048)
    app = create_app(settings, db=database, gateway=build_gateway(settings))
    with TestClient(app) as client:
        response = client.post("/api/v1/sales", content=b"[" + b" " * 3000 + b"]")
        assert response.status_code == 413 and "2048 bytes" in response.json()["error"]
        assert client.post("/api/v1/sales", content=b"[]").status_code == 401  # small: on to authentication


def test_a_content_length_that_is_not_a_number_is_a_400(api: Api) -> None:
    response = api.client.post("/api/v1/sales", content=b"{}", headers={**api.headers, "Content-Length": "12abc"})
    envelope(response, 400)


# ---- text -------------------------------------------------------------------------------------------------


def test_a_department_with_control_characters_is_a_400_and_configures_nothing(api: Api) -> None:
    before = count(api, departments)
    for text in ("Bank\x00", "Bank\x1b[31m", "Bank\nCafé", "\x7fBank", "Bank\u2028Café"):
        title = {"value": {"hy": text}, "localizationStrategy": "transliteration"}
        issues = envelope(post(api, "/departments", json.dumps({"taxRegime": "vat", "title": title})), 400)["issues"]
        assert issues[0]["path"] == ["title", "value", "hy"], (text, issues)
        title = {"value": {"hy": "Բանկ"}, "localizationStrategy": "transliteration"}
        external = {"taxRegime": "vat", "externalId": text, "title": title}
        issues = envelope(post(api, "/departments", json.dumps(external)), 400)["issues"]
        assert issues[0]["path"] == ["externalId"], (text, issues)
    assert count(api, departments) == before


def test_control_characters_in_an_identifier_are_a_400_and_free_text_strips_them(api: Api) -> None:
    before = side_effects(api)
    for where, change in (
        (["items", 0, "offer", "externalId"], {"externalId": "COF\x00FEE"}),
        (["items", 0, "offer", "classifierCode"], {"classifierCode": "09\x0001"}),
        (["items", 0, "offer", "title"], {"title": {"type": "universal", "content": "Tea\x00"}}),
    ):
        body = sale_body()
        body["items"][0]["offer"].update(change)
        issues = envelope(post(api, "/sales", json.dumps(body)), 400)["issues"]
        assert where in [issue["path"] for issue in issues], (where, issues)
    emarked = sale_body()
    emarked["items"][0]["emarks"] = ["0" * 28 + "\x00"]
    issues = envelope(post(api, "/sales", json.dumps(emarked)), 400)["issues"]
    assert issues[0]["path"] == ["items", 0, "emarks"]
    assert side_effects(api) == before
    body = {**sale_body(), "comment": "gift\x00 wrap"}
    created = post(api, "/sales", json.dumps(body))
    assert created.status_code == 200, created.text
    detail = api.client.get(f"/api/v1/sales/{created.json()['saleId']}", headers=api.headers).json()
    assert detail["comment"] == "gift wrap"


def test_a_query_with_nul_or_thousands_of_characters_is_a_400_and_echoes_a_short_prefix_at_most(api: Api) -> None:
    for query in ({"externalId": "A\x00B"}, {"externalId": "x" * 5000}):
        envelope(api.client.get("/api/v1/offers", params=query, headers=api.headers), 400)
    for ref in ("+3749\x001", "a" * 400):
        for path in ("/api/v1/prepayments", "/api/v1/prepayments/balance"):
            envelope(api.client.get(path, params={"customerRef": ref}, headers=api.headers), 400)
    currency = "Q" * 5000
    body = envelope(api.client.get("/api/v1/exchange-rate", params={"currency": currency}, headers=api.headers), 400)
    text = json.dumps(body)
    assert "Q" * 25 not in text and "Q" * 24 in text


# ---- the 5xx that remain ----------------------------------------------------------------------------------


def test_an_unexpected_error_carries_the_request_id(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(SalesService, "sale_detail", broken)
    client = TestClient(api.client.app, raise_server_exceptions=False)
    response = client.get("/api/v1/sales/1", headers={**api.headers, "X-Request-Id": "bug-1"})
    body = envelope(response, 500)
    assert body["requestId"] == "bug-1" and "a bug" not in response.text
    fresh = client.get("/api/v1/sales/1", headers=api.headers)
    assert envelope(fresh, 500)["requestId"] == fresh.headers["X-Request-Id"] != "bug-1"
