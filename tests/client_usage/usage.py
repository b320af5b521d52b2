"""A web shop's fiscal step, written the way an integrator would write it with ``openvcr.client``.

It is type-checked with ``mypy --strict`` (``tests/unit/client/test_usage_types.py``) and run against a live
server (``tests/e2e/client/test_sdk_live.py``)::

    VCR_BASE_URL=http://127.0.0.1:8000 VCR_API_KEY=ovcr_… python tests/client_usage/usage.py --order 1042
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from dataclasses import dataclass
from decimal import Decimal

from openvcr.client import (
    Amount,
    ApiError,
    AsyncClient,
    BadRequestError,
    Buyer,
    CashierRef,
    Client,
    ConflictError,
    DepartmentRef,
    FiscalizationPendingError,
    LocalizedText,
    LocalizedTitle,
    NetworkError,
    NewOffer,
    OfferRef,
    PrepaymentBalance,
    ReceiptEmail,
    RefundItem,
    SaleCreate,
    SaleCreated,
    SaleDetail,
    SaleItem,
    SaleRefundCreate,
    WebhookVerificationError,
    idempotency_key_for,
    verify_webhook,
)


@dataclass(frozen=True)
class OrderLine:
    sku: str
    name_hy: str
    name_en: str
    unit_price: Decimal
    quantity: Decimal


@dataclass(frozen=True)
class Order:
    number: str
    email: str
    lines: tuple[OrderLine, ...]

    @property
    def total(self) -> Decimal:
        return sum((line.unit_price * line.quantity for line in self.lines), Decimal(0))


def sale_of(order: Order) -> SaleCreate:
    """The shop's order as a sale: catalogue items by SKU, new ones created on the fly."""
    items: list[SaleItem] = []
    for line in order.lines:
        offer: OfferRef | NewOffer
        if line.sku.startswith("SKU-"):
            offer = OfferRef(external_id=line.sku)
        else:
            offer = NewOffer(
                type="product",
                classifier_code="0901",
                title=LocalizedTitle(content=LocalizedText(hy=line.name_hy, en=line.name_en)),
                default_measure_unit="pc",
                default_department=DepartmentRef(id=1),
                external_id=line.sku,
            )
        items.append(
            SaleItem(
                offer=offer, department=DepartmentRef(id=1), quantity=line.quantity, price=line.unit_price, unit="pc"
            )
        )
    return SaleCreate(
        cashier=CashierRef(id=1),
        items=items,
        amount=Amount(non_cash=order.total),
        buyer=Buyer(email=order.email, receipt=ReceiptEmail(email=order.email, language="en")),
        comment=f"web order {order.number}",
    )


def register(vcr: Client, order: Order) -> SaleCreated | None:
    """Register the order's receipt once, however often this runs (the key is derived from the order)."""
    key = idempotency_key_for(order.number)
    try:
        return vcr.create_sale(sale_of(order), idempotency_key=key)
    except BadRequestError as error:
        for issue in error.issues:
            print(f"fix {'.'.join(str(p) for p in issue.path)}: {issue.message}", file=sys.stderr)
        raise
    except FiscalizationPendingError as error:
        if error.may_resubmit:
            print(f"order {order.number}: the tax authority registered nothing; retry later with the same key")
            return None
        status = vcr.pending_status(error.pending)
        print(f"order {order.number}: kept as {error.pending.type} {error.pending.id}, {status.fiscal_status}")
        return None
    except NetworkError as error:
        print(f"order {order.number}: no answer ({error}); running again is safe", file=sys.stderr)
        return None


def refund_one(vcr: Client, order: Order, sale: SaleCreated) -> Decimal:
    """The customer sends back one unit of the first line."""
    detail: SaleDetail = vcr.get_sale(sale.sale_id)
    first = detail.items[0]
    try:
        refund = vcr.refund_sale(
            SaleRefundCreate(
                cashier=CashierRef(id=1),
                sale_id=sale.sale_id,
                reason="customer_request",
                items=[RefundItem(src_id=first.src_id, quantity=Decimal(1))],
            ),
            idempotency_key=idempotency_key_for(order.number, "return", 1),
        )
    except ConflictError as error:
        print(f"nothing refunded: {error.message}")
        return Decimal(0)
    status = vcr.get_sale_refund(refund.sale_refund_id)
    return status.cash_amount + status.non_cash_amount


async def balances(base_url: str, api_key: str, customers: list[str]) -> list[PrepaymentBalance]:
    """The back office reads several customers' prepayment balances at once."""
    async with AsyncClient(base_url, api_key, user_agent="shop-backoffice/2.0") as vcr:
        return list(await asyncio.gather(*(vcr.prepayment_balance(c) for c in customers)))


def on_webhook(secret: str, signature: str | None, body: bytes, seen: set[str]) -> int:
    """The shop's webhook receiver: the HTTP status to answer one delivery (deduplicated on the event id)."""
    try:
        event = verify_webhook(secret, signature, body)
    except WebhookVerificationError:
        return 400
    if event.id not in seen and event.type == "sale.completed":
        seen.add(event.id)
        print(f"sale {event.data['saleId']} fiscalized: {event.data['receiptUrl']}")
    return 200


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--order", required=True)
    args = parser.parse_args()
    base_url, api_key = os.environ["VCR_BASE_URL"], os.environ["VCR_API_KEY"]
    order = Order(
        number=args.order,
        email="buyer@example.com",
        lines=(
            OrderLine("SKU-001", "Անլար մկնիկ", "Wireless mouse", Decimal("333.33"), Decimal(3)),
            OrderLine(f"BEANS-{args.order}", "Սուրճ", "Coffee beans", Decimal("4500"), Decimal("2")),
        ),
    )
    started = time.monotonic()
    with Client(base_url, api_key, user_agent="my-shop/1.0", timeout=20.0) as vcr:
        me = vcr.whoami()
        print(f"register {me.crn} of {me.business_entity.name} ({me.mode})")
        sale = register(vcr, order)
        if sale is None:
            return 1
        again = register(vcr, order)  # a second run (a retry, a double click) finds the same receipt
        assert again is not None and again.sale_id == sale.sale_id
        receipt = vcr.get_sale(sale.sale_id).receipt
        total = receipt.total if receipt else Decimal(0)
        print(f"sale {sale.sale_id}: receipt {sale.fiscal}, total {total} AMD, {sale.receipt_url or sale.url_id}")
        print(f"refund {refund_one(vcr, order, sale)} AMD")
    try:
        [balance] = asyncio.run(balances(base_url, api_key, ["buyer@example.com"]))
        print(f"prepayment balance {balance.balance} AMD in {len(balance.open_prepayments)} prepayment(s)")
    except ApiError as error:
        print(f"balance unavailable: {error}", file=sys.stderr)
    print(f"done in {time.monotonic() - started:.1f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
