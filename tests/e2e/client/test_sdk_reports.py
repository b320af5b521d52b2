"""X and Z reports and the cursor lists through a real ``openvcr serve`` (one per module) with the SDK, sync and
async: X then Z with totals equal to what the API sold, the shift closed by Z, the lists paged to the end,
and ``openvcr verify`` (database and exported file) accepting the reports it recomputes."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from openvcr.client import (
    Amount,
    BadRequestError,
    Buyer,
    CashierRef,
    ConflictError,
    NotFoundError,
    PrepaymentAmount,
    PrepaymentCreate,
    PrepaymentRefundCreate,
    ReportCreate,
    SaleCreate,
    SaleRefundCreate,
    idempotency_key_for,
)
from tests.e2e.client.test_sdk_live import Connect, Server, connect, tea_line, unique
from tests.e2e.server import init_json, openvcr_env, run_cli, serve

__all__ = ["connect"]


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str], Path]]:
    tmp = tmp_path_factory.mktemp("reports")
    return f"sqlite:///{tmp / 'reports.db'}", openvcr_env(tmp / "sandbox"), tmp


@pytest.fixture(scope="module")
def server(database: tuple[str, dict[str, str], Path]) -> Iterator[Server]:
    url, env, _ = database
    init = init_json(url, env)
    keys = run_cli(["keys", "create", "--database", url, "--scope", "catalog:read", "--json"], env)
    assert keys.returncode == 0, keys.stderr
    with serve(url, env) as (base, _process):
        yield Server(base, init["apiKey"], str(json.loads(keys.stdout)["key"]), init["crn"], "", "")


def sell(vcr: Any, cash: str) -> Any:
    body = SaleCreate(cashier=CashierRef(id=1), items=[tea_line(cash)], amount=Amount(cash=Decimal(cash)))
    return vcr.create_sale(body)


def close_shift(vcr: Any) -> None:
    """Start from a closed shift, whatever earlier tests of the module left open."""
    with contextlib.suppress(ConflictError):
        vcr.take_z_report()


def test_x_then_z_state_what_the_api_sold_and_z_closes_the_shift(connect: Connect, server: Server) -> None:
    vcr, recorder = connect()
    close_shift(vcr)
    sales = [sell(vcr, price) for price in ("700", "1200.50", "99.99")]
    refund = vcr.refund_sale(SaleRefundCreate(cashier=CashierRef(id=1), sale_id=sales[0].sale_id))
    prepayment = vcr.create_prepayment(
        PrepaymentCreate(
            cashier=CashierRef(id=1),
            amount=PrepaymentAmount(non_cash=Decimal("5000")),
            buyer=Buyer(phone="+37491000001"),
        )
    )
    returned = vcr.refund_prepayment(
        PrepaymentRefundCreate(cashier=CashierRef(id=1), prepayment_id=prepayment.prepayment_id)
    )
    sold = sum((vcr.get_sale(s.sale_id).receipt.total for s in sales), Decimal(0))
    refunded = vcr.get_sale_refund(refund.sale_refund_id).cash_amount

    x = vcr.take_x_report(ReportCreate(cashier=CashierRef(id=1)))
    assert (x.type, x.closes_shift, x.cashier_id) == ("x", False, 1)
    documents = x.totals.documents
    assert (documents.sale.count, documents.sale.total) == (3, sold) == (3, Decimal("2000.49"))
    assert (documents.sale_refund.count, documents.sale_refund.total) == (1, refunded)
    assert documents.prepayment.total == Decimal("5000") == documents.prepayment_refund.total
    assert x.totals.tenders.prepayment.non_cash == Decimal("5000")
    assert x.totals.net_cash == sold - refunded
    assert x.totals.tax_regimes["vat"].sales == sold
    assert x.totals.receipts.first == sales[0].src_receipt_id
    assert x.totals.receipts.last == returned.receipt_id
    assert isinstance(x.totals.vat.sales, Decimal) and x.totals.vat.sales > 0

    key = idempotency_key_for(unique("close"))
    z = vcr.take_z_report(idempotency_key=key)
    assert (z.type, z.shift, z.closes_shift, z.totals) == ("z", x.shift, True, x.totals)
    assert vcr.take_z_report(idempotency_key=key) == z  # a replay
    assert recorder.seen[-1].headers["Idempotency-Key"] == key
    with pytest.raises(ConflictError, match="shift is empty"):
        vcr.take_z_report()
    assert vcr.get_report(z.id) == z
    after = vcr.take_x_report()
    assert (after.shift, after.totals.entries.count) == (z.shift + 1, 0)

    page = vcr.list_reports(type="z", limit=1)
    assert [r.id for r in page.items] == [z.id]
    today = datetime.now(UTC).date()
    assert z.id in [r.id for r in vcr.list_reports(from_=today, to=today, limit=500).items]
    with pytest.raises(NotFoundError):
        vcr.get_report(10**9)
    pdf = httpx.get(f"{server.base}/api/v1/reports/{z.id}.pdf", headers={"X-API-KEY": server.api_key})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_lists_page_through_every_sale_and_refund(connect: Connect) -> None:
    vcr, _ = connect()
    made = [sell(vcr, str(100 + i)) for i in range(4)]
    refund = vcr.refund_sale(SaleRefundCreate(cashier=CashierRef(id=1), sale_id=made[0].sale_id))
    seen: list[Any] = []
    cursor = None
    while True:
        page = vcr.list_sales(cursor=cursor, limit=3, from_=datetime.now(UTC) - timedelta(hours=1))
        seen += page.items
        cursor = page.next_cursor
        if cursor is None:
            break
    ids = [item.id for item in seen]
    assert ids == sorted(ids, reverse=True) and len(ids) == len(set(ids))
    by_id = {item.id: item for item in seen}
    for sale in made:
        item = by_id[sale.sale_id]
        assert (item.url_id, item.receipt_url, item.receipt_id) == (sale.url_id, sale.receipt_url, sale.src_receipt_id)
        assert item.state == "completed"
    refunds = vcr.list_sale_refunds(state="completed", limit=500).items
    assert refunds[0].id == refund.sale_refund_id and refunds[0].sale_id == made[0].sale_id
    assert vcr.list_prepayment_refunds(state="dropped").items == []
    with pytest.raises(BadRequestError) as caught:
        vcr.list_sales(limit=501)
    assert caught.value.issues[0].path[-1] == "limit"
    with pytest.raises(BadRequestError):
        vcr.list_sales(cursor="not-a-cursor")


def test_verify_recomputes_every_report_in_the_database_and_in_an_export(
    connect: Connect, database: tuple[str, dict[str, str], Path]
) -> None:
    vcr, _ = connect()
    sell(vcr, "10")
    vcr.take_x_report()
    vcr.take_z_report()
    url, env, tmp = database
    done = run_cli(["verify", "--database", url], env)
    assert done.returncode == 0, done.stdout + done.stderr
    export = tmp / f"{unique('journal')}.jsonl"
    done = run_cli(["export", "--output", str(export), "--database", url], env)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in export.read_text(encoding="utf-8").splitlines()]
    assert {"x_report", "z_report"} <= {line["entry"]["type"] for line in lines if line["kind"] == "entry"}
    done = run_cli(["verify", str(export)], env)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_command_line_takes_and_lists_reports(connect: Connect, database: tuple[str, dict[str, str], Path]) -> None:
    vcr, _ = connect()
    url, env, _ = database
    sell(vcr, "25")
    key = unique("cli")
    done = run_cli(["reports", "z", "--register", "1", "--database", url, "--idempotency-key", key], env)
    assert done.returncode == 0, done.stderr
    z = json.loads(done.stdout)
    assert z["type"] == "z" and z["totals"]["documents"]["sale"]["count"] >= 1
    assert vcr.take_z_report(idempotency_key=key).id == z["id"]  # one key, whether CLI or API
    assert vcr.get_report(z["id"]).totals.documents.sale.count == z["totals"]["documents"]["sale"]["count"]
    again = run_cli(["reports", "z", "--register", "1", "--database", url], env)
    assert again.returncode == 1 and "shift is empty" in again.stderr
    listed = run_cli(["reports", "list", "--register", "1", "--database", url, "--json"], env)
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)[0]["id"] == z["id"]
