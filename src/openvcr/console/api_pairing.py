"""Pairing over HTTP: ``POST /api/v1/connect/requests`` and ``POST /api/v1/connect/exchange`` (no API key,
rate limited per client address), and the console's approval page ``/console/connect/{request_id}``.

The approval page needs a signed-in user with the ``keys`` permission (owners and developers); its form
carries the session's CSRF token like every console form. The page's Content-Security-Policy allows the form
to lead to the shop's origin as well as the console's: the answer to the form is a redirect there.
"""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi import Path as PathParam
from starlette.responses import RedirectResponse, Response

from openvcr.api.context import AppContext, get_context
from openvcr.api.ratelimit import RateLimiter, retry_after_header
from openvcr.api.routing import OneHopRoute
from openvcr.console import pairing, views
from openvcr.console.api import _CSP, PageRefused, View, action, page, render
from openvcr.console.api import router as console_router
from openvcr.console.pairing_schemas import (
    ConnectExchange,
    ConnectExchanged,
    ConnectRequestCreate,
    ConnectRequestCreated,
)
from openvcr.core.errors import NotFound, RateLimited

router = APIRouter(prefix="/api/v1", tags=["pairing"], route_class=OneHopRoute)

Ctx = Annotated[AppContext, Depends(get_context)]
RequestId = Annotated[str, PathParam(min_length=20, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]

RATE_PER_SECOND = 0.5  # unauthenticated calls: 30 a minute per client address and worker …
RATE_BURST = 30  # … after a burst of 30


MAX_ADDRESSES = 10_000  # buckets kept at most; beyond, every bucket starts full again


class AddressLimiter(RateLimiter):
    """``RateLimiter`` per client address, whose buckets cannot grow without end (addresses are many)."""

    def acquire(self, key_id: int) -> float:
        if len(self._buckets) >= MAX_ADDRESSES and key_id not in self._buckets:
            with self._lock:
                self._buckets.clear()
        return super().acquire(key_id)


def limiter_of(request: Request) -> RateLimiter:
    """The app's limiter of unauthenticated pairing calls (one per app, so per worker)."""
    state = request.app.state
    found = getattr(state, "pairing_limiter", None)
    if not isinstance(found, RateLimiter):
        found = AddressLimiter(RATE_PER_SECOND, RATE_BURST)
        state.pairing_limiter = found
    return found


async def limited(request: Request) -> None:
    """A dependency: one token of the client address's bucket, else 429 with ``Retry-After``."""
    address = request.client.host if request.client else "unknown"
    bucket = int.from_bytes(hashlib.sha256(address.encode()).digest()[:8], "big")
    wait = limiter_of(request).acquire(bucket)
    if wait > 0:
        raise RateLimited(retry_after_header(wait))


@router.post(
    "/connect/requests",
    response_model=ConnectRequestCreated,
    dependencies=[Depends(limited)],
    summary="Start pairing: a connect request for a merchant to approve in the console (no API key)",
)
def create_connect_request(body: ConnectRequestCreate, ctx: Ctx) -> ConnectRequestCreated:
    created = pairing.create_request(ctx.db, ctx.settings.public_url, body.redirect_uri, body.store_name,
                                     body.state, body.code_challenge)  # fmt: skip
    return ConnectRequestCreated.of(created)


@router.post(
    "/connect/exchange",
    response_model=ConnectExchanged,
    dependencies=[Depends(limited)],
    summary="Finish pairing: exchange the approved code and the PKCE verifier for an API key (no API key)",
)
def exchange_connect_code(body: ConnectExchange, ctx: Ctx) -> ConnectExchanged:
    return ConnectExchanged.of(pairing.exchange(ctx.db, body.code, body.code_verifier))


# ---- the approval page -------------------------------------------------------------------------------------


def _pending(view: View, request_id: str) -> pairing.PendingRequest:
    try:
        return pairing.pending_request(view.db, request_id)
    except NotFound as missing:
        raise PageRefused(404, missing.message, view.lang) from None


@console_router.get("/connect/{request_id}")
def approval_page(request_id: RequestId, view: Annotated[View, Depends(page("keys"))]) -> Response:
    pending = _pending(view, request_id)
    registers = pairing.register_choices(view.db, view.entity_id)
    response = render(view, "connect.html", pending=pending, registers=registers, request_id=request_id,
                      local_time=views.local_time, p=lambda text: pairing_words(view.lang, text))  # fmt: skip
    # The form's answer is a redirect to the shop: allow its origin as a form target (validated, no spaces).
    response.headers["Content-Security-Policy"] = _CSP.replace(
        "form-action 'self'", f"form-action 'self' {pending.redirect_origin}"
    )
    return response


@console_router.post("/connect/{request_id}")
def approval(request_id: RequestId, view: Annotated[View, Depends(action("keys"))]) -> Response:
    decision = view.form.get("decision")
    if decision not in ("approve", "deny"):
        raise PageRefused(400, "Choose Approve or Deny", view.lang)
    try:
        if decision == "approve":
            try:
                register_id = int(view.form.get("register"))
            except ValueError:
                raise NotFound("no register chosen") from None
            target = pairing.approve(view.db, view.session, request_id, register_id)
        else:
            target = pairing.deny(view.db, view.session, request_id)
    except NotFound as missing:
        raise PageRefused(404, missing.message, view.lang) from None
    return RedirectResponse(target, status_code=303, headers={"Cache-Control": "no-store"})


_WORDS: dict[str, tuple[str, str]] = {  # English: (Armenian, Russian)
    "Connect a shop": ("Խանութի միացում", "Подключение магазина"),
    "wants an API key of one of your registers.": (
        "խնդրում է ձեր դրամարկղերից մեկի API բանալի։",
        "запрашивает API-ключ одной из ваших касс.",
    ),
    "After your answer the browser goes to": (
        "Ձեր պատասխանից հետո դիտարկիչը կանցնի",
        "После ответа браузер перейдёт на",
    ),
    "Approve only if you started this connection from that shop.": (
        "Հաստատեք միայն եթե այս միացումը սկսել եք այդ խանութից։",
        "Подтверждайте, только если вы сами начали подключение в этом магазине.",
    ),
    "The request expires at": ("Հարցման ժամկետը լրանում է", "Запрос истекает в"),
    "Approve": ("Հաստատել", "Подтвердить"),
    "Deny": ("Մերժել", "Отклонить"),
    "No register of this business can take a key.": (
        "Այս կազմակերպության ոչ մի դրամարկղ չի կարող բանալի ստանալ։",
        "Ни одна касса этой организации не может получить ключ.",
    ),
}


def pairing_words(language: str, text: str) -> str:
    """The approval page's own words (the shared ones go through ``console.i18n``)."""
    pair = _WORDS.get(text)
    if language == "en" or pair is None:
        return text
    return pair[0] if language == "hy" else pair[1]
