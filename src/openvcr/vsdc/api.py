"""The public verification page of V-SDC invoices: ``GET /ticket/verify?…`` (the QR code's target).

Rules:
- HTML for a phone by default; JSON ``{"valid": true|false, "reason": …, …}`` when ``Accept`` prefers
  ``application/json``.
- VALID only when the signature (``sign``) verifies over the invoice the V-SDC signed, the internal data
  (``data``) decrypts under the device's counter key and equals the signed one, and every other parameter
  matches the signed invoice; otherwise NOT VALID with the first reason found.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool

from openvcr.api.context import context_of
from openvcr.api.routing import OneHopRoute
from openvcr.vsdc import service

router = APIRouter(tags=["V-SDC"], route_class=OneHopRoute)

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    auto_reload=False,
)


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


@router.get("/ticket/verify", response_model=None, summary="Verify a V-SDC invoice (the QR code's link)")
async def verify_ticket(request: Request) -> Response:
    ctx = context_of(request)
    params = dict(request.query_params.items())
    result = await run_in_threadpool(service.verify, ctx.db, ctx.settings, params)
    if _wants_json(request):
        return JSONResponse(result.as_json())
    html = _templates.get_template("verify.html").render(result=result)
    return HTMLResponse(html)
