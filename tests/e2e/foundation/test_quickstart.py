"""The public API's quick start, copied from its page, against a fresh install: only the base URL and the key
change. ``init --no-demo`` and production registers get no demo catalogue."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.e2e.server import init_json, openvcr_env, run_cli, serve

# The quick start's request body, byte for byte as the seed page prints it.
QUICK_START = """{
    "cashier": { "id": 1 },
    "items": [{
      "offer": { "externalId": "SKU-001" },
      "department": { "id": 1 },
      "quantity": 1,
      "price": 20000,
      "unit": "pc"
    }],
    "amount": { "nonCash": 20000 },
    "buyer": {
      "type": "individual",
      "receipt": { "email": "buyer@example.com", "language": "en" }
    }
  }"""


def test_the_quick_start_works_unchanged_on_a_fresh_install(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'q.db'}"
    env = openvcr_env(tmp_path / "sandbox")
    init = init_json(database, env)
    assert init["demoOffers"] == ["SKU-001", "SKU-002"]
    with serve(database, env) as (base, _process):
        headers = {"X-API-KEY": init["apiKey"], "Content-Type": "application/json"}
        with httpx.Client(base_url=f"{base}/api/v1", timeout=30) as http:
            sale = http.post("/sales", content=QUICK_START, headers=headers)
            assert sale.status_code == 200, sale.text
            body = sale.json()
            assert body["crn"] == init["crn"] and body["saleId"] > 0 and body["urlId"]
            detail = http.get(f"/sales/{body['saleId']}", headers=headers).json()
            assert body["receiptUrl"] == f"{base}/en/r/{init['crn']}/{body['urlId']}"
            page = httpx.get(body["receiptUrl"], timeout=10)
    assert float(detail["nonCashAmount"]) == 20000 and float(detail["cashAmount"]) == 0
    assert page.status_code == 200 and "Wireless mouse" in page.text


def test_no_demo_and_a_second_init_seed_nothing(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'n.db'}"
    env = openvcr_env(tmp_path / "sandbox")
    done = run_cli(["init", "--database", database, "--json", "--no-demo"], env)
    assert done.returncode == 0, done.stderr
    init = json.loads(done.stdout)
    assert init["demoOffers"] == []
    assert init_json(database, env)["demoOffers"] == []  # an existing register is never seeded afterwards
    with serve(database, env) as (base, _process):
        headers = {"X-API-KEY": init["apiKey"], "Content-Type": "application/json"}
        sale = httpx.post(f"{base}/api/v1/sales", content=QUICK_START, headers=headers, timeout=30)
    assert sale.status_code == 400
    assert "SKU-001" in sale.json()["error"] or "SKU-001" in json.dumps(sale.json()["issues"])
