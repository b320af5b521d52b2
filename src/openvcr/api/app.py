"""The application factory: one FastAPI app serving every HTTP face of OpenVCR."""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from openvcr import __version__
from openvcr.api.body import BodyLimitMiddleware
from openvcr.api.context import AppContext
from openvcr.api.docs import install_docs
from openvcr.api.errors import envelope, install_error_handlers
from openvcr.api.observability import (
    REGISTRY,
    RequestContextMiddleware,
    configure_logging,
    publish_certificate_days,
    stop_logging,
)
from openvcr.api.ratelimit import RateLimiter
from openvcr.api.responses import FastJSONResponse
from openvcr.api.routing import OneHopRoute
from openvcr.authority.factory import build_gateway
from openvcr.authority.gateway import SrcGateway
from openvcr.config import Settings, get_settings
from openvcr.store.db import Database

API_DESCRIPTION = """
OpenVCR serves the **VCR API v1**: register sales, prepayments and refunds with Armenia's State Revenue
Committee and get fiscal receipts. Authenticate every call with the `X-API-KEY` header, except the two
pairing calls (`POST /api/v1/connect/requests`, `POST /api/v1/connect/exchange`), by which a shop obtains its key,
and the operator API (`/api/operator/v1`), which takes an operator token (`Authorization: Bearer …`).

Errors use HTTP status codes and one JSON envelope:
`{"error": "...", "issues": [{"path": [...], "message": "...", "code": "..."}], "requestId": "..."}`.

Localized names take `{"value": {"hy": ..., "ru"?: ..., "en"?: ...}, "localizationStrategy": ...}`:
with `transliteration` a missing `ru`/`en` is filled by Armenian→Cyrillic / Armenian→Latin
transliteration of `hy`; with `translation` the given translations are kept and a missing one falls back to
transliteration (no machine translation is done).
"""


def _routers() -> list[APIRouter]:
    from openvcr.catalog.api import router as catalog_router
    from openvcr.console.api_pairing import router as pairing_router
    from openvcr.operators.api import router as operator_router
    from openvcr.prepayments.api import router as prepayments_router
    from openvcr.receipts.api import router as receipts_router
    from openvcr.receipts.api_pdf import router as receipt_pdf_router
    from openvcr.registers.api import router as registers_router
    from openvcr.reports.api import router as reports_router
    from openvcr.reports.api_lists import router as lists_router
    from openvcr.sales.api import router as sales_router
    from openvcr.sales.api_rates import router as rates_router
    from openvcr.vsdc.api import router as vsdc_router
    from openvcr.webhooks.api import router as webhooks_router

    return [
        registers_router,
        catalog_router,
        lists_router,  # before sales and prepayments: /sales/{id} would take "refunds" as an id
        sales_router,
        rates_router,
        prepayments_router,
        reports_router,
        receipt_pdf_router,  # before the page: /r/{url_id} would take "abc.pdf" as an id
        receipts_router,
        vsdc_router,
        webhooks_router,
        pairing_router,
        operator_router,
    ]


log = logging.getLogger("openvcr.maintenance")

HEALTH_CHECK_SECONDS = 1.0  # /healthz asks the database at most this often per worker
_HEALTHY = b'{"status":"ok"}'


class HealthCheck:
    """The database answered ``SELECT 1`` less than ``HEALTH_CHECK_SECONDS`` ago (no I/O to know it)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._ok_at = float("-inf")

    def recent(self) -> bool:
        return time.monotonic() - self._ok_at < HEALTH_CHECK_SECONDS

    def check(self) -> None:
        """Ask the database (off the event loop); raises when it does not answer."""
        asked = time.monotonic()
        with self.db.read() as conn:
            conn.exec_driver_sql("SELECT 1")
        self._ok_at = asked


def watch_certificates(ctx: AppContext) -> None:
    """Registers' own SRC certificates: the gauge, /healthz's reasons, a log line a day when one is expiring."""
    try:
        states = ctx.certificates.refresh()
    except Exception:
        log.warning("could not read the registers' certificates", exc_info=True)
        return
    publish_certificate_days({state.register_id: state.days_left for state in states})


def maintenance_pass(ctx: AppContext) -> None:
    """Settle documents left unsettled (lost answers, crashes), fiscalize deferred ones in order, release
    expired Idempotency-Keys, fetch the CBA's rates when due, and watch certificates expire."""
    watch_certificates(ctx)
    if ctx.rate_feed is not None:
        ctx.rate_feed.run_due()  # logs its own failures
    try:
        ctx.src.resolve_in_doubt()
    except Exception:  # SRC unreachable: settle what is already known, try the rest next time
        log.warning("could not reach SRC to resolve requests in doubt", exc_info=True)
    report = ctx.engine.recover(min_age_ms=int(ctx.settings.recovery_min_age_seconds * 1000))
    if report.completed or report.dropped or report.deferred or report.in_doubt:
        log.info("recovery: %s", report)
    ctx.engine.purge_keys(ctx.settings.idempotency_retention_days)


