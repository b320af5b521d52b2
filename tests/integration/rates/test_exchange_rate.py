"""GET /exchange-rate, foreign-currency sales at that rate, and ``openvcr rates import|set|show``."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from openvcr.cli import app as cli
from openvcr.core.errors import ValidationFailed
from openvcr.sales.rates import RateRow, quote, store_rates, yerevan_today
from openvcr.store.db import Database
from openvcr.store.schema.sales import exchange_rates, sales
from tests.integration.foundation.conftest import Api
from tests.integration.prepayments.helpers import count, post_sale, sale_body

DATA = Path(__file__).parents[2] / "data"


def put(db: Database, *rows: tuple[str, date, int, str]) -> None:
    with db.write() as conn:
        store_rates(conn, [RateRow(c, d, a, Decimal(r)) for c, d, a, r in rows])


def rate(api: Api, currency: str | None) -> Any:
    params = {} if currency is None else {"currency": currency}
    return api.client.get("/api/v1/exchange-rate", params=params, headers=api.headers)


def test_rate_is_the_previous_publication_not_todays(api: Api) -> None:
    today = yerevan_today()
    put(api.db, ("USD", today - timedelta(days=1), 1, "387.5"), ("USD", today, 1, "390"))
    put(api.db, ("USD", today - timedelta(days=9), 1, "380"))
    response = rate(api, "usd")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "currency": "USD",
        "ratePerUnit": 387.5,
        "amount": 1,
        "rateDate": (today - timedelta(days=1)).isoformat(),
        "saleDate": today.isoformat(),
        "ruleVersion": "HO-234-N",
        "source": "CBA",
    }


def test_rate_per_unit_divides_by_the_quoted_amount(api: Api) -> None:
    put(api.db, ("JPY", yerevan_today() - timedelta(days=2), 100, "251.07"))
    body = rate(api, "JPY").json()
    assert body["amount"] == 100 and body["ratePerUnit"] == 2.5107


def test_a_rate_per_unit_beyond_6_decimals_is_rounded_half_up_and_the_sale_records_the_rate_it_priced_with(
    api: Api,
) -> None:
    put(api.db, ("JPY", yerevan_today() - timedelta(days=1), 1000, "251.0715"))
    assert rate(api, "JPY").json()["ratePerUnit"] == 0.251072  # 0.2510715 half-up
    body = sale_body("1000")
    body["items"][0]["currency"] = "JPY"
    body["amount"] = {"cash": "300"}
    response = post_sale(api, body)
    assert response.status_code == 200, response.text
    with api.db.read() as conn:
        recorded = conn.execute(select(sales.c.exchange_rate).where(sales.c.id == response.json()["saleId"]))
        assert recorded.scalar_one() == Decimal("0.251072")
    detail = api.client.get(f"/api/v1/sales/{response.json()['saleId']}", headers=api.headers).json()
    assert detail["items"][0]["price"] == 251.07  # 1000 × 0.251072 = 251.072


def test_weekend_and_holiday_sales_fall_back_to_the_last_publication(database: Database) -> None:
    friday, monday = date(2026, 11, 20), date(2026, 11, 23)
    put(database, ("USD", date(2026, 11, 19), 1, "387.92"), ("USD", friday, 1, "387.50"), ("USD", monday, 1, "388"))
    with database.read() as conn:
        for day in (date(2026, 11, 21), date(2026, 11, 22), monday):  # Saturday, Sunday, Monday
            found = quote(conn, "USD", today=day)
            assert (found.rate_date, found.rate_per_unit, found.sale_date) == (
                friday.isoformat(),
                Decimal("387.50"),
                day.isoformat(),
            )
        assert quote(conn, "USD", today=date(2026, 11, 24)).rate_date == monday.isoformat()
        with pytest.raises(ValidationFailed) as caught:
            quote(conn, "USD", today=date(2026, 11, 19))
    assert "no CBA rate for USD before 2026-11-19" in caught.value.message


@pytest.mark.parametrize(
    ("currency", "message"),
    [("AMD", "local currency"), ("XYZ", "not a currency"), ("EUR", "no CBA rate for EUR"), (None, "required")],
)
def test_amd_unknown_missing_or_unrated_currency_is_a_400_envelope(
    api: Api, currency: str | None, message: str
) -> None:
    put(api.db, ("USD", yerevan_today() - timedelta(days=1), 1, "387.5"))
    response = rate(api, currency)
    assert response.status_code == 400, response.text
    body = response.json()
    assert message in body["error"] and body["issues"][0]["path"] == ["currency"]


def test_exchange_rate_needs_a_key(api: Api) -> None:
    assert api.client.get("/api/v1/exchange-rate?currency=USD").status_code == 401


def test_a_usd_sale_is_converted_at_the_rate_per_unit_price(api: Api) -> None:
    put(api.db, ("USD", yerevan_today() - timedelta(days=1), 1, "387.5"))
    body = sale_body("10.99")
    body["items"][0]["currency"] = "USD"
    body["amount"] = {"cash": "5000"}
    response = post_sale(api, body)
    assert response.status_code == 200, response.text
    detail = api.client.get(f"/api/v1/sales/{response.json()['saleId']}", headers=api.headers).json()
    assert detail["items"][0]["price"] == 4258.63  # 10.99 × 387.5 = 4258.625 → half-up
    assert detail["receipt"]["total"] == 4258.63 and detail["receipt"]["change"] == 741.37
    with api.db.read() as conn:
        assert conn.execute(select(sales.c.currency, sales.c.exchange_rate)).one() == ("USD", Decimal("387.5"))


def test_a_sale_in_a_currency_without_rate_is_400_and_writes_nothing(api: Api) -> None:
    body = sale_body("10")
    body["items"][0]["currency"] = "EUR"
    response = post_sale(api, body)
    assert response.status_code == 400
    assert response.json()["issues"][0]["path"] == ["items", 0, "currency"]
    assert count(api, sales) == 0


# ---- CLI -------------------------------------------------------------------------------------------------


def rows(db: Database) -> list[tuple[str, str, int, Decimal]]:
    with db.read() as conn:
        found = conn.execute(
            select(
                exchange_rates.c.currency, exchange_rates.c.rate_date, exchange_rates.c.amount, exchange_rates.c.rate
            ).order_by(exchange_rates.c.rate_date, exchange_rates.c.currency)
        ).all()
    return [(c, d, a, Decimal(r)) for c, d, a, r in found]


def test_cli_imports_a_cba_answer_and_a_csv_replacing_rates_of_the_same_date(database: Database, db_url: str) -> None:
    runner = CliRunner()
    result = runner.invoke(
        cli, ["rates", "import", str(DATA / "cba_exchange_rates_by_date.xml"), "--database", db_url, "--json"]
    )
    assert result.exit_code == 0, result.output
    assert '"imported": 4' in result.output and '"skipped": ["XDR"]' in result.output
    assert ("USD", "2026-11-20", 1, Decimal("387.5")) in rows(database)
    result = runner.invoke(cli, ["rates", "import", str(DATA / "cba_rates.csv"), "--database", db_url])
    assert result.exit_code == 0, result.output
    found = rows(database)
    assert len(found) == 6  # 4 from the XML + USD/EUR of the 19th; JPY and USD of the 20th replaced
    assert ("EUR", "2026-11-19", 1, Decimal("410.05")) in found


def test_cli_set_then_show(database: Database, db_url: str) -> None:
    runner = CliRunner()
    yesterday = (yerevan_today() - timedelta(days=1)).isoformat()
    result = runner.invoke(cli, ["rates", "set", "USD", "387.50", "--date", yesterday, "--database", db_url])
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        cli, ["rates", "set", "JPY", "251.07", "--date", yesterday, "--amount", "100", "--database", db_url]
    )
    assert result.exit_code == 0, result.output
    assert rows(database) == [("JPY", yesterday, 100, Decimal("251.07")), ("USD", yesterday, 1, Decimal("387.5"))]
    result = runner.invoke(cli, ["rates", "show", "JPY", "--database", db_url, "--json"])
    assert result.exit_code == 0, result.output
    assert '"ratePerUnit": "2.5107"' in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["rates", "set", "AMD", "1", "--date", "2026-11-20"],
        ["rates", "set", "USD", "0", "--date", "2026-11-20"],
        ["rates", "set", "USD", "387.5", "--date", "yesterday"],
        ["rates", "import", "missing-file.xml"],
        ["rates", "show", "USD"],
    ],
)
def test_cli_refuses_bad_input_and_writes_nothing(database: Database, db_url: str, args: list[str]) -> None:
    result = CliRunner().invoke(cli, [*args, "--database", db_url])
    assert result.exit_code == 1, result.output
    assert rows(database) == []


def test_cli_refuses_a_file_with_one_bad_line_as_a_whole(database: Database, db_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "rates.csv"
    bad.write_text("date,currency,amount,rate\n2026-11-20,USD,1,387.5\n2026-11-20,EUR,1,oops\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["rates", "import", str(bad), "--database", db_url])
    assert result.exit_code == 1
    assert "line 3" in result.output
    assert rows(database) == []
