"""``openvcr.client`` against a real ``openvcr serve`` (one per module): every method of ``Client`` and of
``AsyncClient`` (each test runs with both), the error paths, idempotency keys, and retries after network
errors injected by a transport that wraps the real one (the request reaches the server, the answer is lost).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from openvcr.client import (
    Amount,
    AsyncClient,
    AuthenticationError,
    AutoSettle,
    BadRequestError,
    Buyer,
    CashierCreate,
    CashierRef,
    Client,
    ConflictError,
    DepartmentCreate,
    DepartmentRef,
    IdempotencyMismatchError,
    LocalizedName,
    LocalizedText,
    LocalizedTitle,
    NetworkError,
    NewOffer,
    NotFoundError,
    OfferCreate,
    OfferRef,
    Pending,
    PermissionDeniedError,
    PrepaymentAmount,
    PrepaymentCreate,
    PrepaymentRefundCreate,
    ReceiptEmail,
    RefundItem,
    SaleCreate,
    SaleCreated,
    SaleDetail,
    SaleItem,
    SaleRefundCreate,
    UniversalTitle,
    idempotency_key_for,
)
from tests.e2e.server import init_json, openvcr_env, run_cli, serve

ROOT = Path(__file__).resolve().parents[3]
USAGE = ROOT / "tests" / "client_usage" / "usage.py"


@dataclass(frozen=True)
class Server:
    base: str
    api_key: str
    read_only_key: str
    crn: str
    desk_id: str
    rate_date: str


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("sdk")
    database = f"sqlite:///{tmp / 'sdk.db'}"
    env = openvcr_env(tmp / "sandbox")
    init = init_json(database, env)
    done = run_cli(["rates", "set", "USD", "387.50", "--json", "--database", database], env)
    assert done.returncode == 0, done.stderr
    rate_date = str(json.loads(done.stdout)["rateDate"])  # the previous business day in Yerevan
    keys = run_cli(["keys", "create", "--database", database, "--scope", "catalog:read", "--json"], env)
    assert keys.returncode == 0, keys.stderr
    read_only = str(json.loads(keys.stdout)["key"])
    with serve(database, env) as (base, _process):
        yield Server(base, init["apiKey"], read_only, init["crn"], init["cashier"]["deskId"], rate_date)


class Recorder:
    """Wraps the real transport: keeps every request, and fails the first ones as scripted.

    ``"lose"``: the request goes to the server, which acts on it; its answer is dropped and a ``ReadTimeout``
    raised. ``"refuse"``: a ``ConnectError`` without sending anything.
    """

    def __init__(self, failures: list[str]) -> None:
        self.failures = list(failures)
        self.seen: list[httpx.Request] = []
        self.lost: list[bytes] = []

    def next_failure(self, request: httpx.Request) -> str | None:
        self.seen.append(request)
        return self.failures.pop(0) if self.failures else None


class SyncRecorder(Recorder, httpx.BaseTransport):
    def __init__(self, failures: list[str]) -> None:
        super().__init__(failures)
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        failure = self.next_failure(request)
        if failure == "refuse":
            raise httpx.ConnectError("connection refused (injected)", request=request)
        response = self.inner.handle_request(request)
        if failure == "lose":
            self.lost.append(response.read())
            response.close()
            raise httpx.ReadTimeout("answer lost (injected)", request=request)
        return response

    def close(self) -> None:
        self.inner.close()


class AsyncRecorder(Recorder, httpx.AsyncBaseTransport):
    def __init__(self, failures: list[str]) -> None:
        super().__init__(failures)
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        failure = self.next_failure(request)
        if failure == "refuse":
            raise httpx.ConnectError("connection refused (injected)", request=request)
        response = await self.inner.handle_async_request(request)
        if failure == "lose":
            self.lost.append(await response.aread())
            await response.aclose()
            raise httpx.ReadTimeout("answer lost (injected)", request=request)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


class AsyncBridge:
    """An ``AsyncClient`` driven from the synchronous tests: each coroutine method runs on the bridge's loop."""

    def __init__(self, client: AsyncClient, loop: asyncio.AbstractEventLoop) -> None:
        self.client = client
        self.loop = loop

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.client, name)
        if not inspect.iscoroutinefunction(attr):
            return attr

        def run(*args: Any, **kwargs: Any) -> Any:
            return self.loop.run_until_complete(attr(*args, **kwargs))

        return run


Connect = Callable[..., tuple[Any, Recorder]]


