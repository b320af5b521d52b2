"""``openvcr.client`` without a server: its import rule, public surface, wire format, error mapping and retry
rule (answers from ``httpx.MockTransport``; the live server is exercised in ``tests/e2e/client``)."""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pydantic
import pytest

import openvcr.client as sdk
from openvcr.client import (
    ApiError,
    AsyncClient,
    AutoSettle,
    BadRequestError,
    CashierRef,
    Client,
    ConflictError,
    DocumentRefusedError,
    FiscalizationPendingError,
    IdempotencyMismatchError,
    NetworkError,
    NotFoundError,
    OfferRef,
    PendingError,
    RateLimitError,
    SaleCreate,
    SaleItem,
    ServerError,
    UnexpectedResponseError,
    idempotency_key_for,
)

SRC = Path(__file__).resolve().parents[3] / "src"
KEY = "ovcr_secret_key_never_shown_0123456789"
CREATED = {"urlId": "u1", "saleId": 7, "crn": "53000001", "srcReceiptId": 3, "fiscal": "77602844"}


def a_sale() -> SaleCreate:
    return SaleCreate(
        cashier=CashierRef(id=1),
        items=[
            SaleItem(offer=OfferRef(external_id="SKU-001"), quantity=Decimal(3), price=Decimal("333.33"), unit="pc")
        ],
        auto_settle=AutoSettle(tender="cash"),
    )


def mock_client(handler: Callable[[httpx.Request], httpx.Response], **options: Any) -> Client:
    return Client("http://vcr.test", KEY, transport=httpx.MockTransport(handler), retry_backoff=0, **options)


def answer(status: int, body: Any, headers: dict[str, str] | None = None) -> Callable[[httpx.Request], httpx.Response]:
    def handler(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=json.dumps(body).encode(), headers=headers)

    return handler


# --- the package ---


def test_importing_the_sdk_loads_no_server_module() -> None:
    code = (
        "import sys, openvcr.client\n"
        "bad = sorted(m for m in sys.modules if m.startswith(('sqlalchemy', 'fastapi', 'starlette', 'uvicorn', "
        "'alembic', 'orjson')) or (m.startswith('openvcr.') and not m.startswith('openvcr.client')))\n"
        "assert not bad, bad\n"
        "assert 'httpx' in sys.modules and 'pydantic' in sys.modules\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env={"PYTHONPATH": str(SRC)}, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


def test_the_sdk_source_imports_only_the_standard_library_httpx_pydantic_and_itself() -> None:
    allowed = {"httpx", "pydantic", "openvcr"}
    found: set[str] = set()
    for path in (SRC / "openvcr" / "client").glob("*.py"):
        for line in path.read_text(encoding="utf-8").splitlines():
            words = line.split()
            if len(words) >= 2 and words[0] in ("import", "from") and not line.startswith(" "):
                found.add(words[1].split(".")[0])
    assert found - set(sys.stdlib_module_names) - {"__future__"} == allowed
    assert all(
        "from openvcr import __version__" in line or "openvcr.client" in line
        for path in (SRC / "openvcr" / "client").glob("*.py")
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.startswith(("from openvcr", "import openvcr"))
    )


def _ruff_order(name: str) -> tuple[int, str]:
    return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)


def test_all_is_sorted_complete_and_typed() -> None:
    assert sdk.__all__ == sorted(sdk.__all__, key=_ruff_order)
    assert len(set(sdk.__all__)) == len(sdk.__all__)
    assert all(hasattr(sdk, name) for name in sdk.__all__)
    assert (SRC / "openvcr" / "py.typed").exists() and (SRC / "openvcr" / "client" / "py.typed").exists()


