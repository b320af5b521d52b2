"""The receipt as a PDF: ``GET /r/{urlId}.pdf?format=a4|80mm&lang=hy|ru|en`` (no API key).

- ``format``: ``a4`` (default) or ``80mm`` (thermal roll); anything else is a 400 with the error envelope.
- ``lang``: hy (default), ru or en; an unknown language falls back to Armenian, as on the receipt page.
- Unknown ``urlId`` → 404 with the receipt page's HTML "not found" page; a document kept but not fiscalized
  yet → 404 with the page's "awaiting fiscalization" text (there is no receipt to print yet).

Registered before the receipt page's router: ``/r/{url_id}`` would otherwise take ``abc.pdf`` as an id.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette.responses import HTMLResponse, Response

from openvcr.api.context import AppContext, get_context
from openvcr.api.routing import OneHopRoute
from openvcr.core.errors import ValidationFailed
from openvcr.receipts.content import page_url
from openvcr.receipts.i18n import language_of
from openvcr.receipts.pdf import FORMATS, PageFormat, render_pdf
from openvcr.receipts.render import render_not_found
from openvcr.receipts.service import awaits_fiscalization, find_document

router = APIRouter(tags=["receipts"], route_class=OneHopRoute)

Ctx = Annotated[AppContext, Depends(get_context)]
HEADERS = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex", "Referrer-Policy": "no-referrer"}


def page_format(value: str | None) -> PageFormat:
    """``a4`` (default) or ``80mm``; anything else is refused."""
    chosen = (value or "a4").strip().lower()
    if chosen == "a4":
        return "a4"
    if chosen == "80mm":
        return "80mm"
    raise ValidationFailed.at(["query", "format"], f"format must be one of {', '.join(FORMATS)}")


@router.get(
    "/r/{url_id}.pdf",
    response_class=Response,
    summary="The receipt of a sale, refund or prepayment as a PDF (A4 or 80 mm roll)",
    responses={
        200: {"description": "The receipt", "content": {"application/pdf": {}}},
        404: {"description": "No receipt at this address (HTML page)", "content": {"text/html": {}}},
    },
)
def receipt_pdf(
    url_id: str,
    ctx: Ctx,
    format: Annotated[str | None, Query(description="a4 (default) or 80mm")] = None,
    lang: Annotated[str | None, Query(description="hy (default), ru or en")] = None,
) -> Response:
    page = page_format(format)
    language = language_of(lang)
    with ctx.db.read() as conn:
        document = find_document(conn, url_id)
        awaiting = document is None and awaits_fiscalization(conn, url_id)
    if document is None:
        notice = "awaiting" if awaiting else "not_found"
        return HTMLResponse(render_not_found(language, notice), status_code=404, headers=HEADERS)
    body = render_pdf(document, language, page, page_url(ctx.settings.public_url, url_id, language))
    filename = f"receipt-{document.receipt['srcId']}-{page}.pdf"
    headers = {**HEADERS, "Content-Disposition": f'inline; filename="{filename}"'}
    return Response(body, media_type="application/pdf", headers=headers)
