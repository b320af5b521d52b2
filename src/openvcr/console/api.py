"""The console over HTTP: sessions in cookies, CSRF, role checks, and the pages under ``/console``.

Rules:
- The session cookie ``ovcr_session`` is HttpOnly, SameSite=Lax, path ``/console``, and ``Secure`` when the
  public URL is https (``OPENVCR_CONSOLE_SECURE_COOKIES`` overrides). It holds a random token; the server
  keeps only its digest (``console.service``).
- Every POST carries the session's CSRF token (form field ``csrf`` or header ``X-CSRF-Token``); the sign-in
  form, before any session, a double-submit token (cookie ``ovcr_login_csrf`` = field ``csrf``). A POST
  without the right token is a 403 and changes nothing.
- Roles are checked in one place: each page names its permission (``console.models.ROLE_PERMISSIONS``); a
  page the role lacks is a 403, without a session a redirect to ``/console/login``.
- Every page reads only the business the session shows (``console.views``); every change goes through the
  domain service the API uses and is written to the audit log.
- Pages are HTML with a strict Content-Security-Policy (scripts and styles from the package only), never
  cached, never framed.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Depends, FastAPI, Request
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from openvcr.api.context import AppContext, context_of
from openvcr.console import service
from openvcr.console.banner import certificate_warnings
from openvcr.console.i18n import LANGUAGE_NAMES, LANGUAGES, pick_language, translate
from openvcr.console.models import ConsoleSession
from openvcr.console.security import new_token
from openvcr.core.errors import NotAuthenticated, OpenVCRError, RateLimited, ValidationFailed

SESSION_COOKIE = "ovcr_session"
LOGIN_CSRF_COOKIE = "ovcr_login_csrf"
LANGUAGE_COOKIE = "ovcr_lang"
BASE = "/console"
STATIC = Path(__file__).parent / "static"
MAX_FORM_BYTES = 64 * 1024

NAV: tuple[tuple[str, str, str], ...] = (
    ("overview", f"{BASE}/overview", "Overview"),
    ("sales", f"{BASE}/sales", "Sales"),
    ("prepayments", f"{BASE}/prepayments", "Prepayments"),
    ("documents", f"{BASE}/documents", "Documents"),
    ("reports", f"{BASE}/reports", "Reports"),
    ("catalog", f"{BASE}/catalog", "Catalogue"),
    ("registers", f"{BASE}/registers", "Registers"),
    ("keys", f"{BASE}/keys", "API keys"),
    ("outbox", f"{BASE}/outbox", "Deliveries"),
    ("devices", f"{BASE}/devices", "V-SDC devices"),
    ("webhooks", f"{BASE}/webhooks", "Webhooks"),
    ("people", f"{BASE}/people", "People"),
    ("audit", f"{BASE}/audit", "Audit log"),
)
_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": _CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _money(value: Any) -> str:
    try:
        return format(Decimal(value), ",.2f").replace(",", "\u202f")
    except (InvalidOperation, TypeError, ValueError):
        return str(value)


templates.filters["money"] = _money


class LoginRequired(Exception):
    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


class PageRefused(Exception):
    """A page or action the session may not see or do, a bad CSRF token (403), or a missing row (404)."""

    def __init__(self, status: int, message: str, lang: str) -> None:
        self.status = status
        self.message = message
        self.lang = lang


class Form:
    """A parsed ``application/x-www-form-urlencoded`` body."""

    def __init__(self, fields: dict[str, list[str]]) -> None:
        self.fields = fields

    def get(self, name: str, default: str = "") -> str:
        values = self.fields.get(name)
        return values[0].strip() if values else default

    def all(self, name: str) -> list[str]:
        return [v.strip() for v in self.fields.get(name, [])]


async def read_form(request: Request) -> Form:
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise PageRefused(413, "The form is too large", _lang(request))
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise PageRefused(400, "The form is not UTF-8", _lang(request)) from None
    try:
        return Form(parse_qs(text, keep_blank_values=True, max_num_fields=2000))
    except ValueError:  # too many fields
        raise PageRefused(400, "The form has too many fields", _lang(request)) from None


def _lang(request: Request) -> str:
    return pick_language(request.cookies.get(LANGUAGE_COOKIE), request.headers.get("accept-language"))


def secure_cookies(ctx: AppContext) -> bool:
    setting = ctx.settings.console_secure_cookies
    return setting if setting is not None else ctx.settings.public_url.lower().startswith("https://")


@dataclass
class View:
    """One request of a signed-in user: what every page and action gets."""

    request: Request
    ctx: AppContext
    session: ConsoleSession
    lang: str
    form: Form = field(default_factory=lambda: Form({}))

    @property
    def db(self) -> Any:
        return self.ctx.db

    @property
    def entity_id(self) -> int:
        return self.session.entity_id

    def t(self, text: str) -> str:
        return translate(self.lang, text)

    def audit(self, action: str, target: str | None = None, detail: dict[str, Any] | None = None) -> None:
        with self.db.write() as conn:
            self.record(conn, action, target, detail)

    def record(self, conn: Any, action: str, target: str | None = None, detail: dict[str, Any] | None = None) -> None:
        service.record(conn, entity_id=self.entity_id, action=action, actor=self.session.email,
                       user_id=self.session.user_id, target=target, detail=detail)  # fmt: skip


def _session(request: Request) -> ConsoleSession:
    ctx = context_of(request)
    session = service.session_of(ctx.db, request.cookies.get(SESSION_COOKIE))
    if session is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target if request.method == "GET" else BASE)
    return session


def page(permission: str | None) -> Callable[[Request], Awaitable[View]]:
    """A dependency: the signed-in user's view of a page that needs ``permission`` (None: any role)."""

    async def dependency(request: Request) -> View:
        session = await run_in_threadpool(_session, request)
        lang = _lang(request)
        if permission is not None and not session.may(permission):
            raise PageRefused(403, "You may not open this page.", lang)
        return View(request, context_of(request), session, lang)

    return dependency