@pytest.fixture(params=["sync", "async"])
def connect(request: pytest.FixtureRequest, server: Server) -> Iterator[Connect]:
    """``connect(api_key=None, failures=[], **options)`` → (a client, sync or async, and its recorder)."""
    loop = asyncio.new_event_loop()
    opened: list[Any] = []

    def make(api_key: str | None = None, failures: list[str] | None = None, **options: Any) -> tuple[Any, Recorder]:
        options.setdefault("retry_backoff", 0.05)
        key = api_key or server.api_key
        if request.param == "sync":
            sync_recorder = SyncRecorder(failures or [])
            client = Client(server.base, key, transport=sync_recorder, **options)
            opened.append(client)
            return client, sync_recorder
        async_recorder = AsyncRecorder(failures or [])
        bridge = AsyncBridge(AsyncClient(server.base, key, transport=async_recorder, **options), loop)
        opened.append(bridge)
        return bridge, async_recorder

    yield make
    for client in opened:
        if isinstance(client, AsyncBridge):
            loop.run_until_complete(client.client.aclose())
        else:
            client.close()
    loop.close()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def tea_line(price: str = "700", quantity: str = "1") -> SaleItem:
    return SaleItem(
        offer=NewOffer(
            type="product",
            classifier_code="0902",
            title=UniversalTitle(content="Tea"),
            default_measure_unit="pc",
            default_department=DepartmentRef(id=1),
            external_id="SDK-TEA",
        ),
        department=DepartmentRef(id=1),
        quantity=Decimal(quantity),
        price=Decimal(price),
        unit="pc",
    )


def mouse_sale(price: str = "333.33", quantity: str = "3") -> SaleCreate:
    return SaleCreate(
        cashier=CashierRef(id=1),
        items=[
            SaleItem(
                offer=OfferRef(external_id="SKU-001"),
                department=DepartmentRef(id=1),
                quantity=Decimal(quantity),
                price=Decimal(price),
                unit="pc",
            )
        ],
        auto_settle=AutoSettle(tender="cash"),
    )


# --- account and catalog ---


def test_whoami_cashiers_and_departments(connect: Connect, server: Server) -> None:
    vcr, _ = connect()
    me = vcr.whoami()
    assert me.crn == server.crn and me.mode == "sandbox" and me.vcr_id > 0 and len(me.business_entity.tin) == 8
    cashiers = vcr.list_cashiers()
    assert server.desk_id in {c.desk_id for c in cashiers} and cashiers[0].internal_id == 1
    assert cashiers[0].name["hy"].content
    departments = vcr.list_departments()
    assert [d.tax_regime for d in departments][:1] == ["vat"] and departments[0].internal_id == 1


def test_create_a_cashier_and_a_department_with_armenian_names(connect: Connect) -> None:
    vcr, _ = connect()
    created = vcr.create_cashier(CashierCreate(name=LocalizedName(value=LocalizedText(hy="Արամ")), password="123456"))
    [listed] = [c for c in vcr.list_cashiers() if c.internal_id == created.id]
    assert listed.desk_id == created.desk_id
    assert (listed.name["hy"].content, listed.name["en"].content, listed.name["ru"].content) == ("Արամ", "Aram", "Арам")
    external_id = unique("dep")
    department = vcr.create_department(
        DepartmentCreate(
            tax_regime="turnover_tax", title=LocalizedName(value=LocalizedText(hy="Սրճարան")), external_id=external_id
        )
    )
    [shown] = [d for d in vcr.list_departments() if d.internal_id == department.department]
    assert shown.external_id == external_id and shown.tax_regime == "turnover_tax"
    assert shown.title["hy"].content == "Սրճարան" and shown.title["hy"].id > 0


def test_offers_create_read_list_rename_archive(connect: Connect) -> None:
    vcr, _ = connect()
    external_id = unique("SKU")
    offer = OfferCreate(
        type="product",
        classifier_code="0901",
        title=LocalizedTitle(content=LocalizedText(hy="Սուրճ", en="Coffee")),
        default_measure_unit="kg",
        default_department=DepartmentRef(id=1),
        external_id=external_id,
    )
    offer_id = vcr.create_offer(offer).offer_id
    got = vcr.get_offer(offer_id)
    assert got.external_id == external_id and got.default_department.internal_id == 1
    assert {t.language: t.content for t in got.title}["en"] == "Coffee"
    assert got.archived_at is None and got.created_at.tzinfo is not None
    assert [o.id for o in vcr.list_offers(external_id=external_id, type="product")] == [offer_id]
    assert vcr.list_offers(external_id=external_id, type="service") == []
    renamed = vcr.update_offer(offer_id, title=UniversalTitle(content="Lavazza"))
    assert {t.content for t in renamed.title} == {"Lavazza"}
    archived = vcr.archive_offer(offer_id)
    assert archived.archived_at is not None
    assert vcr.list_offers(external_id=external_id) == []
    assert [o.id for o in vcr.list_offers(external_id=external_id, include_archived=True)] == [offer_id]
    with pytest.raises(ConflictError) as info:
        vcr.create_offer(offer)  # the externalId is taken
    assert info.value.status == 409 and info.value.request_id


