"""Exchange rates of the Central Bank of Armenia (CBA), for foreign-currency sales.

Rules:
- A sale uses the CBA rate of the previous business day in Yerevan time: the newest published rate dated
  strictly before the sale's date (the CBA publishes on business days, so weekends and holidays fall back to
  the last publication). ``ratePerUnit`` = rate ÷ amount (the CBA quotes e.g. JPY per 100 units).
- ``AMD`` or a code that is not an ISO 4217 currency the CBA publishes → 400; no rate on file → 400 naming
  the currency (the operator imports rates with ``openvcr rates import`` / ``openvcr rates set``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select

from openvcr.core.errors import Issue, ValidationFailed
from openvcr.store.schema.sales import exchange_rates

YEREVAN = ZoneInfo("Asia/Yerevan")
RULE_VERSION = "HO-234-N"

CBA_CURRENCIES = frozenset(
    [
        "USD",
        "EUR",
        "RUB",
        "GBP",
        "CHF",
        "JPY",
        "CNY",
        "CAD",
        "AUD",
        "SEK",
        "NOK",
        "DKK",
        "PLN",
        "CZK",
        "HUF",
        "RON",
        "BGN",
        "TRY",
        "UAH",
        "BYN",
        "KZT",
        "KGS",
        "UZS",
        "TJS",
        "TMT",
        "AZN",
        "GEL",
        "IRR",
        "AED",
        "SAR",
        "KWD",
        "QAR",
        "EGP",
        "INR",
        "ISK",
        "SGD",
        "HKD",
        "KRW",
        "ARS",
        "BRL",
        "MXN",
        "LBP",
        "LVL",
        "LTL",
        "EEK",
    ]
)


@dataclass(frozen=True)
class RateQuote:
    currency: str
    rate_per_unit: Decimal
    amount: int
    rate_date: str
    sale_date: str


def yerevan_today() -> date:
    return datetime.now(YEREVAN).date()


def _bad(path: Sequence[str | int], message: str) -> ValidationFailed:
    return ValidationFailed(message, [Issue(tuple(path), message, "invalid_currency")])


def quote(
    conn: Connection, currency: str, path: Sequence[str | int] = ("currency",), today: date | None = None
) -> RateQuote:
    code = currency.upper()
    if code == "AMD":
        raise _bad(path, "AMD is the local currency: it has no exchange rate")
    if code not in CBA_CURRENCIES:
        raise _bad(path, f"{currency!r} is not a currency the Central Bank of Armenia quotes")
    sale_date = today or yerevan_today()
    row = conn.execute(
        select(exchange_rates)
        .where(exchange_rates.c.currency == code, exchange_rates.c.rate_date < sale_date.isoformat())
        .order_by(exchange_rates.c.rate_date.desc())
        .limit(1)
    ).first()
    if row is None:
        raise _bad(path, f"no CBA rate for {code} before {sale_date.isoformat()}")
    amount = int(row.amount)
    rate = Decimal(row.rate)
    return RateQuote(code, rate / amount, amount, row.rate_date, sale_date.isoformat())


def rate_for_sale(conn: Connection, currency: str, path: Sequence[str | int]) -> Decimal:
    """AMD per one unit of ``currency`` for a sale today."""
    return quote(conn, currency, path).rate_per_unit
