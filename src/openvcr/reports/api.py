"""Shift report routes of VCR API v1 (OpenVCR additions).

- ``POST /reports/x`` and ``POST /reports/z`` (scope ``sales:write``, ``Idempotency-Key``), optional body
  ``{"cashier": {"id"} | {"deskId"}}``: take an X report (the open shift's totals; the shift stays open) or a Z
  report (the same, and the shift closes). A Z on an empty shift is a 409 and writes nothing.
- ``GET /reports?type=x|z&from=&to=&cursor=&limit=`` (``sales:read``): the register's reports, newest first,
  in pages of ``limit`` (1 … 500, default 100) with an opaque ``nextCursor``.
- ``GET /reports/{id}`` (``sales:read``): one report. ``GET /reports/{id}.pdf?format=a4|80mm&lang=`` and
  ``GET /reports/{id}.html?lang=``: the printable report (the ``.pdf``/``.html`` routes come first, or
  ``/reports/{id}`` would take ``5.pdf`` as an id).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from starlette.responses import HTMLResponse, Response

from openvcr.api.auth import require
from openvcr.api.context import AppContext, get_context
from openvcr.api.idempotency import IDEMPOTENCY_DOC, IdempotencyKey, fiscal_response, request_key
from openvcr.api.params import ResourceId
from openvcr.api.routing import OneHopRoute
from openvcr.receipts.api_pdf import page_format
from openvcr.receipts.i18n import language_of
from openvcr.registers.models import Principal
from openvcr.reports.models import DEFAULT_LIMIT, ReportType
from openvcr.reports.printable import render_report_html, render_report_pdf
from openvcr.reports.schemas import ReportCreate, ReportOut, ReportPage
from openvcr.reports.service import ReportsService, decode_cursor, encode_cursor, period_of

router = APIRouter(prefix="/api/v1", tags=["reports"], route_class=OneHopRoute)

Ctx = Annotated[AppContext, Depends(get_context)]
Writer = Annotated[Principal, Depends(require("sales:write"))]
Reader = Annotated[Principal, Depends(require("sales:read"))]
From = Annotated[str | None, Query(alias="from", description="YYYY-MM-DD or an ISO-8601 date-time with offset")]
To = Annotated[str | None, Query(alias="to", description="YYYY-MM-DD (the whole day) or a date-time, included")]
CursorParam = Annotated[str | None, Query(description="The nextCursor of the previous page")]
Limit = Annotated[int, Query(ge=1, le=500, description="Rows per page, 1 to 500")]


def _service(ctx: AppContext) -> ReportsService:
    return ReportsService(ctx.db, ctx.settings)


def _take(
    kind: ReportType, body: ReportCreate | None, principal: Principal, ctx: AppContext, key: str | None
) -> Response:
    body = body or ReportCreate()
    request = request_key(principal, f"POST /reports/{kind}", key, body)
    return fiscal_response(_service(ctx).take(principal.register_id, kind, request, body.cashier))


@router.post(
    "/reports/x",
    response_model=ReportOut,
    summary="Take an X report: the open shift's totals, without closing it",
    responses={200: IDEMPOTENCY_DOC},
)
def take_x(
    principal: Writer, ctx: Ctx, body: ReportCreate | None = None, idempotency_key: IdempotencyKey = None
) -> Response:
    return _take("x", body, principal, ctx, idempotency_key)


@router.post(
    "/reports/z",
    response_model=ReportOut,
    summary="Take a Z report: the open shift's totals, and close the shift",
    responses={200: IDEMPOTENCY_DOC, 409: {"description": "The shift is empty (nothing since the last Z)"}},
)
def take_z(
    principal: Writer, ctx: Ctx, body: ReportCreate | None = None, idempotency_key: IdempotencyKey = None
) -> Response:
    return _take("z", body, principal, ctx, idempotency_key)


@router.get("/reports", response_model=ReportPage, summary="The register's X and Z reports, newest first")
def list_reports(
    principal: Reader,
    ctx: Ctx,
    type: Annotated[Literal["x", "z"] | None, Query(description="x or z; both when omitted")] = None,
    from_: From = None,
    to: To = None,
    cursor: CursorParam = None,
    limit: Limit = DEFAULT_LIMIT,
) -> ReportPage:
    page = _service(ctx).list(principal.register_id, type, period_of(from_, to), decode_cursor(cursor), limit)
    return ReportPage(
        items=[ReportOut.of(r) for r in page.items],
        next_cursor=None if page.next_cursor is None else encode_cursor(page.next_cursor),
    )


@router.get("/reports/{report_id}.pdf", summary="The printable report as a PDF", response_class=Response)
def report_pdf(
    report_id: ResourceId,
    principal: Reader,
    ctx: Ctx,
    format: Annotated[str | None, Query(description="a4 (default) or 80mm")] = None,
    lang: Annotated[str | None, Query(description="hy (default), ru or en")] = None,
) -> Response:
    page = page_format(format)
    report, register = _service(ctx).printable(principal.register_id, report_id)
    data = render_report_pdf(report, register, language_of(lang), page)
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="report-{report.type}-{report.id}.pdf"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/reports/{report_id}.html", summary="The printable report as an HTML page", response_class=HTMLResponse)
def report_html(
    report_id: ResourceId,
    principal: Reader,
    ctx: Ctx,
    lang: Annotated[str | None, Query(description="hy (default), ru or en")] = None,
) -> HTMLResponse:
    report, register = _service(ctx).printable(principal.register_id, report_id)
    return HTMLResponse(render_report_html(report, register, language_of(lang)), headers={"Cache-Control": "no-store"})


@router.get("/reports/{report_id}", response_model=ReportOut, summary="One X or Z report")
def get_report(report_id: ResourceId, principal: Reader, ctx: Ctx) -> ReportOut:
    return ReportOut.of(_service(ctx).get(principal.register_id, report_id))