def test_search_the_classifier_and_read_an_exchange_rate(connect: Connect, server: Server) -> None:
    vcr, _ = connect()
    hits = vcr.search_classifier("coffee", type="product", language="en")
    assert "0901" in [h.code for h in hits[:5]]
    assert vcr.search_classifier("սուրճ", type="product")  # Armenian, the default language
    rate = vcr.exchange_rate("USD")
    assert rate.rate_per_unit == Decimal("387.5") and isinstance(rate.rate_per_unit, Decimal)
    assert (rate.currency, rate.amount, rate.rate_date.isoformat()) == ("USD", 1, server.rate_date)
    assert rate.source == "CBA" and rate.sale_date > rate.rate_date
    with pytest.raises(BadRequestError) as info:
        vcr.exchange_rate("AMD")
    assert info.value.issues and info.value.issues[0].path == ["currency"]


# --- sales ---


def test_a_sale_its_detail_two_refunds_and_a_third_refused(connect: Connect, server: Server) -> None:
    vcr, recorder = connect()
    key = idempotency_key_for(unique("order"))
    sale = vcr.create_sale(mouse_sale(), idempotency_key=key)
    assert sale.crn == server.crn and sale.fiscal and sale.url_id
    assert sale.receipt_url is None or sale.url_id in sale.receipt_url
    assert vcr.create_sale(mouse_sale(), idempotency_key=key) == sale  # a replay: the same document
    assert recorder.seen[-1].headers["Idempotency-Key"] == key
    detail = vcr.get_sale(sale.sale_id)
    assert detail.cash_amount == Decimal("999.99") and isinstance(detail.cash_amount, Decimal)
    assert detail.receipt is not None and detail.receipt.total == Decimal("999.99")
    assert detail.receipt.issued_at.tzinfo is not None and detail.fiscal_status == "completed"
    [line] = detail.items
    assert (line.src_id, line.quantity, line.price, line.unit) == (0, Decimal(3), Decimal("333.33"), "pc")
    first = vcr.refund_sale(
        SaleRefundCreate(
            cashier=CashierRef(desk_id=server.desk_id),
            sale_id=sale.sale_id,
            reason="defective_goods",
            items=[RefundItem(src_id=0, quantity=Decimal(1))],
        ),
        idempotency_key=idempotency_key_for(sale.sale_id, "refund", 1),
    )
    status = vcr.get_sale_refund(first.sale_refund_id)
    assert status.sale_id == sale.sale_id and status.cash_amount == Decimal("333.33")
    rest = vcr.refund_sale(SaleRefundCreate(cashier=CashierRef(id=1), sale_id=sale.sale_id))
    assert rest.sale_refund_id != first.sale_refund_id
    assert [r.items[0].quantity for r in vcr.get_sale(sale.sale_id).refunds] == [Decimal(1), Decimal(2)]
    with pytest.raises(ConflictError, match="already fully refunded"):
        vcr.refund_sale(SaleRefundCreate(cashier=CashierRef(id=1), sale_id=sale.sale_id))


def test_pending_status_reads_the_document_a_pending_error_points_at(connect: Connect) -> None:
    vcr, _ = connect()
    sale = vcr.create_sale(SaleCreate(cashier=CashierRef(id=1), items=[tea_line()], amount=Amount(cash=Decimal(1000))))
    pending = Pending(type="sale", id=sale.sale_id, status_url=f"/api/v1/sales/{sale.sale_id}", may_resubmit=False)
    status = vcr.pending_status(pending)
    assert isinstance(status, SaleDetail) and status.id == sale.sale_id
    assert status.receipt is not None and status.receipt.change == Decimal(300)


# --- prepayments ---


def test_a_prepayment_its_balance_lists_detail_and_refund(connect: Connect) -> None:
    vcr, _ = connect()
    phone = "+3749" + str(uuid.uuid4().int)[:7]
    created = vcr.create_prepayment(
        PrepaymentCreate(
            cashier=CashierRef(id=1),
            amount=PrepaymentAmount(cash=Decimal("1000.50"), non_cash=Decimal(500)),
            buyer=Buyer(phone=phone, receipt=ReceiptEmail(email="buyer@example.com", language="en")),
        ),
        idempotency_key=idempotency_key_for(phone, "deposit"),
    )
    balance = vcr.prepayment_balance(phone)
    assert balance.customer_ref == phone and balance.balance == Decimal("1500.50")
    assert [p.prepayment_id for p in balance.open_prepayments] == [created.prepayment_id]
    assert [p.id for p in vcr.list_prepayments(customer_ref=phone, state="open")] == [created.prepayment_id]
    assert vcr.list_prepayments(customer_ref=phone, state="refunded") == []
    assert created.prepayment_id in [p.id for p in vcr.list_prepayments()]
    detail = vcr.get_prepayment(created.prepayment_id)
    assert (detail.remaining, detail.state, detail.refund) == (Decimal("1500.50"), "open", None)
    refund = vcr.refund_prepayment(
        PrepaymentRefundCreate(cashier=CashierRef(id=1), prepayment_id=created.prepayment_id, reason="other"),
        idempotency_key=idempotency_key_for(phone, "refund"),
    )
    status = vcr.get_prepayment_refund(refund.prepayment_refund_id)
    assert status.prepayment_id == created.prepayment_id
    assert (status.cash_amount, status.non_cash_amount) == (Decimal("1000.50"), Decimal(500))
    assert vcr.get_prepayment(created.prepayment_id).state == "refunded"
    assert vcr.prepayment_balance(phone).balance == 0
    with pytest.raises(ConflictError):
        vcr.refund_prepayment(PrepaymentRefundCreate(cashier=CashierRef(id=1), prepayment_id=created.prepayment_id))


