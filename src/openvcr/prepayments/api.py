"""Prepayment routes of VCR API v1.

- ``POST /prepayments`` (scope ``prepayments:write``, ``Idempotency-Key``): register an advance payment.
- ``GET /prepayments/balance?customerRef=`` (``prepayments:read``): the customer's open balance in the
  business entity's ledger and its open prepayments, oldest first (FIFO: the order sales consume them).
- ``GET /prepayments?customerRef=&state=open|consumed|refunded|all`` (``prepayments:read``): at most 500
  prepayments of the entity, **newest first**; both filters optional (``state`` defaults to ``all``).
- ``GET /prepayments/{id}`` (``prepayments:read``): one prepayment with its ledger state and refund.
- ``POST /prepayments/refund`` (``prepayments:write``, ``Idempotency-Key``): refund the whole remainder.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from openvcr.api.auth import require
from openvcr.api.context import AppContext, get_context
from openvcr.api.idempotency import IDEMPOTENCY_DOC, IdempotencyKey, fiscal_response, request_key
from openvcr.api.params import ResourceId
from openvcr.api.routing import OneHopRoute
from openvcr.documents.engine import receipt_out, receipt_url
from openvcr.documents.schemas import CashierBrief, ReceiptOut
from openvcr.prepayments.models import LedgerEntry
from openvcr.prepayments.schemas import (
    OpenPrepayment,
    PrepaymentBalance,
    PrepaymentCreate,
    PrepaymentCreated,
    PrepaymentDetail,
    PrepaymentRefundCreate,
    PrepaymentRefundCreated,
    PrepaymentRefundOut,
    PrepaymentRefundStatus,
    PrepaymentRow,
    StateFilter,
)
from openvcr.prepayments.service import PrepaymentsService, normalize_customer_ref
from openvcr.registers.models import Principal
from openvcr.schemas import entry_list, iso_ms

router = APIRouter(prefix="/api/v1", tags=["prepayments"], route_class=OneHopRoute)

Ctx = Annotated[AppContext, Depends(get_context)]
Writer = Annotated[Principal, Depends(require("prepayments:write"))]
Reader = Annotated[Principal, Depends(require("prepayments:read"))]


def _service(ctx: AppContext) -> PrepaymentsService:
    return PrepaymentsService(ctx.engine)


def _receipt(stored: dict[str, Any] | None) -> ReceiptOut | None:
    data = receipt_out(stored)
    return ReceiptOut(**data) if data else None


@router.post(
    "/prepayments",
    response_model=PrepaymentCreated,
    summary="Register an advance payment (SRC mode 3) for a buyer",
    responses={200: IDEMPOTENCY_DOC},
)
def create_prepayment(
    body: PrepaymentCreate, principal: Writer, ctx: Ctx, idempotency_key: IdempotencyKey = None
) -> Response:
    key = request_key(principal, "POST /prepayments", idempotency_key, body)
    return fiscal_response(_service(ctx).create_prepayment(principal.register_id, body, key))


@router.get(
    "/prepayments/balance",
    response_model=PrepaymentBalance,
    summary="A customer's open prepayment balance in the business entity's ledger (FIFO order)",
)
def prepayment_balance(
    principal: Reader,
    ctx: Ctx,
    customer_ref: Annotated[str | None, Query(alias="customerRef", description="TIN, E.164 phone or e-mail")] = None,
) -> PrepaymentBalance:
    ref = normalize_customer_ref(customer_ref)
    balance, entries = _service(ctx).balance(principal.entity_id, ref)
    return PrepaymentBalance(
        entity_id=principal.entity_id,
        customer_ref=ref,
        balance=balance,
        open_prepayments=[
            OpenPrepayment(
                prepayment_id=e.prepayment_id,
                created_at=iso_ms(e.created_at),
                cash_amount=e.cash,
                non_cash_amount=e.non_cash,
                buyer_tin=e.buyer_tin,
                remaining=e.remaining,
            )
            for e in entries
        ],
    )


def _row(entry: LedgerEntry) -> PrepaymentRow:
    return PrepaymentRow(
        id=entry.prepayment_id,
        created_at=iso_ms(entry.created_at),
        buyer_tin=entry.buyer_tin,
        cash_amount=entry.cash,
        non_cash_amount=entry.non_cash,
        remaining=entry.remaining,
        state=entry.state,
    )


@router.get(
    "/prepayments",
    response_model=list[PrepaymentRow],
    summary="The business entity's prepayments, newest first (at most 500)",
)
def list_prepayments(
    principal: Reader,
    ctx: Ctx,
    customer_ref: Annotated[str | None, Query(alias="customerRef", description="TIN, E.164 phone or e-mail")] = None,
    state: Annotated[StateFilter, Query(description="open, consumed, refunded or all (default)")] = "all",
) -> list[PrepaymentRow]:
    ref = normalize_customer_ref(customer_ref) if customer_ref is not None else None
    return [_row(e) for e in _service(ctx).prepayments(principal.entity_id, ref, state)]


@router.get(
    "/prepayments/{prepayment_id}",
    response_model=PrepaymentDetail,
    summary="One prepayment with its receipt, refund and remaining amount",
)
def get_prepayment(prepayment_id: ResourceId, principal: Reader, ctx: Ctx) -> PrepaymentDetail:
    view = _service(ctx).prepayment(principal.entity_id, prepayment_id)
    prepayment, entry, refund, cashier = view.prepayment, view.entry, view.refund, view.cashier
    return PrepaymentDetail(
        id=prepayment.id,
        fiscal_status=view.state,
        created_at=iso_ms(view.created_at),
        buyer_tin=prepayment.buyer_tin,
        cash_amount=prepayment.cash,
        non_cash_amount=prepayment.non_cash,
        receipt=_receipt(view.receipt),
        receipt_url=receipt_url(ctx.settings.public_url, view.url_id, view.receipt, view.receipt_language),
        refund=None
        if refund is None
        else PrepaymentRefundOut(
            non_cash_amount=refund.refund.non_cash,
            cash_amount=refund.refund.cash,
            receipt=_receipt(refund.receipt),
            receipt_url=receipt_url(ctx.settings.public_url, refund.url_id, refund.receipt, refund.receipt_language),
        ),
        cashier=CashierBrief(
            internal_id=cashier.id, desk_id=cashier.desk_id, name=entry_list(cashier.id, cashier.name)
        ),
        remaining=entry.remaining,
        state=entry.state,
    )


@router.post(
    "/prepayments/refund",
    response_model=PrepaymentRefundCreated,
    summary="Refund the whole remaining amount of a prepayment",
    responses={200: IDEMPOTENCY_DOC},
)
def refund_prepayment(
    body: PrepaymentRefundCreate, principal: Writer, ctx: Ctx, idempotency_key: IdempotencyKey = None
) -> Response:
    key = request_key(principal, "POST /prepayments/refund", idempotency_key, body)
    return fiscal_response(_service(ctx).refund_prepayment(principal.register_id, body, key))


@router.get(
    "/prepayments/refunds/{refund_id}",
    response_model=PrepaymentRefundStatus,
    summary="One prepayment refund and whether it is fiscalized (the statusUrl of a pending refund)",
)
def get_prepayment_refund(refund_id: ResourceId, principal: Reader, ctx: Ctx) -> PrepaymentRefundStatus:
    view = _service(ctx).refund_detail(principal.entity_id, refund_id)
    refund = view.refund
    return PrepaymentRefundStatus(
        id=refund.id,
        prepayment_id=refund.prepayment_id,
        fiscal_status=view.state,
        cash_amount=refund.cash,
        non_cash_amount=refund.non_cash,
        receipt=_receipt(view.receipt),
        receipt_url=receipt_url(ctx.settings.public_url, view.url_id, view.receipt, view.receipt_language),
    )
