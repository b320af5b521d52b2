"""What a running app holds: settings, database, the tax-authority gateway, the rate limiter, the rate feed."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request

from openvcr.api.ratelimit import RateLimiter
from openvcr.authority.expiry import CertificateWatch
from openvcr.authority.gateway import SrcGateway
from openvcr.authority.service import SrcService
from openvcr.config import Settings
from openvcr.documents.engine import DocumentEngine, DocumentKind
from openvcr.prepayments.documents import PREPAYMENT, PREPAYMENT_REFUND
from openvcr.registers.keys import Authenticator
from openvcr.sales.cba import RateFeed
from openvcr.sales.documents import SALE, SALE_REFUND
from openvcr.store.db import Database

DOCUMENT_KINDS: tuple[DocumentKind, ...] = (SALE, SALE_REFUND, PREPAYMENT, PREPAYMENT_REFUND)


@dataclass
class AppContext:
    settings: Settings
    db: Database
    gateway: SrcGateway
    limiter: RateLimiter = field(default_factory=RateLimiter)
    authenticator: Authenticator = field(init=False)
    src: SrcService = field(init=False)
    engine: DocumentEngine = field(init=False)
    rate_feed: RateFeed | None = field(init=False)  # the CBA rate feed, when configured (sales.cba)
    certificates: CertificateWatch = field(init=False)  # registers' own SRC certificates' expiry

    def __post_init__(self) -> None:
        self.authenticator = Authenticator(self.db, self.settings.key_cache_seconds)
        self.src = SrcService(self.db, self.gateway, self.settings)
        self.engine = DocumentEngine(self.db, self.src, self.settings, DOCUMENT_KINDS)
        self.rate_feed = RateFeed.from_settings(self.settings, self.db)
        self.certificates = CertificateWatch(self.db)


def context_of(request: Request) -> AppContext:
    ctx = request.app.state.ctx
    assert isinstance(ctx, AppContext)
    return ctx


async def get_context(request: Request) -> AppContext:
    """The dependency. A coroutine, so that FastAPI calls it on the event loop instead of in a thread."""
    return context_of(request)
