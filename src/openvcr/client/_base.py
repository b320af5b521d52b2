"""What ``Client`` and ``AsyncClient`` share: each endpoint as a ``Call``, the answer's decoding, the errors'
mapping and the retry rule. The two clients only send.

Rules:
- A call is retried only after a ``NetworkError`` and only when it carries an idempotency key (the server then
  answers a repeat with the original response and never registers a second document); every attempt sends
  the same key and the same body. Nothing is retried on an HTTP answer, whatever its status.
- A JSON answer is decoded from its bytes with ``parse_float=Decimal``: money never passes through a float.
- The API key is sent by ``ApiKeyAuth`` on each request; it is in no default header, repr, log or error.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter
from pydantic import ValidationError as PydanticValidationError

from openvcr import __version__
from openvcr.client import models as m
from openvcr.client.errors import ApiError, NetworkError, UnexpectedResponseError, error_for
from openvcr.client.idempotency import check_key

log = logging.getLogger("openvcr.client")

T = TypeVar("T")
ModelT = TypeVar("ModelT", bound=BaseModel)

API_PREFIX = "/api/v1"
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
"""30 s to read an answer (a fiscal call waits for the tax authority), 5 s to connect."""
DEFAULT_MAX_RETRIES = 2
DEFAULT_RETRY_BACKOFF = 0.5
USER_AGENT = f"openvcr-python/{__version__}"
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


class ApiKeyAuth(httpx.Auth):
    """Puts ``X-API-KEY`` on each request; its repr never shows the key."""

    def __init__(self, api_key: str) -> None:
        if not api_key or api_key != api_key.strip():
            raise ValueError("api_key must be a non-empty key without surrounding spaces")
        self._api_key = api_key

    def auth_flow(self, request: httpx.Request) -> Any:
        request.headers["X-API-KEY"] = self._api_key
        yield request

    def __repr__(self) -> str:
        return "ApiKeyAuth(api_key=<hidden>)"


@dataclass(frozen=True)
class Call(Generic[T]):
    """One request of the API and how to read its answer."""

    method: str
    path: str
    parse: Callable[[Any], T]
    params: Mapping[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None
    idempotency_key: str | None = None
    anonymous: bool = False  # sent without the API key (pairing)

    @property
    def auth(self) -> Any:
        """What httpx is given as ``auth=``: nothing for an anonymous call, else the client's API key."""
        return None if self.anonymous else httpx.USE_CLIENT_DEFAULT

    def headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        if self.body is not None:
            headers["Content-Type"] = "application/json"
        if self.idempotency_key is not None:
            headers["Idempotency-Key"] = self.idempotency_key
        return headers

    def content(self) -> bytes | None:
        if self.body is None:
            return None
        return json.dumps(self.body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@dataclass(frozen=True)
class Settings:
    """The options both clients validate the same way."""

    base_url: str
    api_key: ApiKeyAuth | None  # None: only the calls without a key (pairing) can be made
    timeout: httpx.Timeout
    max_retries: int
    retry_backoff: float
    user_agent: str

    @classmethod
    def of(
        cls,
        base_url: str,
        api_key: str | None,
        timeout: float | httpx.Timeout | None,
        max_retries: int,
        retry_backoff: float,
        user_agent: str | None,
    ) -> Settings:
        url = base_url.rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise ValueError("base_url is the server's http:// or https:// address")
        if not url.endswith(API_PREFIX):
            url += API_PREFIX
        if max_retries < 0 or retry_backoff < 0:
            raise ValueError("max_retries and retry_backoff cannot be negative")
        if timeout is None:
            timeout = DEFAULT_TIMEOUT
        elif not isinstance(timeout, httpx.Timeout):
            timeout = httpx.Timeout(timeout)
        agent = f"{user_agent} {USER_AGENT}" if user_agent else USER_AGENT
        return cls(url, None if api_key is None else ApiKeyAuth(api_key), timeout, max_retries, retry_backoff, agent)

    def client_options(self) -> dict[str, Any]:
        return {
            "base_url": self.base_url,
            "auth": self.api_key,
            "timeout": self.timeout,
            "headers": {"User-Agent": self.user_agent, "Accept": "application/json"},
            "follow_redirects": False,
        }

    def retry_delay(self, call: Call[Any], attempt: int, error: NetworkError) -> float | None:
        """Seconds to wait before attempt ``attempt + 1`` of ``call`` after ``error``, or None: do not retry."""
        if call.idempotency_key is None or attempt >= self.max_retries:
            return None
        delay: float = min(self.retry_backoff * float(2**attempt), 8.0)
        log.info("retrying %s %s after a network error (%s) in %.1fs", call.method, call.path, error.message, delay)
        return delay


def network_error(exc: httpx.TransportError, call: Call[Any]) -> NetworkError:
    reason = type(exc).__name__ + (f": {exc}" if str(exc) else "")
    return NetworkError(reason, method=call.method, path=call.path, reached_server=not isinstance(exc, _NEVER_SENT))


def _decode(response: httpx.Response) -> Any:
    return json.loads(response.content, parse_float=Decimal)


def read_answer(response: httpx.Response, call: Call[T]) -> T:
    """The parsed answer of ``call``, or the error it stands for."""
    request_id = response.headers.get("X-Request-Id")
    if response.status_code >= 400:
        raise api_error(response, request_id)
    if response.status_code != 200:
        raise UnexpectedResponseError(
            f"unexpected status {response.status_code}", status=response.status_code, request_id=request_id
        )
    try:
        return call.parse(_decode(response))
    except (ValueError, PydanticValidationError) as exc:  # JSONDecodeError is a ValueError
        raise UnexpectedResponseError(
            f"the answer to {call.method} {call.path} is not the contract's: {exc}",
            status=response.status_code,
            request_id=request_id,
        ) from exc


def api_error(response: httpx.Response, request_id: str | None) -> ApiError:
    status = response.status_code
    message = response.reason_phrase or f"HTTP {status}"
    issues: tuple[m.Issue, ...] = ()
    pending: m.Pending | None = None
    try:
        body = _decode(response)
    except ValueError:
        body = None
    if isinstance(body, dict):
        if isinstance(body.get("error"), str):
            message = body["error"]
        if isinstance(body.get("requestId"), str):
            request_id = body["requestId"]
        try:
            issues = tuple(_ISSUES.validate_python(body.get("issues") or []))
        except PydanticValidationError:
            issues = ()
        try:
            pending = m.Pending.model_validate(body["pending"]) if body.get("pending") is not None else None
        except PydanticValidationError:
            pending = None
    retry_after: float | None = None
    try:
        retry_after = float(response.headers["Retry-After"]) if "Retry-After" in response.headers else None
    except ValueError:
        retry_after = None
    return error_for(status, message, issues=issues, request_id=request_id, pending=pending, retry_after=retry_after)


_ISSUES = TypeAdapter(list[m.Issue])


def _one(model: type[ModelT]) -> Callable[[Any], ModelT]:
    return model.model_validate


def _many(model: type[ModelT]) -> Callable[[Any], list[ModelT]]:
    adapter: TypeAdapter[list[ModelT]] = TypeAdapter(list[model])  # type: ignore[valid-type]
    return adapter.validate_python


def _id(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"an id is a positive integer, not {value!r}")
    return value


def _key(value: str | None) -> str | None:
    return None if value is None else check_key(value)


# --- every endpoint of /api/v1 ---


def whoami() -> Call[m.WhoAmI]:
    return Call("GET", "/whoami", _one(m.WhoAmI))


def list_cashiers() -> Call[list[m.Cashier]]:
    return Call("GET", "/cashiers", _many(m.Cashier))


def create_cashier(cashier: m.CashierCreate) -> Call[m.CashierCreated]:
    return Call("POST", "/cashiers", _one(m.CashierCreated), body=cashier.wire())


def list_departments() -> Call[list[m.Department]]:
    return Call("GET", "/departments", _many(m.Department))


def create_department(department: m.DepartmentCreate) -> Call[m.DepartmentCreated]:
    return Call("POST", "/departments", _one(m.DepartmentCreated), body=department.wire())


def create_offer(offer: m.OfferCreate) -> Call[m.OfferCreated]:
    return Call("POST", "/offers", _one(m.OfferCreated), body=offer.wire())


def list_offers(external_id: str | None, type_: m.OfferType | None, include_archived: bool) -> Call[list[m.Offer]]:
    params = {"includeArchived": "true" if include_archived else "false"}
    if external_id is not None:
        params["externalId"] = external_id
    if type_ is not None:
        params["type"] = type_
    return Call("GET", "/offers", _many(m.Offer), params=params)


def get_offer(offer_id: int) -> Call[m.Offer]:
    return Call("GET", f"/offers/{_id(offer_id)}", _one(m.Offer))


def update_offer(offer_id: int, title: m.LocalizedTitle | m.UniversalTitle) -> Call[m.Offer]:
    return Call("PATCH", f"/offers/{_id(offer_id)}", _one(m.Offer), body={"title": title.wire()})


def archive_offer(offer_id: int) -> Call[m.Offer]:
    return Call("DELETE", f"/offers/{_id(offer_id)}", _one(m.Offer))


def search_classifier(query: str, type_: m.OfferType, language: m.Language) -> Call[list[m.ClassifierHit]]:
    params = {"query": query, "type": type_, "language": language}
    return Call("GET", "/searchByClassifier", _many(m.ClassifierHit), params=params)


def create_webhook(webhook: m.WebhookCreate) -> Call[m.WebhookCreated]:
    return Call("POST", "/webhooks", _one(m.WebhookCreated), body=webhook.wire())


def list_webhooks() -> Call[list[m.Webhook]]:
    return Call("GET", "/webhooks", _many(m.Webhook))


def delete_webhook(webhook_id: int) -> Call[m.Webhook]:
    return Call("DELETE", f"/webhooks/{_id(webhook_id)}", _one(m.Webhook))


def list_webhook_deliveries(webhook_id: int, status: str | None, limit: int) -> Call[list[m.WebhookDelivery]]:
    params = {"limit": str(limit), **({"status": status} if status is not None else {})}
    return Call("GET", f"/webhooks/{_id(webhook_id)}/deliveries", _many(m.WebhookDelivery), params=params)


def replay_webhook_delivery(webhook_id: int, delivery_id: int) -> Call[m.WebhookDelivery]:
    path = f"/webhooks/{_id(webhook_id)}/deliveries/{_id(delivery_id)}/replay"
    return Call("POST", path, _one(m.WebhookDelivery))


def exchange_rate(currency: str) -> Call[m.ExchangeRate]:
    return Call("GET", "/exchange-rate", _one(m.ExchangeRate), params={"currency": currency})


def create_sale(sale: m.SaleCreate, idempotency_key: str | None) -> Call[m.SaleCreated]:
    return Call("POST", "/sales", _one(m.SaleCreated), body=sale.wire(), idempotency_key=_key(idempotency_key))


def get_sale(sale_id: int) -> Call[m.SaleDetail]:
    return Call("GET", f"/sales/{_id(sale_id)}", _one(m.SaleDetail))


def refund_sale(refund: m.SaleRefundCreate, idempotency_key: str | None) -> Call[m.SaleRefundCreated]:
    key = _key(idempotency_key)
    return Call("POST", "/sales/refund", _one(m.SaleRefundCreated), body=refund.wire(), idempotency_key=key)


def get_sale_refund(refund_id: int) -> Call[m.SaleRefundStatus]:
    return Call("GET", f"/sales/refunds/{_id(refund_id)}", _one(m.SaleRefundStatus))


def create_prepayment(prepayment: m.PrepaymentCreate, idempotency_key: str | None) -> Call[m.PrepaymentCreated]:
    key = _key(idempotency_key)
    return Call("POST", "/prepayments", _one(m.PrepaymentCreated), body=prepayment.wire(), idempotency_key=key)


def get_prepayment(prepayment_id: int) -> Call[m.PrepaymentDetail]:
    return Call("GET", f"/prepayments/{_id(prepayment_id)}", _one(m.PrepaymentDetail))


def list_prepayments(customer_ref: str | None, state: m.PrepaymentStateFilter | None) -> Call[list[m.PrepaymentRow]]:
    params: dict[str, str] = {}
    if customer_ref is not None:
        params["customerRef"] = customer_ref
    if state is not None:
        params["state"] = state
    return Call("GET", "/prepayments", _many(m.PrepaymentRow), params=params)


def prepayment_balance(customer_ref: str) -> Call[m.PrepaymentBalance]:
    return Call("GET", "/prepayments/balance", _one(m.PrepaymentBalance), params={"customerRef": customer_ref})


def refund_prepayment(refund: m.PrepaymentRefundCreate, idempotency_key: str | None) -> Call[m.PrepaymentRefundCreated]:
    key = _key(idempotency_key)
    return Call("POST", "/prepayments/refund", _one(m.PrepaymentRefundCreated), body=refund.wire(), idempotency_key=key)


def get_prepayment_refund(refund_id: int) -> Call[m.PrepaymentRefundStatus]:
    return Call("GET", f"/prepayments/refunds/{_id(refund_id)}", _one(m.PrepaymentRefundStatus))


def take_report(kind: m.ReportType, report: m.ReportCreate | None, idempotency_key: str | None) -> Call[m.Report]:
    body = (report or m.ReportCreate()).wire()
    return Call("POST", f"/reports/{kind}", _one(m.Report), body=body, idempotency_key=_key(idempotency_key))


def get_report(report_id: int) -> Call[m.Report]:
    return Call("GET", f"/reports/{_id(report_id)}", _one(m.Report))


def _bound(value: date | datetime) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("a datetime bound needs a time zone")
        return value.isoformat()
    return value.isoformat()


def _window(
    from_: date | datetime | None, to: date | datetime | None, cursor: str | None, limit: int | None
) -> dict[str, str]:
    params: dict[str, str] = {}
    if from_ is not None:
        params["from"] = _bound(from_)
    if to is not None:
        params["to"] = _bound(to)
    if cursor is not None:
        params["cursor"] = cursor
    if limit is not None:
        params["limit"] = str(limit)
    return params


def list_reports(
    type_: m.ReportType | None,
    from_: date | datetime | None,
    to: date | datetime | None,
    cursor: str | None,
    limit: int | None,
) -> Call[m.ReportPage]:
    params = _window(from_, to, cursor, limit)
    if type_ is not None:
        params["type"] = type_
    return Call("GET", "/reports", _one(m.ReportPage), params=params)


DOCUMENT_LISTS = {"sale": "/sales", "sale_refund": "/sales/refunds", "prepayment_refund": "/prepayments/refunds"}


def list_documents(
    kind: str,
    state: m.FiscalStatus | None,
    from_: date | datetime | None,
    to: date | datetime | None,
    cursor: str | None,
    limit: int | None,
) -> Call[m.DocumentPage]:
    params = _window(from_, to, cursor, limit)
    if state is not None:
        params["state"] = state
    return Call("GET", DOCUMENT_LISTS[kind], _one(m.DocumentPage), params=params)


DocumentStatus = m.SaleDetail | m.SaleRefundStatus | m.PrepaymentDetail | m.PrepaymentRefundStatus


StatusT = TypeVar("StatusT", bound=DocumentStatus)


def create_connect_request(request: m.ConnectRequestCreate) -> Call[m.ConnectRequestCreated]:
    return Call("POST", "/connect/requests", _one(m.ConnectRequestCreated), body=request.wire(), anonymous=True)


def exchange_connect_code(code: str, code_verifier: str) -> Call[m.ConnectExchanged]:
    body = {"code": code, "codeVerifier": code_verifier}
    return Call("POST", "/connect/exchange", _one(m.ConnectExchanged), body=body, anonymous=True)


def _widened(call: Call[StatusT]) -> Call[DocumentStatus]:
    return Call(call.method, call.path, call.parse)


def pending_status(pending: m.Pending) -> Call[DocumentStatus]:
    """The document a ``pending`` error points at, read by its type and id (never by following a URL)."""
    if pending.type == "sale":
        return _widened(get_sale(pending.id))
    if pending.type == "saleRefund":
        return _widened(get_sale_refund(pending.id))
    if pending.type == "prepayment":
        return _widened(get_prepayment(pending.id))
    return _widened(get_prepayment_refund(pending.id))
