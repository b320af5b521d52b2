"""The CBA rate feed against a local HTTP server that answers like the CBA service: the client, retries, the
schedule, ``openvcr rates fetch``, the staleness limit, and ``rates set`` without ``--date``."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import func, select
from typer.testing import CliRunner

from openvcr.api.app import maintenance_pass
from openvcr.cli import app as cli
from openvcr.config import Settings
from openvcr.core.errors import ValidationFailed
from openvcr.sales.cba import DEFAULT_CBA_URL, CbaClient, CbaError, RateFeed, cba_url
from openvcr.sales.rates import (
    RateRow,
    business_days_after,
    previous_business_day,
    quote,
    store_rates,
    yerevan_today,
)
from openvcr.store.db import Database
from openvcr.store.schema.sales import exchange_rates, sales
from tests.fake_cba import fake_cba
from tests.integration.foundation.conftest import Api
from tests.integration.prepayments.helpers import post_sale, sale_body

FRIDAY = date(2026, 11, 20)


def _rates(db: Database) -> list[tuple[str, str, Decimal]]:
    with db.read() as conn:
        found = conn.execute(
            select(exchange_rates.c.currency, exchange_rates.c.rate_date, exchange_rates.c.rate).order_by(
                exchange_rates.c.rate_date, exchange_rates.c.currency
            )
        ).all()
    return [(c, d, Decimal(r)) for c, d, r in found]


def test_the_client_reads_both_operations_over_soap() -> None:
    with fake_cba(FRIDAY) as cba:
        client = CbaClient(cba.url)
        latest = client.latest()
        by_date = client.by_date(date(2026, 11, 19))
        client.close()
    assert {(row.currency, row.rate_date, row.rate) for row in latest.rows} == {
        ("USD", FRIDAY, Decimal("388.1")),
        ("GBP", FRIDAY, Decimal("491.22")),
    }
    assert {row.rate_date for row in by_date.rows} == {date(2026, 11, 19)}
    assert by_date.skipped == ("XDR",)
    assert cba.requests == [("ExchangeRatesLatest", ""), ("ExchangeRatesByDate", "2026-11-19T00:00:00")]


def test_a_5xx_or_a_refused_connection_is_tried_again_and_a_4xx_is_not() -> None:
    waits: list[float] = []
    with fake_cba(FRIDAY) as cba:
        cba.fail_next = 2
        client = CbaClient(cba.url, sleep=waits.append)
        assert len(client.latest().rows) == 2
        assert len(cba.requests) == 3 and waits == [1.0, 2.0]
        cba.fail_next, cba.fail_status = 5, 400
        with pytest.raises(CbaError, match="HTTP 400"):
            client.latest()
        assert len(cba.requests) == 4  # no second try
        cba.fail_next, cba.fail_status = 5, 503
        with pytest.raises(CbaError, match="HTTP 503"):
            client.latest()
        assert len(cba.requests) == 7  # three tries
        client.close()
        url = cba.url
    refused = CbaClient(url, sleep=waits.append, timeout_seconds=2)  # the server is gone: connection refused
    with pytest.raises(CbaError, match="did not answer ExchangeRatesLatest: Connect"):
        refused.latest()
    refused.close()


def test_an_answer_that_is_not_a_publication_is_an_error_and_stores_nothing(database: Database) -> None:
    def transport(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"<html>maintenance</html>")

    feed = RateFeed(database, CbaClient("http://cba.invalid/", transport=httpx.MockTransport(transport)))
    assert feed.run_due() is True
    assert feed.last_error is not None and "does not parse" in feed.last_error
    assert _rates(database) == []


def test_the_feed_fetches_at_once_then_every_interval_on_business_days_and_soon_after_a_failure(
    database: Database,
) -> None:
    monday_noon = datetime(2026, 11, 23, 8, 0, tzinfo=UTC).timestamp()  # 12:00 in Yerevan
    now = [monday_noon]
    with fake_cba(FRIDAY) as cba:
        feed = RateFeed(database, CbaClient(cba.url, sleep=lambda _s: None), interval_hours=4, clock=lambda: now[0])
        assert feed.run_due() is True and feed.last_date == FRIDAY.isoformat() and feed.last_error is None
        assert [r[:2] for r in _rates(database)] == [("GBP", "2026-11-20"), ("USD", "2026-11-20")]
        now[0] += 3 * 3600
        assert feed.run_due() is False  # not due yet
        now[0] += 3600
        cba.fail_next = 3
        assert feed.run_due() is True and "HTTP 503" in (feed.last_error or "")
        now[0] += 200
        assert feed.run_due() is False  # a failure is tried again after 5 minutes, not sooner
        now[0] += 100
        cba.publication = date(2026, 11, 23)
        assert feed.run_due() is True and feed.last_error is None and feed.last_date == "2026-11-23"
        saturday = datetime(2026, 11, 28, 8, 0, tzinfo=UTC).timestamp()
        now[0] = saturday
        calls = len(cba.requests)
        assert feed.run_due() is False and len(cba.requests) == calls  # nothing is published on weekends
        feed.close()


def test_where_the_feed_points() -> None:
    assert cba_url(Settings()) is None  # development: off unless configured
    assert cba_url(Settings(cba_url="http://127.0.0.1:9/cba")) == "http://127.0.0.1:9/cba"
    secret = SecretStr("x" * 40)
    assert cba_url(Settings(environment="production", master_key=secret)) == DEFAULT_CBA_URL
    assert cba_url(Settings(environment="production", master_key=secret, cba_url=" OFF ")) is None


def test_the_maintenance_pass_fetches_when_configured(api: Api) -> None:
    ctx = api.client.app.state.ctx
    assert ctx.rate_feed is None  # not configured in tests
    with fake_cba(previous_business_day(yerevan_today())) as cba:
        ctx.rate_feed = RateFeed(api.db, CbaClient(cba.url))
        try:
            maintenance_pass(ctx)
            answer = api.client.get("/api/v1/exchange-rate", params={"currency": "USD"}, headers=api.headers)
        finally:
            ctx.rate_feed.close()
            ctx.rate_feed = None
    assert answer.status_code == 200, answer.text
    assert answer.json()["ratePerUnit"] == 388.1
    assert answer.json()["rateDate"] == previous_business_day(yerevan_today()).isoformat()


def test_cli_fetch_latest_and_by_date(database: Database, db_url: str) -> None:
    runner = CliRunner()
    with fake_cba(FRIDAY) as cba:
        result = runner.invoke(cli, ["rates", "fetch", "--url", cba.url, "--database", db_url, "--json"])
        assert result.exit_code == 0, result.output
        assert '"imported": 2' in result.output and '"dates": ["2026-11-20"]' in result.output
        result = runner.invoke(cli, ["rates", "fetch", "--url", cba.url, "--date", "2026-11-19", "--database", db_url])
        assert result.exit_code == 0, result.output
        assert "Fetched 4 rate(s) for 2026-11-19" in result.output
    assert len(_rates(database)) == 6


@pytest.mark.parametrize("args", [["--date", "yesterday"], ["--url", "http://127.0.0.1:9/nothing-listens-here"]])
def test_cli_fetch_that_fails_says_why_and_writes_nothing(database: Database, db_url: str, args: list[str]) -> None:
    result = CliRunner().invoke(cli, ["rates", "fetch", *args, "--database", db_url])
    assert result.exit_code == 1
    assert "yesterday" in result.output or "did not answer" in result.output
    assert _rates(database) == []


def test_cli_set_defaults_to_the_previous_business_day(database: Database, db_url: str) -> None:
    result = CliRunner().invoke(cli, ["rates", "set", "USD", "387.50", "--database", db_url, "--json"])
    assert result.exit_code == 0, result.output
    expected = previous_business_day(yerevan_today())
    assert expected.weekday() < 5 and expected < yerevan_today()
    assert _rates(database) == [("USD", expected.isoformat(), Decimal("387.5"))]


@pytest.mark.parametrize(
    ("start", "end", "age"),
    [
        (FRIDAY, date(2026, 11, 21), 0),  # Saturday
        (FRIDAY, date(2026, 11, 23), 1),  # Monday
        (FRIDAY, date(2026, 11, 24), 2),
        (FRIDAY, date(2026, 11, 25), 3),
        (FRIDAY, date(2026, 12, 4), 10),
        (date(2026, 11, 18), date(2026, 11, 20), 2),
        (FRIDAY, FRIDAY, 0),
    ],
)
def test_age_in_business_days(start: date, end: date, age: int) -> None:
    assert business_days_after(start, end) == age
    brute = sum(1 for n in range(1, (end - start).days + 1) if (start + timedelta(days=n)).weekday() < 5)
    assert brute == age


def test_a_rate_older_than_the_limit_is_refused_naming_its_age(database: Database) -> None:
    with database.write() as conn:
        store_rates(conn, [RateRow("USD", FRIDAY, 1, Decimal("387.5"))])
    with database.read() as conn:
        assert quote(conn, "USD", today=date(2026, 11, 24), max_age_days=2).rate_date == "2026-11-20"
        with pytest.raises(ValidationFailed) as caught:
            quote(conn, "USD", today=date(2026, 11, 25), max_age_days=2)
        assert quote(conn, "USD", today=date(2026, 12, 25), max_age_days=0).rate_date == "2026-11-20"  # no limit
    assert caught.value.message == (
        "the newest CBA rate for USD is of 2026-11-20, 3 business days old (the limit is 2): the rates are not current"
    )
    assert caught.value.issues[0].code == "stale_rate"


def _count_sales(api: Api) -> Any:
    with api.db.read() as conn:
        return conn.execute(select(func.count()).select_from(sales)).scalar_one()


def test_a_stale_rate_refuses_the_rate_and_the_sale_and_writes_nothing(api: Api) -> None:
    old = yerevan_today() - timedelta(days=10)  # at least 6 business days old
    with api.db.write() as conn:
        store_rates(conn, [RateRow("USD", old, 1, Decimal("387.5"))])
    answer = api.client.get("/api/v1/exchange-rate", params={"currency": "USD"}, headers=api.headers)
    assert answer.status_code == 400
    assert "business days old (the limit is 2)" in answer.json()["error"]
    assert answer.json()["issues"][0]["path"] == ["currency"]
    before = _count_sales(api)
    body = sale_body()
    body["items"][0]["currency"] = "USD"
    sale = post_sale(api, body)
    assert sale.status_code == 400, sale.text
    assert sale.json()["issues"][0]["code"] == "stale_rate"
    assert _count_sales(api) == before
