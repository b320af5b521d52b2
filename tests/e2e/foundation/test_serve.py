"""The issue's acceptance, against a real `openvcr serve` process over HTTP."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from tests.e2e.server import init_json, openvcr_env, run_cli, serve


def test_init_then_serve_answers_the_contract(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'x.db'}"
    env = openvcr_env(tmp_path / "sandbox")
    init = init_json(database, env)
    assert init["apiKey"].startswith("ovcr_") and init["crn"] and isinstance(init["vcrId"], int)
    again = init_json(database, env)
    assert again["created"] is False and again["apiKey"] is None and again["vcrId"] == init["vcrId"]

    with serve(database, env) as (base, _process):
        key = {"X-API-KEY": init["apiKey"]}
        with httpx.Client(base_url=base, timeout=10) as http:
            who = http.get("/api/v1/whoami", headers=key)
            assert who.status_code == 200
            assert who.json()["crn"] == init["crn"]
            assert http.get("/api/v1/whoami").status_code == 401
            assert http.get("/api/v1/whoami", headers={"X-API-KEY": "ovcr_unknown"}).status_code == 401
            assert http.get("/api/v1/offers/99999", headers=key).status_code == 404
            pin = http.post(
                "/api/v1/cashiers",
                json={"name": {"value": {"hy": "Արամ"}, "localizationStrategy": "transliteration"}, "password": "12"},
                headers=key,
            )
            assert pin.status_code == 400
            assert ["password"] in [issue["path"] for issue in pin.json()["issues"]]
            offer = {
                "type": "product",
                "classifierCode": "0901",
                "title": {"type": "universal", "content": "Coffee"},
                "defaultMeasureUnit": "pc",
                "defaultDepartment": {"id": 1},
                "externalId": "SKU-100",
            }
            assert http.post("/api/v1/offers", json=offer, headers=key).status_code == 200
            assert http.post("/api/v1/offers", json=offer, headers=key).status_code == 409
            assert http.get("/openapi.json").status_code == 200


def test_serve_on_an_empty_database_prints_a_working_key(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'fresh.db'}"
    env = openvcr_env(tmp_path / "sandbox")
    with serve(database, env) as (base, _process):
        log = (tmp_path / f"serve-{base.rsplit(':', 1)[1]}.log").read_text()
        match = re.search(r"(ovcr_[A-Za-z0-9_-]{43})", log)
        assert match, log
        assert httpx.get(f"{base}/api/v1/whoami", headers={"X-API-KEY": match.group(1)}).status_code == 200
        link = re.search(r"one-time login link .*?: (http://\S+/console/login/\S+)", log)
        assert link, log  # the first console owner's link, beside the key
        with httpx.Client() as browser:
            form = browser.get(link.group(1))
            csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
            assert csrf
            signed = browser.post(link.group(1), data={"csrf": csrf.group(1)}, follow_redirects=True)
            assert signed.status_code == 200 and str(signed.url).endswith("/console/overview")
        with httpx.Client() as late:
            form = late.get(link.group(1))
            csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
            assert csrf
            assert late.post(link.group(1), data={"csrf": csrf.group(1)}).status_code == 401  # used once


def test_keys_cli_create_list_rotate_revoke(tmp_path: Path) -> None:
    import json

    database = f"sqlite:///{tmp_path / 'k.db'}"
    env = openvcr_env(tmp_path / "sandbox")
    init_json(database, env)
    created = run_cli(["keys", "create", "--database", database, "--scope", "account:read", "--json"], env)
    assert created.returncode == 0, created.stderr
    key = json.loads(created.stdout)
    assert key["scopes"] == ["account:read"] and key["key"].startswith("ovcr_")
    listed = json.loads(run_cli(["keys", "list", "--database", database, "--json"], env).stdout)
    assert [k["id"] for k in listed] == [1, key["id"]]
    assert all("key" not in k for k in listed)
    rotated = json.loads(run_cli(["keys", "rotate", str(key["id"]), "--database", database, "--json"], env).stdout)
    assert rotated["replaces"] == key["id"] and rotated["scopes"] == ["account:read"]
    revoked = run_cli(["keys", "revoke", str(rotated["id"]), "--database", database, "--json"], env)
    assert json.loads(revoked.stdout) == {"id": rotated["id"], "revoked": True}
    bad = run_cli(["keys", "create", "--database", database, "--scope", "nope"], env)
    assert bad.returncode != 0
