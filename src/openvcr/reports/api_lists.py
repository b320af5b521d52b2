"""Cursor lists of fiscal documents for integrators (VCR API v1, OpenVCR additions).

- ``GET /sales`` and ``GET /sales/refunds`` (scope ``sales:read``), ``GET /prepayments/refunds``
  (``prepayments:read``), each with ``from``, ``to`` (``YYYY-MM-DD`` or an ISO-8601 date-time with an offset,
  both included), ``state`` (a ``fiscalStatus``: pending, sent, completed, in_doubt, deferred, dropped; all when
  omitted), ``cursor`` (the previous page's ``nextCursor``) and ``limit`` (1 … 500, default 100). Newest first;
  only the key's register. Each item: ``id``, ``urlId``, ``receiptUrl``, ``total``, ``state``, ``createdAt``,
  ``receiptId`` (and a refund's ``saleId`` / ``prepaymentId``).
- Registered before the sales and prepayments routers: ``/sales/{id}`` would take ``refunds`` as an id.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from openvcr.api.auth import require
from openvcr.api.context import AppContext, get_context
from openvcr.api.routing import OneHopRoute
from openvcr.documents.engine import receipt_url
from openvcr.documents.models import FiscalStatus
from openvcr.registers.models import Principal
from openvcr.reports.api import CursorParam, From, Limit, To
from openvcr.reports.models import DEFAULT_LIMIT, ListKind
from openvcr.reports.schemas import DocumentPage, ListedDocumentOut
from openvcr.reports.service import DocumentLists, decode_cursor, encode_cursor, period_of

router = APIRouter(prefix="/api/v1", tags=["lists"], route_class=OneHopRoute)

Ctx = Annotated[AppContext, Depends(get_context)]
SalesReader = Annotated[Principal, Depends(require("sales:read"))]
PrepaymentsReader = Annotated[Principal, Depends(require("prepayments:read"))]
State = Annotated[FiscalStatus | None, Query(description="Only documents in this fiscal status")]


def _page(
    ctx: AppContext,
    principal: Principal,
    kind: ListKind,
    state: FiscalStatus | None,
    from_: str | None,
    to: str | None,
    cursor: str | None,
    limit: int,
) -> DocumentPage:
    period = period_of(from_, to)
    after = decode_cursor(cursor)
    page = DocumentLists(ctx.db).list(
        principal.register_id, kind, None if state is None else (state,), period, after, limit
    )
    base = ctx.settings.public_url
    return DocumentPage(
        items=[
            ListedDocumentOut.of(row, receipt_url(base, row.url_id, row.receipt, row.receipt_language))
            for row in page.items
        ],
        next_cursor=None if page.next_cursor is None else encode_cursor(page.next_cursor),
    )


@router.get("/sales", response_model=DocumentPage, summary="The register's sales, newest first, by cursor")
def list_sales(
    principal: SalesReader,
    ctx: Ctx,
    state: State = None,
    from_: From = None,
    to: To = None,
    cursor: CursorParam = None,
    limit: Limit = DEFAULT_LIMIT,
) -> DocumentPage:
    return _page(ctx, principal, "sale", state, from_, to, cursor, limit)


@router.get("/sales/refunds", response_model=DocumentPage, summary="The register's sale refunds, by cursor")
def list_sale_refunds(
    principal: SalesReader,
    ctx: Ctx,
    state: State = None,
    from_: From = None,
    to: To = None,
    cursor: CursorParam = None,
    limit: Limit = DEFAULT_LIMIT,
) -> DocumentPage:
    return _page(ctx, principal, "sale_refund", state, from_, to, cursor, limit)


@router.get("/prepayments/refunds", response_model=DocumentPage, summary="The register's prepayment refunds, by cursor")
def list_prepayment_refunds(
    principal: PrepaymentsReader,
    ctx: Ctx,
    state: State = None,
    from_: From = None,
    to: To = None,
    cursor: CursorParam = None,
    limit: Limit = DEFAULT_LIMIT,
) -> DocumentPage:
    return _page(ctx, principal, "prepayment_refund", state, from_, to, cursor, limit)
