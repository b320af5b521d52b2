"""Sales routes of VCR API v1: ``POST /sales``, ``GET /sales/{id}``, ``POST /sales/refund``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from starlette.responses import Response

from openvcr.api.auth import require
from openvcr.api.context import AppContext, get_context
from openvcr.api.idempotency import IDEMPOTENCY_DOC, IdempotencyKey, fiscal_response, request_key
from openvcr.api.params import ResourceId
from openvcr.api.routing import OneHopRoute
from openvcr.documents.engine import receipt_out, receipt_url
from openvcr.documents.schemas import CashierBrief, ReceiptOut
from openvcr.registers.models import Principal
from openvcr.sales.models import SaleLine
from openvcr.sales.schemas import (
    DepartmentBrief,
    OfferBrief,
    RefundItemOut,
    RefundOut,
    SaleCreate,
    SaleCreated,
    SaleDetail,
    SaleItemOut,
    SaleRefundCreate,
    SaleRefundCreated,
    SaleRefundStatus,
)
from openvcr.sales.service import SalesService
from openvcr.schemas import entry_list, iso_ms

router = APIRouter(prefix="/api/v1", tags=["sales"], route_class=OneHopRoute)

Ctx = Annotated[AppContext, Depends(get_context)]
SalesWriter = Annotated[Principal, Depends(require("sales:write"))]
SalesReader = Annotated[Principal, Depends(require("sales:read"))]


def sales_service(ctx: AppContext) -> SalesService:
    return SalesService(ctx.engine)


@router.post(
    "/sales",
    response_model=SaleCreated,
    summary="Register a sale with the tax authority and get its fiscal receipt",
    responses={200: IDEMPOTENCY_DOC},
)
def create_sale(body: SaleCreate, principal: SalesWriter, ctx: Ctx, idempotency_key: IdempotencyKey = None) -> Response:
    key = request_key(principal, "POST /sales", idempotency_key, body)
    return fiscal_response(sales_service(ctx).create_sale(principal.register_id, body, key))


def _receipt(stored: dict[str, Any] | None) -> ReceiptOut | None:
    data = receipt_out(stored)
    return ReceiptOut(**data) if data else None


@router.get("/sales/{sale_id}", response_model=SaleDetail, summary="One sale with its receipt and refunds")
def get_sale(sale_id: ResourceId, principal: SalesReader, ctx: Ctx) -> SaleDetail:
    view = sales_service(ctx).sale_detail(principal.register_id, sale_id)
    sale, cashier = view.sale, view.cashier
    return SaleDetail(
        id=sale.id,
        fiscal_status=view.state,
        created_at=iso_ms(view.created_at),
        buyer_tin=sale.buyer_tin,
        comment=sale.comment,
        cash_amount=sale.cash,
        non_cash_amount=sale.non_cash,
        prepayment_amount=sale.prepayment,
        compensation_amount=sale.compensation,
        receipt=_receipt(view.receipt),
        receipt_url=receipt_url(ctx.settings.public_url, view.url_id, view.receipt, view.receipt_language),
        refunds=[
            RefundOut(
                non_cash_amount=refund.refund.non_cash + refund.refund.compensation,
                cash_amount=refund.refund.cash,
                receipt=_receipt(refund.receipt),
                receipt_url=receipt_url(
                    ctx.settings.public_url, refund.url_id, refund.receipt, refund.receipt_language
                ),
                items=[RefundItemOut(quantity=line.quantity) for line in refund.lines],
            )
            for refund in view.refunds
        ],
        cashier=CashierBrief(
            internal_id=cashier.id, desk_id=cashier.desk_id, name=entry_list(cashier.id, cashier.name)
        ),
        items=[_item(line) for line in view.lines],
    )


def _item(line: SaleLine) -> SaleItemOut:
    return SaleItemOut(
        src_id=line.line_no,
        quantity=line.quantity,
        price=line.price,
        unit=line.unit,
        discount=line.discount,
        discount_type=line.discount_type,
        additional_discount=line.additional_discount,
        additional_discount_type=line.additional_discount_type,
        department=DepartmentBrief(
            internal_id=line.department_id,
            tax_regime=line.department.tax_regime,
            title=entry_list(line.department_id, line.department.title),
        ),
        offer=OfferBrief(
            type=line.offer.type,
            classifier_code=line.offer.classifier_code,
            title=entry_list(line.offer_id or 0, line.offer.title.texts),
        ),
    )


@router.post(
    "/sales/refund",
    response_model=SaleRefundCreated,
    summary="Refund a sale (all of it, or some lines and quantities)",
    responses={200: IDEMPOTENCY_DOC},
)
def refund_sale(
    body: SaleRefundCreate, principal: SalesWriter, ctx: Ctx, idempotency_key: IdempotencyKey = None
) -> Response:
    key = request_key(principal, "POST /sales/refund", idempotency_key, body)
    return fiscal_response(sales_service(ctx).refund_sale(principal.register_id, body, key))


@router.get(
    "/sales/refunds/{refund_id}",
    response_model=SaleRefundStatus,
    summary="One sale refund and whether it is fiscalized (the statusUrl of a pending refund)",
)
def get_sale_refund(refund_id: ResourceId, principal: SalesReader, ctx: Ctx) -> SaleRefundStatus:
    view = sales_service(ctx).refund_detail(principal.register_id, refund_id)
    refund = view.refund
    return SaleRefundStatus(
        id=refund.id,
        sale_id=refund.sale_id,
        fiscal_status=view.state,
        cash_amount=refund.cash,
        non_cash_amount=refund.non_cash + refund.compensation,
        receipt=_receipt(view.receipt),
        receipt_url=receipt_url(ctx.settings.public_url, view.url_id, view.receipt, view.receipt_language),
    )
