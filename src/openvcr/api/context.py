"""What a running app holds: settings, database, the tax-authority gateway, the rate limiter."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request

from openvcr.api.ratelimit import RateLimiter
from openvcr.authority.gateway import SrcGateway
from openvcr.authority.service import SrcService
from openvcr.config import Settings
from openvcr.registers.keys import Authenticator
from openvcr.store.db import Database


@dataclass
class AppContext:
    settings: Settings
    db: Database
    gateway: SrcGateway
    limiter: RateLimiter = field(default_factory=RateLimiter)
    authenticator: Authenticator = field(init=False)
    src: SrcService = field(init=False)

    def __post_init__(self) -> None:
        self.authenticator = Authenticator(self.db)
        self.src = SrcService(self.db, self.gateway, self.settings)


def get_context(request: Request) -> AppContext:
    ctx = request.app.state.ctx
    assert isinstance(ctx, AppContext)
    return ctx