# --- errors ---


def test_a_400_carries_its_issues_and_spends_no_key(connect: Connect) -> None:
    vcr, _ = connect()
    key = idempotency_key_for(unique("order"))
    with pytest.raises(BadRequestError) as info:
        vcr.create_sale(mouse_sale(price="1.123456789", quantity="0"), idempotency_key=key)
    paths = sorted(tuple(map(str, issue.path)) for issue in info.value.issues)
    assert paths == [("items", "0", "price"), ("items", "0", "quantity")]
    assert info.value.status == 400 and info.value.request_id
    sale = vcr.create_sale(mouse_sale(), idempotency_key=key)  # the corrected body reuses the key
    assert vcr.get_sale(sale.sale_id).cash_amount == Decimal("999.99")


def test_401_403_404_and_422(connect: Connect, server: Server) -> None:
    stranger, _ = connect(api_key="ovcr_not-a-key")
    with pytest.raises(AuthenticationError) as unauthenticated:
        stranger.whoami()
    assert unauthenticated.value.status == 401
    reader, _ = connect(api_key=server.read_only_key)
    assert reader.list_offers()  # catalog:read is enough here …
    with pytest.raises(PermissionDeniedError):
        reader.get_sale(1)  # … not for sales
    vcr, _ = connect()
    with pytest.raises(NotFoundError) as missing:
        vcr.get_sale(10**9)
    assert missing.value.status == 404 and missing.value.request_id and missing.value.pending is None
    key = idempotency_key_for(unique("order"))
    vcr.create_sale(mouse_sale(), idempotency_key=key)
    with pytest.raises(IdempotencyMismatchError) as mismatch:
        vcr.create_sale(mouse_sale(price="333.34"), idempotency_key=key)
    assert mismatch.value.status == 422


# --- retries ---


def test_a_lost_answer_is_retried_with_the_same_key_and_yields_one_document(connect: Connect) -> None:
    vcr, recorder = connect(failures=["lose", "refuse"])
    key = idempotency_key_for(unique("order"))
    sale = vcr.create_sale(mouse_sale(), idempotency_key=key)
    assert len(recorder.seen) == 3 and {r.headers["Idempotency-Key"] for r in recorder.seen} == {key}
    assert len({r.content for r in recorder.seen}) == 1
    [lost] = recorder.lost  # the server registered the sale on the first attempt …
    assert SaleCreated.model_validate_json(lost) == sale  # … and answered the retry with the same document
    with pytest.raises(NotFoundError):
        vcr.get_sale(sale.sale_id + 1)  # one document, not two


def test_without_a_key_a_lost_answer_is_not_retried(connect: Connect) -> None:
    vcr, recorder = connect(failures=["lose"])
    with pytest.raises(NetworkError) as info:
        vcr.create_sale(mouse_sale())
    assert info.value.reached_server and len(recorder.seen) == 1 and "Idempotency-Key" not in recorder.seen[0].headers
    sale_id = int(recorder.lost[0].split(b'"saleId":')[1].split(b",")[0])
    assert vcr.get_sale(sale_id).fiscal_status == "completed"  # it was registered: why a key matters


def test_retries_give_up_after_max_retries(connect: Connect) -> None:
    vcr, recorder = connect(failures=["refuse"] * 3, max_retries=2)
    with pytest.raises(NetworkError) as info:
        vcr.create_sale(mouse_sale(), idempotency_key=idempotency_key_for(unique("order")))
    assert not info.value.reached_server and len(recorder.seen) == 3


# --- the integrator's usage file, run for real ---


def test_the_usage_file_runs_against_the_server(server: Server, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "VCR_BASE_URL": server.base, "VCR_API_KEY": server.api_key}
    done = subprocess.run(
        [sys.executable, str(USAGE), "--order", unique("order")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "sale" in done.stdout and "refund" in done.stdout
    assert server.api_key not in done.stdout + done.stderr
