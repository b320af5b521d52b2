"""Domain errors → HTTP, in one place. Every status ≥ 400 answers with the contract's envelope:

``{"error": "<message>", "issues": [{"path": [...], "message": "...", "code": "..."}], "requestId": "<id>"}``
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from openvcr.api.observability import request_id_var
from openvcr.api.responses import FastJSONResponse
from openvcr.core import errors as e

log = logging.getLogger("openvcr.api")

STATUS_BY_ERROR: tuple[tuple[type[e.OpenVCRError], int], ...] = (
    (e.ValidationFailed, 400),
    (e.NotAuthenticated, 401),
    (e.Forbidden, 403),
    (e.NotFound, 404),
    (e.Conflict, 409),
    (e.IdempotencyMismatch, 422),
    (e.RateLimited, 429),
    (e.AuthorityUnavailable, 503),
    (e.AuthorityInDoubt, 503),
    (e.FiscalizationPending, 502),
    (e.DocumentRefused, 409),
    (e.AuthorityRefused, 400),
    (e.JournalError, 500),
)

_HTTP_MESSAGES = {
    400: "Bad request",
    401: "Missing or invalid API key",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Unprocessable request",
    429: "Too many requests",
    500: "Internal error",
    502: "Bad gateway",
    503: "Service unavailable",
}


def envelope(
    status: int,
    message: str,
    issues: list[dict[str, Any]] | None = None,
    pending: e.PendingDocument | None = None,
    request_id: str | None = None,
) -> FastJSONResponse:
    body: dict[str, Any] = {"error": message}
    if issues is not None:
        body["issues"] = issues
    if pending is not None:
        body["pending"] = {
            "type": pending.type,
            "id": pending.id,
            "statusUrl": pending.status_url,
            "mayResubmit": pending.may_resubmit,
        }
    rid = request_id or request_id_var.get()
    if rid:
        body["requestId"] = rid
    response = FastJSONResponse(body, status_code=status)
    if request_id:  # answered outside the request context: the middleware cannot add the header
        response.headers["X-Request-Id"] = request_id
    return response


def status_of(error: e.OpenVCRError) -> int:
    for cls, status in STATUS_BY_ERROR:
        if isinstance(error, cls):
            return status
    return 500


def _issue_path(loc: tuple[Any, ...]) -> list[str | int]:
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    # Drop pydantic's union/tag markers such as "function-after[...]" or model names inside unions.
    return [p for p in parts if isinstance(p, int) or (isinstance(p, str) and "[" not in p)]


def validation_issues(errors: list[Any]) -> tuple[str, list[dict[str, Any]]]:
    issues: list[dict[str, Any]] = []
    malformed = False
    for err in errors:
        kind = str(err.get("type", "invalid"))
        message = str(err.get("msg", "invalid value"))
        if kind == "json_invalid":
            malformed = True
            reason = (err.get("ctx") or {}).get("error")
            if isinstance(reason, str) and reason:
                message = f"{message}: {reason[:100]}"
        if message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        issues.append({"path": _issue_path(tuple(err.get("loc", ()))), "message": message, "code": kind})
    if malformed:
        return "Malformed JSON body", issues
    return "Validation failed", issues


def install_error_handlers(app: FastAPI) -> None:
    async def on_domain_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, e.OpenVCRError)
        status = status_of(exc)
        if isinstance(exc, e.ValidationFailed):
            issues = [{"path": list(i.path), "message": i.message, "code": i.code} for i in exc.issues]
            return envelope(status, exc.message, issues)
        pending = exc.pending if isinstance(exc, e.FiscalizationPending | e.DocumentRefused) else None
        response = envelope(status, exc.message, pending=pending)
        if isinstance(exc, e.RateLimited):
            response.headers["Retry-After"] = str(exc.retry_after_seconds)
        if status >= 500:
            log.error("domain error %s: %s", exc.code, exc.message)
        return response

    async def on_validation_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        message, issues = validation_issues(list(exc.errors()))
        return envelope(400, message, issues)

    async def on_http_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        message = (
            exc.detail if isinstance(exc.detail, str) and exc.detail else _HTTP_MESSAGES.get(exc.status_code, "Error")
        )
        if exc.status_code == 404 and message == "Not Found":
            message = "Not found"
        if exc.status_code == 405 and message == "Method Not Allowed":
            message = "Method not allowed"
        response = envelope(exc.status_code, message)
        for key, value in (exc.headers or {}).items():
            response.headers[key] = value
        return response

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        # Starlette answers an unhandled exception outside every middleware, after the request context ended:
        # the request id comes from the scope, where the context middleware left it.
        rid = request.scope.get("state", {}).get("request_id")
        token = request_id_var.set(rid)
        try:
            log.exception("unexpected error", exc_info=exc)
        finally:
            request_id_var.reset(token)
        return envelope(500, "Internal error; retry with exponential backoff", request_id=rid)

    app.add_exception_handler(e.OpenVCRError, on_domain_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected)
