"""The public receipt page (no API key): HTML for buyers and inspectors, at two addresses.

- ``GET /r/{urlId}?lang=hy|ru|en``: the language is ``lang``; without it, the browser's ``Accept-Language``
  (hy, ru or en, else Armenian); an unknown ``lang`` → Armenian.
- ``GET /{locale}/r/{crn}/{urlId}`` and ``GET /{locale}/r/{crn}/{srcReceiptId}``: the same page in
  ``locale`` (an unknown one → Armenian), for every kind of document, found by the register's CRN and the
  document's ``urlId`` or SRC receipt number. A CRN that is not this document's register's → 404.

An address without a document → 404 with an HTML page in the page's language; a document kept but not
fiscalized yet (late fiscalization, a lost answer being settled) → 200 with a page saying the receipt awaits
fiscalization. Every page shows the language switcher.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query
from starlette.responses import HTMLResponse

from openvcr.api.context import AppContext, get_context
from openvcr.api.routing import OneHopRoute
from openvcr.receipts.i18n import language_of
from openvcr.receipts.render import PageLinks, render_not_found, render_receipt
from openvcr.receipts.service import awaits_fiscalization, find_by_crn, find_document

router = APIRouter(tags=["receipts"], route_class=OneHopRoute)

Ctx = Annotated[AppContext, Depends(get_context)]
HEADERS = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex", "Referrer-Policy": "no-referrer"}
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No receipt at this address (HTML page)", "content": {"text/html": {}}}
}


def _page(
    ctx: AppContext, url_id: str | None, language: str, links: PageLinks, headers: dict[str, str]
) -> HTMLResponse:
    with ctx.db.read() as conn:
        document = None if url_id is None else find_document(conn, url_id)
        awaiting = document is None and url_id is not None and awaits_fiscalization(conn, url_id)
    if awaiting:
        return HTMLResponse(render_not_found(language, "awaiting", links), headers=headers)
    if document is None:
        return HTMLResponse(render_not_found(language, links=links), status_code=404, headers=headers)
    return HTMLResponse(render_receipt(document, language, links), headers=headers)


@router.get(
    "/r/{url_id}",
    response_class=HTMLResponse,
    summary="The public receipt page of a sale, refund or prepayment",
    responses=NOT_FOUND,
)
def receipt_page(
    url_id: str,
    ctx: Ctx,
    lang: Annotated[str | None, Query(description="hy, ru or en; default: Accept-Language, else hy")] = None,
    accept_language: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> HTMLResponse:
    language = language_of(lang, accept_language)
    headers = HEADERS if lang else {**HEADERS, "Vary": "Accept-Language"}
    return _page(ctx, url_id, language, PageLinks.short(language), headers)


@router.get(
    "/{locale}/r/{crn}/{receipt}",
    response_class=HTMLResponse,
    summary="The public receipt page by the register's CRN and the urlId or SRC receipt number",
    responses=NOT_FOUND,
)
def localized_receipt_page(
    locale: Annotated[str, Path(description="hy, ru or en (another value: hy)")],
    crn: Annotated[str, Path(description="The CRN of the document's register")],
    receipt: Annotated[str, Path(description="The document's urlId, or its SRC receipt number")],
    ctx: Ctx,
) -> HTMLResponse:
    language = language_of(locale)
    with ctx.db.read() as conn:
        url_id = find_by_crn(conn, crn, receipt)
    return _page(ctx, url_id, language, PageLinks.localized(crn, receipt), HEADERS)