def test_the_async_client_has_every_method_of_the_client_with_the_same_parameters_awaited() -> None:
    def public(cls: type) -> dict[str, Any]:
        return {n: f for n, f in vars(cls).items() if callable(f) and not n.startswith("_")}

    sync, asynchronous = public(Client), public(AsyncClient)
    assert set(sync) - {"close"} == set(asynchronous) - {"aclose"}
    assert len(sync) == 38  # 36 routes of /api/v1 (5 webhooks, 7 reports and lists, 2 pairing), pending_status, close
    for name, method in sync.items():
        if name == "close":
            continue
        assert inspect.iscoroutinefunction(asynchronous[name]), name
        assert inspect.signature(method) == inspect.signature(asynchronous[name]), name


# --- the wire ---


def test_request_money_refuses_float_and_goes_out_as_plain_decimal_strings() -> None:
    with pytest.raises(pydantic.ValidationError, match="never float"):
        SaleItem(offer=OfferRef(id=1), quantity=Decimal(1), price=0.1, unit="pc")  # type: ignore[arg-type]
    item = SaleItem(offer=OfferRef(id=1), quantity=Decimal("1E+1"), price=Decimal("333.33333333"), unit="pc")
    assert item.wire() == {"offer": {"id": 1}, "quantity": "10", "price": "333.33333333", "unit": "pc"}


def test_a_request_refuses_unknown_fields_and_needs_exactly_one_payment_and_reference() -> None:
    with pytest.raises(pydantic.ValidationError):
        CashierRef(id=1, deskid="x")  # type: ignore[call-arg]
    with pytest.raises(pydantic.ValidationError, match="exactly one of id or desk_id"):
        CashierRef(id=1, desk_id="abc")
    with pytest.raises(pydantic.ValidationError, match="exactly one of amount or auto_settle"):
        SaleCreate(cashier=CashierRef(id=1), items=a_sale().items)


def test_response_money_is_parsed_from_the_bytes_never_through_a_float() -> None:
    body = (
        b'{"id":1,"saleId":2,"fiscalStatus":"completed","cashAmount":12345678901234567.89,"nonCashAmount":0.1,'
        b'"receipt":null}'
    )
    with mock_client(lambda _r: httpx.Response(200, content=body)) as vcr:
        status = vcr.get_sale_refund(1)
    assert status.cash_amount == Decimal("12345678901234567.89")  # a float would have lost the last digits
    assert status.non_cash_amount == Decimal("0.1") and isinstance(status.non_cash_amount, Decimal)


def test_a_fiscal_answer_with_or_without_receipt_url_parses() -> None:
    with mock_client(answer(200, CREATED)) as vcr:
        assert vcr.create_sale(a_sale()).receipt_url is None
    url = "https://vcr.example.am/en/r/53000001/u1"
    with mock_client(answer(200, {**CREATED, "receiptUrl": url, "futureField": 1})) as vcr:
        assert vcr.create_sale(a_sale()).receipt_url == url


def test_an_answer_off_the_contract_is_an_unexpected_response_error() -> None:
    with mock_client(answer(200, {"saleId": "seven"})) as vcr, pytest.raises(UnexpectedResponseError):
        vcr.create_sale(a_sale())
    with mock_client(lambda _r: httpx.Response(200, content=b"<html>")) as vcr, pytest.raises(UnexpectedResponseError):
        vcr.whoami()


# --- errors ---