def _maintenance_loop(ctx: AppContext, stop: threading.Event) -> None:
    watch_certificates(ctx)
    if ctx.rate_feed is not None:  # at start-up: the rates are current before the first pass
        ctx.rate_feed.run_due()
    while not stop.wait(ctx.settings.maintenance_interval_seconds):
        try:
            maintenance_pass(ctx)
        except Exception:
            log.exception("maintenance pass failed")


def create_app(
    settings: Settings | None = None,
    *,
    db: Database | None = None,
    gateway: SrcGateway | None = None,
    configure_logs: bool = False,
) -> FastAPI:
    """Build the app. Tests pass their own database and gateway; ``openvcr serve`` passes neither."""
    settings = settings or get_settings()
    if configure_logs:
        configure_logging(settings.log_level)
    db = db or Database(settings.database_url)
    gateway = gateway or build_gateway(settings, db)
    ctx = AppContext(
        settings=settings,
        db=db,
        gateway=gateway,
        limiter=RateLimiter(settings.rate_limit_per_second, settings.rate_limit_burst),
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        from openvcr.catalog.classifier import warm_up
        from openvcr.receipts.delivery import mail_worker
        from openvcr.receipts.sms_delivery import sms_worker
        from openvcr.webhooks.delivery import webhook_worker

        warm_up()  # build the classifier index now, not on the first search
        stop = threading.Event()
        thread = threading.Thread(target=_maintenance_loop, args=(ctx, stop), name="openvcr-maintenance", daemon=True)
        thread.start()
        mailer = mail_worker(ctx.settings, ctx.db)  # receipt e-mails, in every worker process; None: held
        mail_stop = mailer.start()[1] if mailer is not None else None
        hook_stop = webhook_worker(ctx.settings, ctx.db).start()[1]  # webhooks, in every worker process
        texter = sms_worker(ctx.settings, ctx.db)  # receipt SMS (SMPP or HTTP), every worker process; None: held
        sms_stop = texter.start()[1] if texter is not None else None
        try:
            yield
        finally:
            stop.set()
            if mail_stop is not None:
                mail_stop.set()
            hook_stop.set()
            if sms_stop is not None:
                sms_stop.set()
            ctx.authenticator.close()
            if ctx.rate_feed is not None:
                ctx.rate_feed.close()
            if configure_logs:
                stop_logging()

    from openvcr.operators.api import OPENAPI_TAG as OPERATOR_TAG

    app = FastAPI(
        lifespan=lifespan,
        title="OpenVCR",
        version=__version__,
        description=API_DESCRIPTION,
        default_response_class=FastJSONResponse,
        docs_url=None,  # /docs and /redoc are served from the package's assets (api.docs)
        openapi_url="/openapi.json",
        redoc_url=None,
        openapi_tags=[OPERATOR_TAG],  # the other tags need no description
    )
    app.state.ctx = ctx
    app.router.route_class = OneHopRoute  # for the routes below; the routers set their own
    install_error_handlers(app)
    # Inside the request context (added first), so a 413 carries the request id like every other answer.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes, respond=envelope)
    app.add_middleware(RequestContextMiddleware)
    for router in _routers():
        app.include_router(router)
    install_docs(app)
    from openvcr.console.api import install_console

    install_console(app)

    health = HealthCheck(ctx.db)

    @app.get("/healthz", include_in_schema=False, response_model=None)
    async def healthz() -> Response:
        if not health.recent():
            await run_in_threadpool(health.check)
        problems = ctx.certificates.problems()
        if problems:  # still serving: degraded, with the reasons (an expired register refuses to send)
            return FastJSONResponse({"status": "degraded", "reasons": problems})
        return Response(_HEALTHY, media_type="application/json")

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    return app


def create_app_from_environment() -> FastAPI:
    """Entry point for uvicorn workers (``factory=True``): settings come from the environment, read now."""
    get_settings.cache_clear()
    sys.setswitchinterval(get_settings().switch_interval_ms / 1000)
    return create_app(configure_logs=True)
