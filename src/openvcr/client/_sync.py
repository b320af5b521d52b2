"""``Client``: the VCR API v1 over a blocking ``httpx.Client``."""

from __future__ import annotations

import ssl
import time
from datetime import date, datetime
from types import TracebackType
from typing import TypeVar

import httpx

from openvcr.client import _base as b
from openvcr.client import models as m

T = TypeVar("T")


class Client:
    """A blocking client of one register's VCR API v1.

    ``base_url`` is the server's address (``https://vcr.example.am``; ``/api/v1`` is added unless given).
    Every call has a timeout (``timeout``, 30 s to read and 5 s to connect by default). A fiscal call given an
    ``idempotency_key`` is retried up to ``max_retries`` times after a network error, with the same key; nothing
    else is retried. ``user_agent`` is your product token (``my-shop/1.2``), sent before the SDK's own.
    ``transport`` replaces httpx's (a proxy, a test double). Use it as a context manager, or call ``close()``.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int = b.DEFAULT_MAX_RETRIES,
        retry_backoff: float = b.DEFAULT_RETRY_BACKOFF,
        user_agent: str | None = None,
        verify: ssl.SSLContext | bool = True,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._settings = b.Settings.of(base_url, api_key, timeout, max_retries, retry_backoff, user_agent)
        self._http = httpx.Client(**self._settings.client_options(), verify=verify, transport=transport)

    @property
    def base_url(self) -> str:
        return self._settings.base_url

    def __repr__(self) -> str:
        return f"Client(base_url={self.base_url!r}, api_key=<hidden>)"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _call(self, call: b.Call[T]) -> T:
        attempt = 0
        while True:
            try:
                response = self._http.request(
                    call.method,
                    call.path,
                    params=call.params,
                    content=call.content(),
                    headers=call.headers(),
                    auth=call.auth,
                )
            except httpx.TransportError as exc:
                error = b.network_error(exc, call)
                delay = self._settings.retry_delay(call, attempt, error)
                if delay is None:
                    raise error from exc
                time.sleep(delay)
                attempt += 1
                continue
            return b.read_answer(response, call)

    # --- pairing (no API key: a client made without one can call these) ---

    def create_connect_request(self, request: m.ConnectRequestCreate) -> m.ConnectRequestCreated:
        """``POST /connect/requests``: start pairing; open ``connect_url`` in the merchant's browser."""
        return self._call(b.create_connect_request(request))

    def exchange_connect_code(self, code: str, code_verifier: str) -> m.ConnectExchanged:
        """``POST /connect/exchange``: the approved code and the PKCE verifier for the register's API key."""
        return self._call(b.exchange_connect_code(code, code_verifier))

    # --- account and catalog ---

    def whoami(self) -> m.WhoAmI:
        """``GET /whoami``: the register this API key belongs to."""
        return self._call(b.whoami())

    def list_cashiers(self) -> list[m.Cashier]:
        """``GET /cashiers``."""
        return self._call(b.list_cashiers())

    def create_cashier(self, cashier: m.CashierCreate) -> m.CashierCreated:
        """``POST /cashiers``."""
        return self._call(b.create_cashier(cashier))

    def list_departments(self) -> list[m.Department]:
        """``GET /departments``: those the tax authority confirmed."""
        return self._call(b.list_departments())

    def create_department(self, department: m.DepartmentCreate) -> m.DepartmentCreated:
        """``POST /departments``: configured at the tax authority before it answers."""
        return self._call(b.create_department(department))

    def create_offer(self, offer: m.OfferCreate) -> m.OfferCreated:
        """``POST /offers``."""
        return self._call(b.create_offer(offer))

    def list_offers(
        self, *, external_id: str | None = None, type: m.OfferType | None = None, include_archived: bool = False
    ) -> list[m.Offer]:
        """``GET /offers``: at most 500."""
        return self._call(b.list_offers(external_id, type, include_archived))

    def get_offer(self, offer_id: int) -> m.Offer:
        """``GET /offers/{id}``."""
        return self._call(b.get_offer(offer_id))

    def update_offer(self, offer_id: int, *, title: m.LocalizedTitle | m.UniversalTitle) -> m.Offer:
        """``PATCH /offers/{id}``: a new title, for future receipts only."""
        return self._call(b.update_offer(offer_id, title))

    def archive_offer(self, offer_id: int) -> m.Offer:
        """``DELETE /offers/{id}``: the offer can no longer be sold; lists hide it unless asked."""
        return self._call(b.archive_offer(offer_id))

    def search_classifier(self, query: str, *, type: m.OfferType, language: m.Language = "hy") -> list[m.ClassifierHit]:
        """``GET /searchByClassifier``: goods (HS-based codes) or services (activity codes), best first."""
        return self._call(b.search_classifier(query, type, language))

    def exchange_rate(self, currency: str) -> m.ExchangeRate:
        """``GET /exchange-rate``: the CBA rate a sale made now converts ``currency`` at."""
        return self._call(b.exchange_rate(currency))

    # --- sales ---

    def create_sale(self, sale: m.SaleCreate, *, idempotency_key: str | None = None) -> m.SaleCreated:
        """``POST /sales``: register a sale with the tax authority."""
        return self._call(b.create_sale(sale, idempotency_key))

    def get_sale(self, sale_id: int) -> m.SaleDetail:
        """``GET /sales/{id}``."""
        return self._call(b.get_sale(sale_id))

    def refund_sale(self, refund: m.SaleRefundCreate, *, idempotency_key: str | None = None) -> m.SaleRefundCreated:
        """``POST /sales/refund``: all of a sale, or some lines and quantities."""
        return self._call(b.refund_sale(refund, idempotency_key))

    def get_sale_refund(self, refund_id: int) -> m.SaleRefundStatus:
        """``GET /sales/refunds/{id}``."""
        return self._call(b.get_sale_refund(refund_id))

    # --- prepayments ---

    def create_prepayment(
        self, prepayment: m.PrepaymentCreate, *, idempotency_key: str | None = None
    ) -> m.PrepaymentCreated:
        """``POST /prepayments``: an advance payment for a buyer."""
        return self._call(b.create_prepayment(prepayment, idempotency_key))

    def get_prepayment(self, prepayment_id: int) -> m.PrepaymentDetail:
        """``GET /prepayments/{id}``."""
        return self._call(b.get_prepayment(prepayment_id))

    def list_prepayments(
        self, *, customer_ref: str | None = None, state: m.PrepaymentStateFilter | None = None
    ) -> list[m.PrepaymentRow]:
        """``GET /prepayments``: newest first, at most 500."""
        return self._call(b.list_prepayments(customer_ref, state))

    def prepayment_balance(self, customer_ref: str) -> m.PrepaymentBalance:
        """``GET /prepayments/balance``: a customer's open balance (TIN, E.164 phone or e-mail)."""
        return self._call(b.prepayment_balance(customer_ref))

    def refund_prepayment(
        self, refund: m.PrepaymentRefundCreate, *, idempotency_key: str | None = None
    ) -> m.PrepaymentRefundCreated:
        """``POST /prepayments/refund``: the whole remaining amount."""
        return self._call(b.refund_prepayment(refund, idempotency_key))

    def get_prepayment_refund(self, refund_id: int) -> m.PrepaymentRefundStatus:
        """``GET /prepayments/refunds/{id}``."""
        return self._call(b.get_prepayment_refund(refund_id))

    # --- webhooks (scope ``webhooks``) ---

    def create_webhook(self, webhook: m.WebhookCreate) -> m.WebhookCreated:
        """``POST /webhooks``: a new endpoint of the business entity; its ``secret`` is shown this once."""
        return self._call(b.create_webhook(webhook))

    def list_webhooks(self) -> list[m.Webhook]:
        """``GET /webhooks``: the business entity's endpoints."""
        return self._call(b.list_webhooks())

    def delete_webhook(self, webhook_id: int) -> m.Webhook:
        """``DELETE /webhooks/{id}``: nothing more is delivered to it."""
        return self._call(b.delete_webhook(webhook_id))

    def list_webhook_deliveries(
        self, webhook_id: int, *, status: str | None = None, limit: int = 50
    ) -> list[m.WebhookDelivery]:
        """``GET /webhooks/{id}/deliveries``, newest first."""
        return self._call(b.list_webhook_deliveries(webhook_id, status, limit))

    def replay_webhook_delivery(self, webhook_id: int, delivery_id: int) -> m.WebhookDelivery:
        """``POST /webhooks/{id}/deliveries/{delivery}/replay``: deliver it again (same event id and body)."""
        return self._call(b.replay_webhook_delivery(webhook_id, delivery_id))

    # --- shift reports ---

    def take_x_report(self, report: m.ReportCreate | None = None, *, idempotency_key: str | None = None) -> m.Report:
        """``POST /reports/x``: the open shift's totals; the shift stays open."""
        return self._call(b.take_report("x", report, idempotency_key))

    def take_z_report(self, report: m.ReportCreate | None = None, *, idempotency_key: str | None = None) -> m.Report:
        """``POST /reports/z``: the open shift's totals, and the shift closed (``ConflictError`` when empty)."""
        return self._call(b.take_report("z", report, idempotency_key))

    def get_report(self, report_id: int) -> m.Report:
        """``GET /reports/{id}``."""
        return self._call(b.get_report(report_id))

    def list_reports(
        self,
        *,
        type: m.ReportType | None = None,
        from_: date | datetime | None = None,
        to: date | datetime | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> m.ReportPage:
        """``GET /reports``: newest first, a page of ``limit`` (1 to 500); pass ``next_cursor`` on."""
        return self._call(b.list_reports(type, from_, to, cursor, limit))

    # --- cursor lists ---

    def list_sales(
        self,
        *,
        state: m.FiscalStatus | None = None,
        from_: date | datetime | None = None,
        to: date | datetime | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> m.DocumentPage:
        """``GET /sales``: newest first, a page of ``limit`` (1 to 500); pass ``next_cursor`` on."""
        return self._call(b.list_documents("sale", state, from_, to, cursor, limit))

    def list_sale_refunds(
        self,
        *,
        state: m.FiscalStatus | None = None,
        from_: date | datetime | None = None,
        to: date | datetime | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> m.DocumentPage:
        """``GET /sales/refunds``: newest first, by cursor."""
        return self._call(b.list_documents("sale_refund", state, from_, to, cursor, limit))

    def list_prepayment_refunds(
        self,
        *,
        state: m.FiscalStatus | None = None,
        from_: date | datetime | None = None,
        to: date | datetime | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> m.DocumentPage:
        """``GET /prepayments/refunds``: newest first, by cursor."""
        return self._call(b.list_documents("prepayment_refund", state, from_, to, cursor, limit))

    # --- pending documents ---

    def pending_status(self, pending: m.Pending) -> b.DocumentStatus:
        """The document a ``PendingError`` points at (its ``fiscal_status``, and its receipt once fiscalized)."""
        return self._call(b.pending_status(pending))