@pytest.mark.parametrize(
    ("status", "body", "headers", "kind"),
    [
        (400, {"error": "Validation failed", "issues": [{"path": ["items", 0, "price"], "message": "m", "code": "c"}]},
         {}, BadRequestError),
        (404, {"error": "sale 9 not found", "requestId": "r-404"}, {}, NotFoundError),
        (409, {"error": "already refunded"}, {}, ConflictError),
        (422, {"error": "key reused"}, {}, IdempotencyMismatchError),
        (429, {"error": "Too many requests"}, {"Retry-After": "2"}, RateLimitError),
        (503, {"error": "SRC unreachable"}, {}, ServerError),
        (502, {"error": "kept", "pending": {"type": "sale", "id": 5, "statusUrl": "/api/v1/sales/5",
                                            "mayResubmit": True}}, {}, FiscalizationPendingError),
        (409, {"error": "refused", "pending": {"type": "saleRefund", "id": 6, "statusUrl": "/api/v1/sales/refunds/6",
                                               "mayResubmit": False}}, {}, DocumentRefusedError),
        (418, {"unexpected": True}, {}, ApiError),
    ],
)  # fmt: skip
def test_each_error_envelope_becomes_its_error_class(
    status: int, body: dict[str, Any], headers: dict[str, str], kind: type[ApiError]
) -> None:
    with mock_client(answer(status, body, {"X-Request-Id": "hdr-id", **headers})) as vcr, pytest.raises(kind) as info:
        vcr.create_sale(a_sale())
    error = info.value
    assert type(error) is kind and error.status == status
    assert error.message == body.get("error", "I'm a teapot")
    assert error.request_id == body.get("requestId", "hdr-id")
    if kind is BadRequestError:
        [issue] = error.issues
        assert issue.path == ["items", 0, "price"] and issue.message == "m" and issue.code == "c"
        assert "items.0.price: m" in str(error)
    if kind is RateLimitError:
        assert isinstance(error, RateLimitError) and error.retry_after == 2.0
    if isinstance(error, PendingError):
        assert error.pending.id == body["pending"]["id"]
        assert error.may_resubmit is body["pending"]["mayResubmit"]
    else:
        assert error.pending is None
    assert isinstance(error, ConflictError) is (status == 409)


# --- retries ---


class Script:
    """A transport double: raises or answers in turn, and keeps every request it saw."""

    def __init__(self, *steps: Exception | httpx.Response) -> None:
        self.steps = list(steps)
        self.seen: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        step = self.steps.pop(0)
        if isinstance(step, Exception):
            raise step
        return step


def ok() -> httpx.Response:
    return httpx.Response(200, content=json.dumps(CREATED).encode())


def test_a_fiscal_call_with_a_key_is_retried_after_network_errors_with_the_same_key_and_body() -> None:
    script = Script(httpx.ConnectError("refused"), httpx.ReadTimeout("lost"), ok())
    key = idempotency_key_for("order-1")
    with mock_client(script) as vcr:
        assert vcr.create_sale(a_sale(), idempotency_key=key).sale_id == 7
    assert [r.headers["Idempotency-Key"] for r in script.seen] == [key] * 3
    assert len({r.content for r in script.seen}) == 1


def test_without_a_key_a_network_error_is_raised_after_one_attempt() -> None:
    script = Script(httpx.ReadTimeout("lost"), ok())
    with mock_client(script) as vcr, pytest.raises(NetworkError) as info:
        vcr.create_sale(a_sale())
    assert len(script.seen) == 1 and info.value.reached_server
    assert "Idempotency-Key" not in script.seen[0].headers


def test_retries_stop_after_max_retries_and_never_follow_an_http_error() -> None:
    script = Script(httpx.ConnectError("a"), httpx.ConnectError("b"), httpx.ConnectError("c"), ok())
    with mock_client(script, max_retries=2) as vcr, pytest.raises(NetworkError) as info:
        vcr.create_sale(a_sale(), idempotency_key="k-1")
    assert len(script.seen) == 3 and not info.value.reached_server
    script = Script(httpx.Response(503, json={"error": "SRC unreachable"}), ok())
    with mock_client(script) as vcr, pytest.raises(ServerError):
        vcr.create_sale(a_sale(), idempotency_key="k-2")
    assert len(script.seen) == 1


def test_the_async_client_retries_by_the_same_rule() -> None:
    script = Script(httpx.ReadTimeout("lost"), ok())

    async def run() -> int:
        async with AsyncClient("http://vcr.test", KEY, transport=httpx.MockTransport(script), retry_backoff=0) as vcr:
            sale = await vcr.create_sale(a_sale(), idempotency_key="k-3")
            with pytest.raises(NetworkError):
                await vcr.refund_sale(
                    sdk.SaleRefundCreate(cashier=CashierRef(id=1), sale_id=sale.sale_id)
                )  # no key: not retried; the script has nothing left, so a retry would fail differently
            return sale.sale_id

    script.steps.append(httpx.ReadTimeout("lost again"))
    assert asyncio.run(run()) == 7
    assert [r.headers.get("Idempotency-Key") for r in script.seen] == ["k-3", "k-3", None]


