"""The errors of the SDK, one small tree::

    OpenVCRClientError
    ├── NetworkError                  no HTTP answer: connection refused or reset, timeout, TLS failure
    ├── UnexpectedResponseError       an answer that is not the contract's (not JSON, wrong shape)
    └── ApiError                      the server answered ≥ 400 with the error envelope
        ├── BadRequestError               400: malformed or invalid request, ``issues`` locate the fields
        ├── AuthenticationError           401: missing, unknown, revoked or expired API key
        ├── PermissionDeniedError         403: the key lacks the route's scope
        ├── NotFoundError                 404: unknown resource (or another register's)
        ├── ConflictError                 409: state conflict (already refunded, duplicate, key in flight)
        ├── IdempotencyMismatchError      422: the idempotency key was used with another request body
        ├── RateLimitError                429: slow down; ``retry_after`` seconds when the server said
        ├── ServerError                   5xx without ``pending``: nothing was kept
        └── PendingError                  the document was kept but SRC has not registered it (``pending``)
            ├── FiscalizationPendingError     502: SRC unreachable or its answer lost
            └── DocumentRefusedError          409: SRC refused the document (also a ``ConflictError``)

Rules: an ``ApiError`` carries exactly what the envelope said (``status``, ``message``, ``issues``,
``request_id``, ``pending``); no error carries the API key or the request's headers.
"""

from __future__ import annotations

from openvcr.client.models import Issue, Pending


class OpenVCRClientError(Exception):
    """Base of every error the SDK raises."""


class NetworkError(OpenVCRClientError):
    """No HTTP answer. ``reached_server`` is False when the request certainly never left (connect failed);
    otherwise the server may have acted on it — repeat a fiscal call only with the same idempotency key."""

    def __init__(self, message: str, *, method: str, path: str, reached_server: bool) -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.path = path
        self.reached_server = reached_server

    def __str__(self) -> str:
        return f"{self.message} ({self.method} {self.path})"


class UnexpectedResponseError(OpenVCRClientError):
    """The server answered with a body the contract does not describe."""

    def __init__(self, message: str, *, status: int, request_id: str | None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.request_id = request_id


class ApiError(OpenVCRClientError):
    """The server's error envelope: ``{"error", "issues"?, "requestId"?, "pending"?}``."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        issues: tuple[Issue, ...] = (),
        request_id: str | None = None,
        pending: Pending | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.issues = issues
        self.request_id = request_id
        self.pending = pending

    def __str__(self) -> str:
        text = f"{self.status} {self.message}"
        if self.issues:
            text += "; " + "; ".join(f"{'.'.join(map(str, i.path)) or '(body)'}: {i.message}" for i in self.issues)
        if self.request_id:
            text += f" [request {self.request_id}]"
        return text

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status}, message={self.message!r}, request_id={self.request_id!r})"


class BadRequestError(ApiError):
    """400: the request was malformed or failed validation; nothing was written and no key was spent."""


class AuthenticationError(ApiError):
    """401: the API key is missing, unknown, revoked or expired."""


class PermissionDeniedError(ApiError):
    """403: the API key lacks the scope this route needs."""


class NotFoundError(ApiError):
    """404: unknown resource, or one of another register."""


class ConflictError(ApiError):
    """409: a state conflict (already refunded, duplicate ``externalId``, the same key still in flight…)."""


class IdempotencyMismatchError(ApiError):
    """422: the idempotency key was already used with a different request body."""


class RateLimitError(ApiError):
    """429: too many requests; ``retry_after`` is the server's ``Retry-After`` in seconds, when given."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        issues: tuple[Issue, ...] = (),
        request_id: str | None = None,
        pending: Pending | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(status, message, issues=issues, request_id=request_id, pending=pending)
        self.retry_after = retry_after


class ServerError(ApiError):
    """5xx without ``pending``: the server kept nothing (503: the tax authority was unreachable)."""


class PendingError(ApiError):
    """The document was kept but the tax authority has not registered it; ``pending`` says what to do."""

    pending: Pending

    def __init__(
        self,
        status: int,
        message: str,
        *,
        pending: Pending,
        issues: tuple[Issue, ...] = (),
        request_id: str | None = None,
    ) -> None:
        super().__init__(status, message, issues=issues, request_id=request_id, pending=pending)

    @property
    def may_resubmit(self) -> bool:
        """True: SRC registered nothing and nothing will send it; send it again. False: poll ``status_url``."""
        return self.pending.may_resubmit


class FiscalizationPendingError(PendingError):
    """502: SRC could not be reached (or its answer was lost) and the document was kept."""


class DocumentRefusedError(PendingError, ConflictError):
    """409 with ``pending``: SRC refused the document; it will never be fiscalized (``may_resubmit`` False)."""


_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: IdempotencyMismatchError,
}


def error_for(
    status: int,
    message: str,
    *,
    issues: tuple[Issue, ...] = (),
    request_id: str | None = None,
    pending: Pending | None = None,
    retry_after: float | None = None,
) -> ApiError:
    """The ``ApiError`` of one error answer."""
    if pending is not None:
        kind: type[PendingError] = DocumentRefusedError if status == 409 else FiscalizationPendingError
        return kind(status, message, pending=pending, issues=issues, request_id=request_id)
    if status == 429:
        return RateLimitError(status, message, issues=issues, request_id=request_id, retry_after=retry_after)
    cls = _BY_STATUS.get(status) or (ServerError if status >= 500 else ApiError)
    return cls(status, message, issues=issues, request_id=request_id)
