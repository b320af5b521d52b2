"""The CBA rate feed: a client of the Central Bank of Armenia's exchange-rate web service and the schedule that
keeps the rates on file current.

Rules:
- The service is the CBA's ASMX web service (``OPENVCR_CBA_URL``, e.g. ``https://api.cba.am/exchangerates.asmx``),
  called with SOAP 1.1: ``ExchangeRatesLatest`` (the newest publication) and ``ExchangeRatesByDate`` (the
  publication of a date). Its answer is parsed like a file given to ``openvcr rates import``
  (``sales.rates.parse_cba_xml``) and stored the same way: a publication replaces the rates of its date.
- A call times out after ``OPENVCR_CBA_TIMEOUT_SECONDS``; a connection error, a timeout or a 5xx is tried
  again (3 attempts, 1 s then 2 s apart); a 4xx or an answer that does not parse is not.
- The feed fetches the latest publication when the process starts and then every
  ``OPENVCR_CBA_FETCH_HOURS`` hours on business days (Monday to Friday, Yerevan time; the CBA publishes
  nothing on weekends). A failed fetch is logged and tried again 5 minutes later, never sooner.
- Without ``OPENVCR_CBA_URL`` the feed is off, except under ``OPENVCR_ENVIRONMENT=production``, where it uses
  the CBA's public address (``DEFAULT_CBA_URL``). ``OPENVCR_CBA_URL=off`` turns it off there too.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import date, datetime
from xml.sax.saxutils import escape

import httpx

from openvcr.config import Settings
from openvcr.sales.rates import YEREVAN, ImportResult, RatesFileError, parse_cba_xml, store_rates
from openvcr.store.db import Database

log = logging.getLogger("openvcr.rates")

DEFAULT_CBA_URL = "https://api.cba.am/exchangerates.asmx"
NAMESPACE = "http://www.cba.am/"
ATTEMPTS = 3
RETRY_AFTER_FAILURE_SECONDS = 300.0


class CbaError(RuntimeError):
    """The CBA service could not be asked or gave no usable answer; the message says which."""


def _envelope(operation: str, arguments: str = "") -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
        f'<soap:Body><{operation} xmlns="{NAMESPACE}">{arguments}</{operation}></soap:Body>'
        "</soap:Envelope>"
    ).encode()


class CbaClient:
    """Asks the CBA web service at ``url`` for a publication (see the module rules)."""

    def __init__(
        self,
        url: str,
        *,
        timeout_seconds: float = 10.0,
        attempts: int = ATTEMPTS,
        backoff_seconds: float = 1.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = url
        self.attempts = max(1, attempts)
        self.backoff_seconds = backoff_seconds
        self.sleep = sleep
        self._http = httpx.Client(timeout=timeout_seconds, transport=transport)

    def close(self) -> None:
        self._http.close()

    def latest(self) -> ImportResult:
        """The newest publication."""
        return self._call("ExchangeRatesLatest")

    def by_date(self, day: date) -> ImportResult:
        """The publication of ``day`` (the CBA answers with the last one before it on a day without one)."""
        return self._call("ExchangeRatesByDate", f"<date>{escape(day.isoformat())}T00:00:00</date>")

    def _call(self, operation: str, arguments: str = "") -> ImportResult:
        headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{NAMESPACE}{operation}"'}
        body = _envelope(operation, arguments)
        failure = ""
        for attempt in range(1, self.attempts + 1):
            try:
                answer = self._http.post(self.url, content=body, headers=headers)
            except httpx.TransportError as exc:
                failure = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            else:
                if answer.status_code < 300:
                    try:
                        return parse_cba_xml(answer.content)
                    except RatesFileError as exc:
                        raise CbaError(f"the CBA's {operation} answer does not parse: {exc}") from exc
                failure = f"HTTP {answer.status_code}"
                if answer.status_code < 500:
                    break
            if attempt < self.attempts:
                self.sleep(self.backoff_seconds * 2 ** (attempt - 1))
        raise CbaError(f"the CBA service at {self.url} did not answer {operation}: {failure}")


def cba_url(settings: Settings) -> str | None:
    """The address the feed uses, or None when it is off (see the module rules)."""
    configured = (settings.cba_url or "").strip()
    if configured.lower() == "off":
        return None
    if configured:
        return configured
    return DEFAULT_CBA_URL if settings.environment == "production" else None


def is_business_day(day: date) -> bool:
    return day.weekday() < 5


def fetch_into(db: Database, client: CbaClient, day: date | None = None) -> ImportResult:
    """Fetch the latest publication (or that of ``day``) and store it; return what was stored."""
    result = client.by_date(day) if day is not None else client.latest()
    with db.write() as conn:
        store_rates(conn, result.rows)
    return result


class RateFeed:
    """Keeps the rates on file current (see the module rules). ``run_due`` is safe to call often."""

    def __init__(
        self,
        db: Database,
        client: CbaClient,
        *,
        interval_hours: float = 4.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self.client = client
        self.interval_seconds = interval_hours * 3600
        self.clock = clock
        self._lock = threading.Lock()
        self._next_at = 0.0  # due at once: the first call fetches
        self.last_error: str | None = None
        self.last_date: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings, db: Database) -> RateFeed | None:
        url = cba_url(settings)
        if url is None:
            return None
        client = CbaClient(url, timeout_seconds=settings.cba_timeout_seconds)
        return cls(db, client, interval_hours=settings.cba_fetch_hours)

    def run_due(self) -> bool:
        """Fetch if a fetch is due (and no other thread is fetching); return whether one was made."""
        now = self.clock()
        if now < self._next_at or not self._lock.acquire(blocking=False):
            return False
        try:
            today = datetime.fromtimestamp(now, YEREVAN).date()
            if self._next_at and not is_business_day(today):
                self._next_at = now + self.interval_seconds
                return False
            try:
                result = fetch_into(self.db, self.client)
            except Exception as exc:
                self.last_error = str(exc) or type(exc).__name__
                self._next_at = now + min(RETRY_AFTER_FAILURE_SECONDS, self.interval_seconds)
                log.warning("CBA rates: %s", self.last_error)
                return True
            dates = sorted({row.rate_date.isoformat() for row in result.rows})
            self.last_error, self.last_date = None, dates[-1] if dates else self.last_date
            self._next_at = now + self.interval_seconds
            log.info("CBA rates: stored %d rate(s) of %s", len(result.rows), ", ".join(dates) or "no date")
            return True
        finally:
            self._lock.release()

    def close(self) -> None:
        self.client.close()