def test_an_invalid_key_is_refused_before_sending() -> None:
    script = Script(ok())
    with mock_client(script) as vcr:
        for bad in ("", "x" * 129, " padded"):
            with pytest.raises(ValueError, match="idempotency key"):
                vcr.create_sale(a_sale(), idempotency_key=bad)
    assert script.seen == []


# --- idempotency keys ---


def test_a_derived_key_is_stable_distinct_and_short() -> None:
    key = idempotency_key_for("order-1042")
    assert key == idempotency_key_for("order-1042") == idempotency_key_for("order-1042", *())
    assert key != idempotency_key_for("order-1043")
    assert idempotency_key_for("a", "bc") != idempotency_key_for("ab", "c")
    assert idempotency_key_for(1042, "refund", 1) != idempotency_key_for(1042, "refund", 2)
    assert idempotency_key_for(1042) == idempotency_key_for("1042")
    assert len(idempotency_key_for("x" * 10_000)) == len(key) == 70 and key.startswith("order-")
    # a golden vector: the derivation may never change, or keys stored by integrators would stop matching
    assert key == "order-e32ff927c95e7e9ddde0ccd2e7f2da05b6738ad0be5ce5b8866dfc079508e3e2"
    with pytest.raises(ValueError, match="order_id"):
        idempotency_key_for("")


# --- the API key ---


def test_the_api_key_is_in_no_repr_error_or_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    script = Script(httpx.ReadTimeout("lost"), httpx.Response(401, json={"error": "Missing or invalid API key"}))
    with mock_client(script) as vcr:
        texts = [repr(vcr), str(vcr), repr(vcr._http.auth)]
        with pytest.raises(ApiError) as info:
            vcr.create_sale(a_sale(), idempotency_key="k-4")
    assert script.seen[0].headers["X-API-KEY"] == KEY  # it is sent …
    texts += [str(info.value), repr(info.value), caplog.text]
    assert "retrying POST /sales" in caplog.text
    assert not [t for t in texts if KEY in t]  # … and shown nowhere


def test_the_async_client_hides_the_key_too() -> None:
    async def shown() -> str:
        async with AsyncClient("http://vcr.test/api/v1/", KEY) as vcr:
            return repr(vcr)

    assert asyncio.run(shown()) == "AsyncClient(base_url='http://vcr.test/api/v1', api_key=<hidden>)"


def test_receipt_time_stays_the_contracts_digits_and_reads_as_an_aware_datetime() -> None:
    receipt = sdk.Receipt.model_validate(
        {"srcId": 1, "time": "1796642768668", "tin": "40361207", "fiscal": None, "sn": "8327456E",
         "address": None, "total": 999.99, "taxpayer": "T", "change": 0}
    )  # fmt: skip
    assert receipt.time == "1796642768668"
    assert receipt.issued_at == datetime(2026, 12, 7, 11, 26, 8, 668000, tzinfo=UTC)


def test_every_call_has_a_timeout_by_default_and_the_base_url_gains_the_api_prefix() -> None:
    with Client("http://vcr.test/", KEY) as vcr:
        assert vcr._http.timeout == httpx.Timeout(30.0, connect=5.0)
        assert vcr.base_url == "http://vcr.test/api/v1"
    with Client("http://vcr.test/api/v1", KEY, timeout=None) as vcr:  # None is the default, never "no timeout"
        assert vcr._http.timeout == httpx.Timeout(30.0, connect=5.0) and vcr.base_url == "http://vcr.test/api/v1"
    with Client("http://vcr.test", KEY, timeout=3) as vcr:
        assert vcr._http.timeout == httpx.Timeout(3)
    with pytest.raises(ValueError, match="api_key"):
        Client("http://vcr.test", "")