def action(permission: str | None) -> Callable[[Request], Awaitable[View]]:
    """A dependency for a POST: the page's checks, then the form, whose CSRF token must be the session's."""
    viewer = page(permission)

    async def dependency(request: Request) -> View:
        view = await viewer(request)
        view.form = await read_form(request)
        sent = view.form.get("csrf") or request.headers.get("x-csrf-token", "")
        if not hmac.compare_digest(sent.encode(), view.session.csrf_token.encode()):
            raise PageRefused(403, "The form has expired: reload the page and try again", view.lang)
        return view

    return dependency


def _nav(session: ConsoleSession) -> list[tuple[str, str]]:
    return [(path, label) for permission, path, label in NAV if session.may(permission)]


def render(view: View, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    session = view.session
    html = templates.get_template(template).render(
        t=view.t,
        lang=view.lang,
        languages=[(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
        session=session,
        csrf=session.csrf_token,
        nav=_nav(session),
        certificate_warnings=certificate_warnings(view.ctx.certificates, session.entity_id, view.lang),
        path=view.request.url.path,
        here=quote(view.request.url.path + (f"?{view.request.url.query}" if view.request.url.query else "")),
        **values,
    )
    return HTMLResponse(html, status_code=status, headers=_HEADERS)


def render_public(request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    lang = _lang(request)
    html = templates.get_template(template).render(
        t=lambda text: translate(lang, text),
        lang=lang,
        languages=[(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
        session=None,
        nav=[],
        path=request.url.path,
        here=quote(request.url.path),
        **values,
    )
    return HTMLResponse(html, status_code=status, headers=_HEADERS)


def redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303, headers={"Cache-Control": "no-store"})


def _safe_next(target: str | None) -> str:
    if target and target.startswith(f"{BASE}/") and not target.startswith("//") and "\\" not in target:
        return target
    return BASE


def _set_session(response: Response, ctx: AppContext, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(ctx.settings.console_session_hours * 3600),
        path=BASE,
        secure=secure_cookies(ctx),
        httponly=True,
        samesite="lax",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path=BASE)


router = APIRouter(prefix=BASE, include_in_schema=False)


# ---- sign-in, sign-out, language, business -----------------------------------------------------------------


def _login_page(request: Request, status: int = 200, error: str | None = None, **values: Any) -> HTMLResponse:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or new_token()
    response = render_public(request, "login.html", status, csrf=token, error=error, **values)
    ctx = context_of(request)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, path=BASE, secure=secure_cookies(ctx), httponly=True,
                        samesite="strict")  # fmt: skip
    return response


def _login_csrf_ok(request: Request, form: Form) -> bool:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    sent = form.get("csrf")
    return bool(cookie) and hmac.compare_digest(cookie.encode(), sent.encode())


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    return _login_page(request, next=_safe_next(next))


@router.post("/login")
async def login(request: Request) -> Response:
    form = await read_form(request)
    if not _login_csrf_ok(request, form):
        return _login_page(request, 403, "The form has expired: reload the page and try again")
    ctx = context_of(request)
    ip = request.client.host if request.client else "unknown"
    try:
        signed = await run_in_threadpool(service.sign_in, ctx.db, ctx.settings, form.get("email"),
                                         form.get("password"), form.get("code") or None, ip)  # fmt: skip
    except RateLimited as limited:
        throttled = _login_page(request, 429, limited.message, email=form.get("email"), next=form.get("next"))
        throttled.headers["Retry-After"] = str(limited.retry_after_seconds)
        return throttled
    except NotAuthenticated as refused:
        return _login_page(request, 401, refused.message, email=form.get("email"), next=form.get("next"))
    response = redirect(_safe_next(form.get("next")))
    _set_session(response, ctx, signed.token)
    return response


@router.get("/login/{token}")
def login_link_form(request: Request, token: str) -> Response:
    """A one-time link asks for a click (a POST) before it is used, so that link previews do not use it up."""
    response = _login_page(request, link=token)
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@router.post("/login/{token}")
async def login_with_link(request: Request, token: str) -> Response:
    form = await read_form(request)
    if not _login_csrf_ok(request, form):
        return _login_page(request, 403, "The form has expired: reload the page and try again", link=token)
    ctx = context_of(request)
    try:
        signed = await run_in_threadpool(service.sign_in_with_link, ctx.db, ctx.settings, token)
    except NotAuthenticated as refused:
        return _login_page(request, 401, refused.message)
    response = redirect(BASE)
    _set_session(response, ctx, signed.token)
    return response


@router.post("/logout")
async def logout(view: Annotated[View, Depends(action(None))]) -> Response:
    token = view.request.cookies.get(SESSION_COOKIE, "")
    await run_in_threadpool(service.sign_out, view.db, token)
    response = redirect(f"{BASE}/login")
    response.delete_cookie(SESSION_COOKIE, path=BASE)
    return response


@router.get("/language/{code}")
def language(code: str, next: str | None = None) -> Response:
    response = redirect(_safe_next(next) if next != f"{BASE}/login" else f"{BASE}/login")
    if code in LANGUAGES:
        response.set_cookie(LANGUAGE_COOKIE, code, max_age=365 * 86400, path=BASE, samesite="lax")
    return response


@router.post("/business")
def switch_business(view: Annotated[View, Depends(action(None))]) -> Response:
    try:
        entity_id = int(view.form.get("entity"))
    except ValueError:
        raise PageRefused(400, "Choose a business", view.lang) from None
    try:
        service.switch_business(view.db, view.session, entity_id)
    except OpenVCRError:
        raise PageRefused(403, "You may not open this page.", view.lang) from None
    return redirect(BASE)


@router.get("")
def home(view: Annotated[View, Depends(page(None))]) -> Response:
    nav = _nav(view.session)
    return redirect(nav[0][0] if nav else f"{BASE}/account")


# ---- account -----------------------------------------------------------------------------------------------


@router.get("/account")
def account(view: Annotated[View, Depends(page(None))]) -> Response:
    return render(view, "account.html")


@router.post("/account/password")
def change_password(view: Annotated[View, Depends(action(None))]) -> Response:
    try:
        service.change_own_password(view.db, view.session, view.form.get("current") or None, view.form.get("password"))
    except ValidationFailed as invalid:
        return render(view, "account.html", 400, error=invalid.message)
    return render(view, "account.html", saved=True)


def parse_date(value: str, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed.at([name], f"{name}: not a date (YYYY-MM-DD)") from None


def install_console(app: FastAPI) -> None:
    """Mount the console on the app: its pages, its assets and its error pages."""
    from openvcr.console import (  # noqa: F401  (register the pages on ``router``)
        api_pages,
        api_pairing,
        api_reports,
        api_webhooks,
    )

    app.include_router(router)
    app.mount(f"{BASE}/static", StaticFiles(directory=STATIC), name="console-static")

    async def login_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        return redirect(f"{BASE}/login?next={quote(exc.next_path, safe='')}")

    async def refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PageRefused)
        html = templates.get_template("error.html").render(
            t=lambda text: translate(exc.lang, text), lang=exc.lang, message=exc.message, status=exc.status,
            session=None, nav=[], languages=[], path=request.url.path, here="",
        )  # fmt: skip
        return HTMLResponse(html, status_code=exc.status, headers=_HEADERS)

    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(PageRefused, refused)
