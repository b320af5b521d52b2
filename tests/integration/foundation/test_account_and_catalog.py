"""VCR API v1 account and catalog routes: exact shapes, errors as envelopes, and no writes on bad input."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select

from openvcr.store.schema.foundation import cashiers, departments, offers
from tests.integration.foundation.conftest import Api

TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def count(api: Api, table: Any) -> int:
    with api.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def assert_envelope(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body["error"], str) and body["error"]
    assert body["requestId"] == response.headers["x-request-id"]
    return dict(body)


def new_offer(api: Api, **overrides: Any) -> Any:
    body: dict[str, Any] = {
        "type": "product",
        "classifierCode": "0901",
        "title": {"type": "localized", "content": {"hy": "Սուրճ"}, "localizationStrategy": "transliteration"},
        "defaultMeasureUnit": "pc",
        "defaultDepartment": {"id": 1},
        "externalId": "SKU-1",
    }
    body.update(overrides)
    return api.client.post("/api/v1/offers", json=body, headers=api.headers)


def test_whoami_shows_the_activated_sandbox_register(api: Api) -> None:
    response = api.client.get("/api/v1/whoami", headers=api.headers)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"vcrId", "crn", "mode", "tradingPlatformName", "businessEntity"}
    assert body["vcrId"] == api.init.register_id
    assert body["crn"] == api.init.crn and body["crn"]
    assert body["mode"] == "sandbox"
    assert body["businessEntity"] == {"tin": api.init.tin, "name": "«Ավազարկղ» ՍՊԸ"}
    assert response.headers["content-type"] == "application/json; charset=utf-8"


def test_missing_and_unknown_keys_are_401_envelopes(api: Api) -> None:
    assert_envelope(api.client.get("/api/v1/whoami"), 401)
    assert_envelope(api.client.get("/api/v1/whoami", headers={"X-API-KEY": "ovcr_nope"}), 401)
    assert api.client.get("/api/v1/whoami", headers={"x-api-key": api.headers["X-API-KEY"]}).status_code == 200


def test_unknown_route_wrong_method_and_malformed_json_use_the_envelope(api: Api) -> None:
    assert_envelope(api.client.get("/api/v1/nope", headers=api.headers), 404)
    assert_envelope(api.client.put("/api/v1/whoami", headers=api.headers), 405)
    response = api.client.post(
        "/api/v1/offers", content=b"{not json", headers={**api.headers, "content-type": "application/json"}
    )
    body = assert_envelope(response, 400)
    assert body["error"] == "Malformed JSON body"


def test_request_id_is_echoed(api: Api) -> None:
    response = api.client.get("/api/v1/whoami", headers={**api.headers, "X-Request-Id": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"


def test_init_creates_one_department_per_regime_vat_first(api: Api) -> None:
    response = api.client.get("/api/v1/departments", headers=api.headers)
    assert response.status_code == 200
    listed = response.json()
    assert [d["taxRegime"] for d in listed] == ["vat", "vat_exempt", "turnover_tax", "micro_enterprise"]
    first = listed[0]
    assert set(first) == {"internalId", "externalId", "taxRegime", "title"}
    assert first["internalId"] == 1 and first["externalId"] is None
    assert set(first["title"]) == {"hy", "ru", "en"}
    assert first["title"]["hy"]["language"] == "hy" and isinstance(first["title"]["hy"]["id"], int)


def test_department_is_configured_at_the_authority_and_listed(api: Api) -> None:
    response = api.client.post(
        "/api/v1/departments",
        json={
            "externalId": "bar",
            "taxRegime": "vat",
            "title": {"value": {"hy": "Բար"}, "localizationStrategy": "transliteration"},
        },
        headers=api.headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"message", "department"}
    listed = {d["internalId"]: d for d in api.client.get("/api/v1/departments", headers=api.headers).json()}
    created = listed[body["department"]]
    assert created["externalId"] == "bar"
    assert created["title"]["ru"]["content"] == "Бар" and created["title"]["en"]["content"] == "Bar"


def test_duplicate_department_external_id_is_409_and_writes_nothing(api: Api) -> None:
    body = {
        "externalId": "x",
        "taxRegime": "vat",
        "title": {"value": {"hy": "Ա"}, "localizationStrategy": "translation"},
    }
    assert api.client.post("/api/v1/departments", json=body, headers=api.headers).status_code == 200
    before = count(api, departments)
    assert_envelope(api.client.post("/api/v1/departments", json=body, headers=api.headers), 409)
    assert count(api, departments) == before


def test_cashier_is_created_with_a_hashed_pin_and_listed(api: Api) -> None:
    response = api.client.post(
        "/api/v1/cashiers",
        json={"name": {"value": {"hy": "Արամ"}, "localizationStrategy": "transliteration"}, "password": "1234"},
        headers=api.headers,
    )
    assert response.status_code == 200, response.text
    created = response.json()
    assert set(created) == {"id", "deskId"} and len(created["deskId"]) == 22
    listed = {c["internalId"]: c for c in api.client.get("/api/v1/cashiers", headers=api.headers).json()}
    cashier = listed[created["id"]]
    assert cashier == {
        "deskId": created["deskId"],
        "internalId": created["id"],
        "name": {
            "hy": {"language": "hy", "content": "Արամ"},
            "ru": {"language": "ru", "content": "Арам"},
            "en": {"language": "en", "content": "Aram"},
        },
    }
    with api.db.read() as conn:
        stored = conn.execute(select(cashiers.c.pin_hash).where(cashiers.c.id == created["id"])).scalar_one()
    assert "1234" not in stored


def test_cashier_with_a_two_digit_pin_is_400_naming_password_and_writes_nothing(api: Api) -> None:
    before = count(api, cashiers)
    response = api.client.post(
        "/api/v1/cashiers",
        json={"name": {"value": {"hy": "Արամ"}, "localizationStrategy": "translation"}, "password": "12"},
        headers=api.headers,
    )
    body = assert_envelope(response, 400)
    assert any(issue["path"] == ["password"] for issue in body["issues"])
    assert count(api, cashiers) == before


def test_offer_round_trip_with_entry_list_titles(api: Api) -> None:
    created = new_offer(api)
    assert created.status_code == 200, created.text
    offer_id = created.json()["offerId"]
    item = api.client.get(f"/api/v1/offers/{offer_id}", headers=api.headers).json()
    assert set(item) == {
        "id", "externalId", "type", "classifierCode", "defaultMeasureUnit", "defaultDepartment", "title",
        "archivedAt", "createdAt",
    }  # fmt: skip
    assert item["defaultDepartment"] == {"internalId": 1}
    assert [(t["language"], t["content"]) for t in item["title"]] == [("hy", "Սուրճ"), ("ru", "Сурч"), ("en", "Surch")]
    assert TS.match(item["createdAt"]) and item["archivedAt"] is None


def test_offer_legacy_and_universal_titles_are_accepted(api: Api) -> None:
    legacy = new_offer(
        api, externalId="L", title={"value": {"hy": "Թեյ", "en": "Tea"}, "localizationStrategy": "translation"}
    )
    assert legacy.status_code == 200, legacy.text
    universal = new_offer(api, externalId="U", title={"type": "universal", "content": "Coca-Cola"})
    item = api.client.get(f"/api/v1/offers/{universal.json()['offerId']}", headers=api.headers).json()
    assert [(t["language"], t["content"]) for t in item["title"]] == [("multi", "Coca-Cola")]
    tea = api.client.get(f"/api/v1/offers/{legacy.json()['offerId']}", headers=api.headers).json()
    assert {t["language"]: t["content"] for t in tea["title"]}["en"] == "Tea"


def test_duplicate_offer_external_id_is_409_and_writes_nothing(api: Api) -> None:
    assert new_offer(api).status_code == 200
    before = count(api, offers)
    assert_envelope(new_offer(api), 409)
    assert count(api, offers) == before


def test_offer_with_unknown_department_or_unit_is_400_and_writes_nothing(api: Api) -> None:
    body = assert_envelope(new_offer(api, defaultDepartment={"id": 999}), 400)
    assert body["issues"][0]["path"] == ["defaultDepartment", "id"]
    body = assert_envelope(new_offer(api, defaultMeasureUnit="parsec"), 400)
    assert body["issues"][0]["path"] == ["defaultMeasureUnit"]
    assert count(api, offers) == 0


def test_unknown_offer_is_404(api: Api) -> None:
    assert_envelope(api.client.get("/api/v1/offers/424242", headers=api.headers), 404)
    patch = {"title": {"type": "universal", "content": "X"}}
    assert_envelope(api.client.patch("/api/v1/offers/424242", json=patch, headers=api.headers), 404)


def test_offer_filters_patch_and_archive(api: Api) -> None:
    first = new_offer(api).json()["offerId"]
    new_offer(api, externalId="S-1", type="service", classifierCode="56.10", defaultMeasureUnit="sess")
    by_type = api.client.get("/api/v1/offers", params={"type": "service"}, headers=api.headers).json()
    assert [o["externalId"] for o in by_type] == ["S-1"]
    by_ext = api.client.get("/api/v1/offers", params={"externalId": "SKU-1"}, headers=api.headers).json()
    assert [o["id"] for o in by_ext] == [first]
    patched = api.client.patch(
        f"/api/v1/offers/{first}", json={"title": {"type": "universal", "content": "Espresso"}}, headers=api.headers
    )
    assert patched.status_code == 200 and patched.json()["title"][0]["content"] == "Espresso"
    assert api.client.delete(f"/api/v1/offers/{first}", headers=api.headers).status_code == 200
    assert [o["externalId"] for o in api.client.get("/api/v1/offers", headers=api.headers).json()] == ["S-1"]
    everything = api.client.get("/api/v1/offers", params={"includeArchived": "true"}, headers=api.headers).json()
    assert len(everything) == 2 and TS.match(everything[0]["archivedAt"])


def test_title_longer_than_50_characters_is_400(api: Api) -> None:
    assert_envelope(new_offer(api, title={"type": "universal", "content": "x" * 51}), 400)
    assert count(api, offers) == 0


def test_classifier_search_finds_coffee_in_english_and_armenian(api: Api) -> None:
    for query, language in (("coffee", "en"), ("սուրճ", "hy")):
        response = api.client.get(
            "/api/v1/searchByClassifier",
            params={"query": query, "type": "product", "language": language},
            headers=api.headers,
        )
        assert response.status_code == 200
        assert response.json()[0]["code"] == "0901"


def test_openapi_and_docs_are_served(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    assert "/api/v1/offers" in spec["paths"]
    assert api.client.get("/docs").status_code == 200


def test_metrics_count_requests(api: Api) -> None:
    api.client.get("/api/v1/whoami", headers=api.headers)
    text = api.client.get("/metrics").text
    assert 'openvcr_http_requests_total{method="GET",route="/api/v1/whoami",status="200"}' in text
