"""The console's shift reports page (permission ``reports``: accountants and owners), registered on
``console.api.router``.

- ``GET /console/reports?register=&type=&from=&to=&cursor=``: a register's X and Z reports, newest first, 25 a
  page with the reports service's own cursor; dates are Yerevan days, as everywhere in the console.
- ``POST /console/reports/x``: take an X report. ``POST /console/reports/z``: without ``confirm=1`` it only
  answers the confirmation step; with it, takes the Z (a 409 page when the shift is empty). Both go through
  ``ReportsService.take`` — what ``POST /api/v1/reports/x|z`` calls — with the form's one-time token as the
  Idempotency-Key (a form sent twice takes one report), and are written to the audit log.
- ``GET /console/reports/{id}``: the printable report (``render_report_html``'s fragment) with a print button;
  ``GET /console/reports/{id}.pdf?format=a4|80mm``: the PDF (``render_report_pdf``, as the API's), under the
  session.
A report of another business's register is "not found" (404).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

import orjson
from fastapi import Depends
from starlette.responses import Response

from openvcr.console import views
from openvcr.console.api import BASE, PageRefused, View, action, page, parse_date, redirect, render, router
from openvcr.console.api_pages import Id, _int
from openvcr.console.security import new_token
from openvcr.core.errors import Conflict, NotFound, ValidationFailed
from openvcr.documents.models import RequestKey
from openvcr.receipts.api_pdf import page_format
from openvcr.reports.models import Cursor, Period, ReportType, ShiftReport
from openvcr.reports.printable import render_report_html, render_report_pdf
from openvcr.reports.schemas import ReportCreate
from openvcr.reports.service import ReportsService, decode_cursor, encode_cursor

PAGE_SIZE = 25


def _service(view: View) -> ReportsService:
    return ReportsService(view.ctx.db, view.ctx.settings)


def _register(view: View, value: str) -> int | None:
    """The chosen register of this business (the first when none is chosen; None: the business has none)."""
    ids = views.register_ids(view.db, view.entity_id)
    chosen = _int(value, "register")
    if chosen is None:
        return ids[0] if ids else None
    if chosen not in ids:
        raise PageRefused(404, "Not found", view.lang)
    return chosen


def _reports_page(view: View, register_id: int | None, status: int = 200, **values: Any) -> Response:
    q = view.request.query_params
    rows: tuple[ShiftReport, ...] = ()
    next_query = None
    if register_id is not None and "error" not in values:
        try:
            start, end = parse_date(q.get("from", ""), "from"), parse_date(q.get("to", ""), "to")
            report_type = q.get("type") or None
            if report_type not in (None, "x", "z"):
                raise ValidationFailed.at(["type"], "type: x or z")
            period = Period(
                None if start is None else views.day_start_ms(start),
                None if end is None else views.day_start_ms(end) + 86_400_000,
            )
            cursor: Cursor | None = decode_cursor(q.get("cursor") or None)
            found = _service(view).list(register_id, report_type, period, cursor, PAGE_SIZE)  # type: ignore[arg-type]
        except ValidationFailed as invalid:
            status, values["error"] = 400, invalid.message
        else:
            rows = found.items
            if found.next_cursor is not None:
                kept = [(k, v) for k, v in q.items() if k != "cursor" and v]
                next_query = urlencode([*kept, ("cursor", encode_cursor(found.next_cursor))])
    return render(
        view,
        "reports.html",
        status,
        registers=views.registers(view.db, view.entity_id),
        register_id=register_id,
        rows=rows,
        next_query=next_query,
        q=q,
        token=new_token(),
        local_time=views.local_time,
        **values,
    )


@router.get("/reports")
def reports(view: Annotated[View, Depends(page("reports"))]) -> Response:
    try:
        register_id = _register(view, view.request.query_params.get("register", ""))
    except ValidationFailed as invalid:
        return _reports_page(view, None, 400, error=invalid.message)
    return _reports_page(view, register_id)


def _take(view: View, report_type: ReportType) -> Response:
    try:
        register_id = _register(view, view.form.get("register"))
    except ValidationFailed:
        raise PageRefused(404, "Not found", view.lang) from None
    if register_id is None:
        raise PageRefused(404, "Not found", view.lang)
    body = ReportCreate()
    token = view.form.get("token") or None
    key = RequestKey.of(f"POST /reports/{report_type}", register_id, token, body.model_dump(mode="json", by_alias=True))
    try:
        outcome = _service(view).take(register_id, report_type, key, None)
    except (ValidationFailed, Conflict) as refused:
        status = 409 if isinstance(refused, Conflict) else 400
        return _reports_page(view, register_id, status, refused=refused.message)
    taken = orjson.loads(outcome.body)
    if not outcome.replayed:  # a form sent again answers the report already taken, audited once
        view.audit(f"report.{report_type}", f"report {taken['id']}", {"register": register_id, "shift": taken["shift"]})
    return redirect(f"{BASE}/reports/{taken['id']}")


@router.post("/reports/x")
def take_x(view: Annotated[View, Depends(action("reports"))]) -> Response:
    return _take(view, "x")


@router.post("/reports/z")
def take_z(view: Annotated[View, Depends(action("reports"))]) -> Response:
    """The Z closes the shift: the first POST (without ``confirm``) only asks to confirm."""
    if view.form.get("confirm") != "1":
        try:
            register_id = _register(view, view.form.get("register"))
        except ValidationFailed:
            raise PageRefused(404, "Not found", view.lang) from None
        if register_id is None:
            raise PageRefused(404, "Not found", view.lang)
        register = next(r for r in views.registers(view.db, view.entity_id) if r.id == register_id)
        return render(view, "report_confirm.html", register=register, token=view.form.get("token") or new_token())
    return _take(view, "z")


def _find(view: View, report_id: int) -> ShiftReport:
    """The report, if it is one of this business's registers'."""
    service = _service(view)
    for register_id in views.register_ids(view.db, view.entity_id):
        try:
            return service.get(register_id, report_id)
        except NotFound:
            continue
    raise PageRefused(404, f"report {report_id} not found", view.lang)


@router.get("/reports/{report_id}.pdf")
def report_pdf(report_id: Id, view: Annotated[View, Depends(page("reports"))]) -> Response:
    try:
        layout = page_format(view.request.query_params.get("format") or None)
    except ValidationFailed as invalid:
        raise PageRefused(400, invalid.message, view.lang) from None
    found = _find(view, report_id)
    report, register = _service(view).printable(found.register_id, report_id)
    data = render_report_pdf(report, register, view.lang, layout)
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="report-{report.type}-{report.id}.pdf"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/reports/{report_id}")
def report(report_id: Id, view: Annotated[View, Depends(page("reports"))]) -> Response:
    found = _find(view, report_id)
    shown, register = _service(view).printable(found.register_id, report_id)
    return render(
        view,
        "report.html",
        report=shown,
        printable=render_report_html(shown, register, view.lang, fragment=True),
        local_time=views.local_time,
    )
