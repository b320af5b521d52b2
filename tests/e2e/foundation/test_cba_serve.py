"""A fresh ``openvcr serve`` with the CBA service configured knows today's rate without any manual import."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from openvcr.sales.rates import previous_business_day, yerevan_today
from tests.e2e.server import init_json, openvcr_env, serve
from tests.fake_cba import fake_cba


def test_serve_fetches_the_rates_at_start(tmp_path: Path) -> None:
    published = previous_business_day(yerevan_today())
    with fake_cba(published) as cba:
        database = f"sqlite:///{tmp_path / 'cba.db'}"
        env = openvcr_env(tmp_path / "sandbox", OPENVCR_CBA_URL=cba.url)
        init = init_json(database, env)
        with serve(database, env) as (base, _process):
            deadline = time.monotonic() + 30
            while True:
                answer = httpx.get(
                    f"{base}/api/v1/exchange-rate",
                    params={"currency": "USD"},
                    headers={"X-API-KEY": init["apiKey"]},
                    timeout=10,
                )
                if answer.status_code == 200 or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
        assert answer.status_code == 200, answer.text
        assert answer.json()["rateDate"] == published.isoformat() and answer.json()["ratePerUnit"] == 388.1
        assert ("ExchangeRatesLatest", "") in cba.requests
