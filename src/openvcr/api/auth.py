"""Authentication, scopes and rate limiting as FastAPI dependencies.

``require("catalog:write")`` returns a dependency that yields the caller's ``Principal`` or raises
401 (no / unknown / revoked / expired key), 403 (scope missing) or 429 (rate limited, with ``Retry-After``).

The dependency is a coroutine: with the key in the worker's cache it runs on the event loop and does no I/O;
otherwise it reads the key in one hop to a worker thread. It never adds a hop of its own to a request whose key
is cached (see ``registers.keys.Authenticator``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader
from starlette.concurrency import run_in_threadpool

from openvcr.api.context import AppContext, get_context
from openvcr.api.ratelimit import retry_after_header
from openvcr.core.errors import Forbidden, RateLimited
from openvcr.registers.models import Principal

api_key_header = APIKeyHeader(name="X-API-KEY", auto_error=False, description="The register's API key")


def require(scope: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency: the authenticated caller, who must hold ``scope``."""

    async def dependency(
        request: Request,
        ctx: Annotated[AppContext, Depends(get_context)],
        key: Annotated[str | None, Security(api_key_header)],
    ) -> Principal:
        principal = ctx.authenticator.cached(key)
        if principal is None:
            principal = await run_in_threadpool(ctx.authenticator.authenticate, key)
        request.scope.setdefault("state", {})["key_id"] = principal.key_id
        wait = ctx.limiter.acquire(principal.key_id)
        if wait > 0:
            raise RateLimited(retry_after_header(wait))
        if scope not in principal.scopes:
            raise Forbidden(f"This API key lacks the scope {scope!r}")
        return principal

    dependency.__name__ = f"require_{scope.replace(':', '_')}"
    return dependency
