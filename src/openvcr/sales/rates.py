"""Exchange rates of the Central Bank of Armenia (CBA), for foreign-currency sales.

Rules:
- A sale uses the CBA rate of the previous business day in Yerevan time: the newest published rate dated
  strictly before the sale's date (the CBA publishes on business days, so weekends and holidays fall back to
  the last publication). ``ratePerUnit`` = rate ÷ amount (the CBA quotes e.g. JPY per 100 units), rounded
  half-up to 6 decimals (``PER_UNIT_DECIMALS``, exact for amounts of 1, 10 and 100): the rate a sale prices
  with is the rate it records (``sales.exchange_rate`` holds exactly 6 decimals).
- ``AMD`` or a code that is not an ISO 4217 currency the CBA publishes → 400; no rate on file → 400 naming
  the currency (the operator imports rates with ``openvcr rates import`` / ``openvcr rates set``).
- Rates on file: one per (currency, publication date); importing a date again replaces its rate (the CBA
  corrects a publication by republishing it). A rate is > 0 with at most 4 decimals, for ``amount`` ≥ 1
  whole units. ``rate_date`` is the CBA's publication date.
- Files ``openvcr rates import`` reads (the format is recognized from the content):
  - the XML the CBA web service returns for ``ExchangeRatesByDate`` / ``ExchangeRatesLatest``
    (``https://api.cba.am/exchangerates.asmx``), with or without its SOAP envelope: the publication date is
    ``CurrentDate``, each ``Rates/ExchangeRate`` gives ``ISO``, ``Amount`` and ``Rate``; codes the CBA
    publishes but OpenVCR does not sell in (e.g. ``XDR``) are skipped and reported;
  - CSV with the header ``date,currency,amount,rate`` (``YYYY-MM-DD``; ``amount`` may be empty: 1).
  A file with any malformed rate is refused as a whole, naming the line or element; nothing is written.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from xml.etree.ElementTree import Element
from zoneinfo import ZoneInfo

from defusedxml import ElementTree as SafeXml
from sqlalchemy import Connection, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from openvcr.core.errors import Issue, ValidationFailed, excerpt
from openvcr.store.db import now_ms
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


def business_days_after(start: date, end: date) -> int:
    """Monday-to-Friday days ``d`` with ``start < d ≤ end``: how many business days old a rate of ``start`` is
    on ``end`` (public holidays count as business days)."""
    if end <= start:
        return 0
    days = (end - start).days
    weeks, rest = divmod(days, 7)
    count = weeks * 5
    for offset in range(1, rest + 1):
        if (start + timedelta(days=weeks * 7 + offset)).weekday() < 5:
            count += 1
    return count


def previous_business_day(day: date) -> date:
    """The last Monday-to-Friday day before ``day``."""
    previous = day - timedelta(days=1)
    while previous.weekday() >= 5:
        previous -= timedelta(days=1)
    return previous


def quote(
    conn: Connection,
    currency: str,
    path: Sequence[str | int] = ("currency",),
    today: date | None = None,
    max_age_days: int = 0,
) -> RateQuote:
    """The rate a sale on ``today`` (default: now in Yerevan) converts at. ``max_age_days`` > 0: a rate more
    business days old than that is refused (400 ``stale_rate``, naming its date and age)."""
    code = currency.upper()
    if code == "AMD":
        raise _bad(path, "AMD is the local currency: it has no exchange rate")
    if code not in CBA_CURRENCIES:
        raise _bad(path, f"{excerpt(currency)} is not a currency the Central Bank of Armenia quotes")
    sale_date = today or yerevan_today()
    row = conn.execute(
        select(exchange_rates)
        .where(exchange_rates.c.currency == code, exchange_rates.c.rate_date < sale_date.isoformat())
        .order_by(exchange_rates.c.rate_date.desc())
        .limit(1)
    ).first()
    if row is None:
        raise _bad(path, f"no CBA rate for {code} before {sale_date.isoformat()}")
    age = business_days_after(date.fromisoformat(row.rate_date), sale_date)
    if max_age_days and age > max_age_days:
        message = (
            f"the newest CBA rate for {code} is of {row.rate_date}, {age} business days old "
            f"(the limit is {max_age_days}): the rates are not current"
        )
        raise ValidationFailed(message, [Issue(tuple(path), message, "stale_rate")])
    amount = int(row.amount)
    rate: Decimal = row.rate
    per_unit = rate / amount
    rounded = per_unit.quantize(Decimal(1).scaleb(-PER_UNIT_DECIMALS), rounding=ROUND_HALF_UP)
    if rounded != per_unit:  # an amount other than 1, 10 or 100: more decimals than a sale records
        per_unit = rounded
    return RateQuote(code, per_unit, amount, row.rate_date, sale_date.isoformat())


def rate_for_sale(conn: Connection, currency: str, path: Sequence[str | int], max_age_days: int = 0) -> Decimal:
    """AMD per one unit of ``currency`` for a sale today."""
    return quote(conn, currency, path, max_age_days=max_age_days).rate_per_unit


# ---- rates on file: parsing and storing -----------------------------------------------------------------

SOURCE = "CBA"
RATE_DECIMALS = 4
PER_UNIT_DECIMALS = 6


class RatesFileError(ValueError):
    """A rates file that cannot be read; the message names where."""


@dataclass(frozen=True)
class RateRow:
    currency: str
    rate_date: date
    amount: int
    rate: Decimal


@dataclass(frozen=True)
class ImportResult:
    rows: tuple[RateRow, ...]
    skipped: tuple[str, ...]  # currency codes in the file that OpenVCR does not know


def _decimal(text: str, where: str) -> Decimal:
    try:
        value = Decimal(text.strip().replace(",", "."))
    except InvalidOperation as exc:
        raise RatesFileError(f"{where}: {text!r} is not a number") from exc
    if not value.is_finite():
        raise RatesFileError(f"{where}: {text!r} is not a number")
    return value


def _rate(text: str, where: str) -> Decimal:
    value = _decimal(text, where)
    if value <= 0:
        raise RatesFileError(f"{where}: a rate must be greater than 0")
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > RATE_DECIMALS:
        raise RatesFileError(f"{where}: a rate has at most {RATE_DECIMALS} decimals")
    return value.quantize(Decimal(1).scaleb(-RATE_DECIMALS))


def _amount(text: str, where: str) -> int:
    value = _decimal(text or "1", where)
    if value != value.to_integral_value() or value < 1:
        raise RatesFileError(f"{where}: the amount of units is a whole number ≥ 1")
    return int(value)


def _date(text: str, where: str) -> date:
    head = text.strip()[:10]
    try:
        return date.fromisoformat(head)
    except ValueError as exc:
        raise RatesFileError(f"{where}: {text.strip()!r} is not a date YYYY-MM-DD") from exc


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child_text(element: Element, name: str) -> str | None:
    for child in element:
        if _local(child.tag) == name:
            return (child.text or "").strip()
    return None


def parse_cba_xml(data: bytes) -> ImportResult:
    """Rates from the CBA web service's ``ExchangeRatesByDate`` / ``ExchangeRatesLatest`` XML."""
    try:
        root = SafeXml.fromstring(data)
    except Exception as exc:  # defusedxml raises ParseError and its own DefusedXmlException subclasses
        raise RatesFileError(f"not well-formed XML: {exc}") from exc
    current = next((el for el in root.iter() if _local(el.tag) == "CurrentDate"), None)
    if current is None or not (current.text or "").strip():
        raise RatesFileError("the XML has no CurrentDate: not a CBA ExchangeRates answer")
    published = _date(current.text or "", "CurrentDate")
    rows: list[RateRow] = []
    skipped: list[str] = []
    for index, element in enumerate(el for el in root.iter() if _local(el.tag) == "ExchangeRate"):
        where = f"ExchangeRate #{index + 1}"
        iso = _child_text(element, "ISO")
        rate = _child_text(element, "Rate")
        if not iso or rate is None:
            raise RatesFileError(f"{where}: ISO and Rate are required")
        code = iso.upper()
        if code not in CBA_CURRENCIES:
            skipped.append(code)
            continue
        rows.append(RateRow(code, published, _amount(_child_text(element, "Amount") or "1", where), _rate(rate, where)))
    if not rows and not skipped:
        raise RatesFileError("the XML lists no ExchangeRate")
    return ImportResult(tuple(rows), tuple(skipped))


