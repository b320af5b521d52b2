"""``PendingError`` from a real server whose tax authority (an SRC sandbox run as its own process) is down, and
the integrator's way out: follow ``pending``, then resubmit with the same idempotency key once SRC is back.

The register has late fiscalization off (the default): a document SRC could not take is dropped, the answer is
a 502 with ``mayResubmit: true``, and the dropped document releases its key.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import pytest

from openvcr.client import (
    AsyncClient,
    AutoSettle,
    CashierRef,
    Client,
    DepartmentRef,
    FiscalizationPendingError,
    OfferRef,
    SaleCreate,
    SaleDetail,
    SaleItem,
    idempotency_key_for,
)
from tests.e2e.sales.test_late_fiscalization import sandbox_process
from tests.e2e.server import free_port, init_json, openvcr_env, serve

SALE = SaleCreate(
    cashier=CashierRef(id=1),
    items=[
        SaleItem(
            offer=OfferRef(external_id="SKU-002"),
            department=DepartmentRef(id=1),
            quantity=Decimal(1),
            price=Decimal("1500"),
            unit="unit",
        )
    ],
    auto_settle=AutoSettle(tender="nonCash"),
)


def test_src_down_gives_a_pending_error_and_the_same_key_registers_once_src_is_back(tmp_path: Path) -> None:
    port = free_port()
    env = openvcr_env(
        tmp_path / "unused",
        OPENVCR_SRC_MODE="remote",
        OPENVCR_SRC_URL=f"http://127.0.0.1:{port}/taxsystem-rs-vcr",
        OPENVCR_SRC_TIMEOUT_SECONDS="1",
        OPENVCR_SRC_CONNECT_TIMEOUT_SECONDS="1",
    )
    database = f"sqlite:///{tmp_path / 'pending.db'}"
    with sandbox_process(tmp_path / "src", port, openvcr_env(tmp_path / "unused")):
        init = init_json(database, env)
    keys = [idempotency_key_for("order-7", "sync"), idempotency_key_for("order-7", "async")]
    with serve(database, env) as (base, _process):
        with Client(base, init["apiKey"]) as vcr:
            with pytest.raises(FiscalizationPendingError) as info:
                vcr.create_sale(SALE, idempotency_key=keys[0])
            error = info.value
            assert error.status == 502 and error.may_resubmit and error.request_id
            assert error.pending.type == "sale" and error.pending.status_url == f"/api/v1/sales/{error.pending.id}"
            status = vcr.pending_status(error.pending)
            assert isinstance(status, SaleDetail) and status.fiscal_status == "dropped" and status.receipt is None

        async def async_pending() -> str | None:
            async with AsyncClient(base, init["apiKey"]) as avcr:
                with pytest.raises(FiscalizationPendingError) as ainfo:
                    await avcr.create_sale(SALE, idempotency_key=keys[1])
                return (await avcr.pending_status(ainfo.value.pending)).fiscal_status

        assert asyncio.run(async_pending()) == "dropped"

        with (
            sandbox_process(tmp_path / "src", port, openvcr_env(tmp_path / "unused")),
            Client(base, init["apiKey"]) as vcr,
        ):
            sale = vcr.create_sale(SALE, idempotency_key=keys[0])  # the dropped document released the key
            assert vcr.create_sale(SALE, idempotency_key=keys[0]) == sale  # and now it holds this one
            detail = vcr.get_sale(sale.sale_id)
            assert detail.fiscal_status == "completed" and detail.receipt is not None
            assert detail.receipt.total == Decimal(1500) and sale.sale_id != error.pending.id
