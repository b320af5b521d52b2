"""The public receipt page ``GET /r/{urlId}?lang=hy|ru|en`` (no API key): HTML for buyers and inspectors.

Unknown ``urlId`` → 404 with an HTML page in the requested language; a document kept but not fiscalized yet
(late fiscalization, a lost answer being settled) → 200 with a page saying the receipt awaits fiscalization.
An unknown ``lang`` falls back to Armenian.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette.responses import HTMLResponse

from openvcr.api.context import AppContext, get_context
from openvcr.api.routing import OneHopRoute
from openvcr.receipts.i18n import language_of
from openvcr.receipts.render import render_not_found, render_receipt
from openvcr.receipts.service import awaits_fiscalization, find_document

router = APIRouter(tags=["receipts"], route_class=OneHopRoute)

Ctx = Annotated[AppContext, Depends(get_context)]
HEADERS = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex", "Referrer-Policy": "no-referrer"}


@router.get(
    "/r/{url_id}",
    response_class=HTMLResponse,
    summary="The public receipt page of a sale, refund or prepayment",
    responses={404: {"description": "No receipt at this address (HTML page)", "content": {"text/html": {}}}},
)
def receipt_page(
    url_id: str,
    ctx: Ctx,
    lang: Annotated[str | None, Query(description="hy (default), ru or en")] = None,
) -> HTMLResponse:
    language = language_of(lang)
    with ctx.db.read() as conn:
        document = find_document(conn, url_id)
        awaiting = document is None and awaits_fiscalization(conn, url_id)
    if awaiting:
        return HTMLResponse(render_not_found(language, "awaiting"), headers=HEADERS)
    if document is None:
        return HTMLResponse(render_not_found(language), status_code=404, headers=HEADERS)
    return HTMLResponse(render_receipt(document, language), headers=HEADERS)