CSV_HEADER = ("date", "currency", "amount", "rate")


def parse_rates_csv(text: str) -> ImportResult:
    """Rates from CSV with the header ``date,currency,amount,rate``."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, None)
    if header is None or tuple(h.strip().lower() for h in header) != CSV_HEADER:
        raise RatesFileError(f"line 1: the header must be {','.join(CSV_HEADER)}")
    rows: list[RateRow] = []
    skipped: list[str] = []
    for number, fields in enumerate(reader, start=2):
        if not any(f.strip() for f in fields):
            continue
        where = f"line {number}"
        if len(fields) != len(CSV_HEADER):
            raise RatesFileError(f"{where}: expected {len(CSV_HEADER)} fields, found {len(fields)}")
        when, code, amount, rate = (f.strip() for f in fields)
        code = code.upper()
        if code == "AMD" or len(code) != 3 or not code.isalpha():
            raise RatesFileError(f"{where}: {code!r} is not a foreign currency code")
        if code not in CBA_CURRENCIES:
            skipped.append(code)
            continue
        rows.append(RateRow(code, _date(when, where), _amount(amount, where), _rate(rate, where)))
    if not rows and not skipped:
        raise RatesFileError("the file lists no rates")
    return ImportResult(tuple(rows), tuple(skipped))


def parse_rates_file(data: bytes) -> ImportResult:
    """A CBA XML answer or a CSV file, recognized from its content."""
    text = data.lstrip(b"\xef\xbb\xbf").lstrip()
    if text.startswith(b"<"):
        return parse_cba_xml(data)
    try:
        decoded = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RatesFileError("the file is neither CBA XML nor UTF-8 CSV") from exc
    return parse_rates_csv(decoded)


def manual_rate(currency: str, rate: str, rate_date: str, amount: str = "1") -> RateRow:
    """One rate typed by an operator (``openvcr rates set``)."""
    code = currency.strip().upper()
    if code == "AMD":
        raise RatesFileError("AMD is the local currency: it has no exchange rate")
    if code not in CBA_CURRENCIES:
        raise RatesFileError(f"{currency!r} is not a currency the Central Bank of Armenia quotes")
    return RateRow(code, _date(rate_date, "--date"), _amount(amount, "--amount"), _rate(rate, "rate"))


def store_rates(conn: Connection, rows: Iterable[RateRow], source: str = SOURCE) -> int:
    """Insert or replace rates (one per currency and date); return how many were written."""
    values: list[dict[str, Any]] = []
    seen: dict[tuple[str, str], int] = {}
    now = now_ms()
    for row in rows:
        day = row.rate_date.isoformat()
        item: dict[str, Any] = {
            "currency": row.currency,
            "rate_date": day,
            "amount": row.amount,
            "rate": row.rate,
            "source": source,
            "imported_at": now,
        }
        key = (row.currency, day)
        if key in seen:  # the last one of a file wins
            values[seen[key]] = item
        else:
            seen[key] = len(values)
            values.append(item)
    if not values:
        return 0
    dialect = conn.dialect.name
    statement: Any
    if dialect == "postgresql":
        statement = pg_insert(exchange_rates)
    elif dialect == "sqlite":
        statement = sqlite_insert(exchange_rates)
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise RuntimeError(f"unsupported database {dialect}")
    statement = statement.on_conflict_do_update(
        index_elements=[exchange_rates.c.currency, exchange_rates.c.rate_date],
        set_={
            "amount": statement.excluded.amount,
            "rate": statement.excluded.rate,
            "source": statement.excluded.source,
            "imported_at": statement.excluded.imported_at,
        },
    )
    conn.execute(statement, values)
    return len(values)
