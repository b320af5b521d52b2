"""The only two errors a tax-authority adapter raises.

::

    AuthorityError
    ├── AuthorityRetryable   timeout, connection error, HTTP 5xx, SRC codes 101 / 500: may be retried;
    │                        ``sent`` tells whether the request may have reached the authority (in doubt)
    └── AuthorityRejected    the authority answered with a business error: its code and localized text kept
"""

from __future__ import annotations


class AuthorityError(Exception):
    """Base of the adapter's errors."""


class AuthorityRetryable(AuthorityError):
    def __init__(self, message: str, *, sent: bool, code: int | None = None) -> None:
        super().__init__(message)
        self.sent = sent
        self.code = code


class AuthorityRejected(AuthorityError):
    def __init__(self, code: int, message: str, error_message: str | None) -> None:
        super().__init__(f"SRC {code} {message}: {error_message or ''}".rstrip(": "))
        self.code = code
        self.message = message
        self.error_message = error_message
