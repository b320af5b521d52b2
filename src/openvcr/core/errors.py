"""The domain error hierarchy. Stable codes; mapped to HTTP once, in ``openvcr.api.errors``.

::

    OpenVCRError
    ├── ValidationFailed            bad input (400), with per-field issues
    ├── NotAuthenticated            no / unknown / revoked credentials (401)
    ├── Forbidden                   authenticated, but not allowed (403)
    ├── NotFound                    unknown resource, or another register's (404)
    ├── Conflict                    state conflict: duplicate, already refunded, key in flight (409)
    ├── IdempotencyMismatch         an Idempotency-Key reused with a different request (422)
    ├── RateLimited                 too many requests (429)
    ├── AuthorityUnavailable        the tax authority could not be reached; nothing recorded (503)
    ├── AuthorityInDoubt            the authority's answer was lost; settled later (503)
    ├── FiscalizationPending        a fiscal document was kept but SRC has not registered it (502 + pending)
    ├── AuthorityRefused            the tax authority rejected a request (400)
    │   └── DocumentRefused             … a fiscal document (409, with ``pending`` when its row was kept)
    └── JournalError                a broken journal rule (500: never the caller's fault)
        ├── CounterGapError             a number is missing (or the counters do not match the number)
        ├── ChainBrokenError            prev_hash is not the previous entry's hash
        ├── SignatureInvalidError       the signature does not verify (or another key signed)
        ├── EntryOrderError             a number repeats or comes out of order
        ├── ContentAlteredError         the content does not hash to the entry's recorded hash
        ├── CountersShrinkError         a counter went down (counters only grow)
        ├── CountersMismatchError       the counters do not follow from the previous ones and the entry
        ├── MalformedEntryError         an entry or export line that cannot be read
        ├── InvalidDeltaError           a counters change that breaks a rule (negative, float, money on training)
        ├── DuplicateDocumentError      the document is already in the journal
        └── ShiftTotalsError            an X or Z report's totals are not the sum of its shift's entries
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

EXCERPT_CHARS = 24


def excerpt(value: object, limit: int = EXCERPT_CHARS) -> str:
    """The start of an input for an error message, quoted: never more than ``limit`` characters of it."""
    text = str(value)
    return repr(text[:limit]) + ("…" if len(text) > limit else "")


@dataclass(frozen=True)
class Issue:
    """One problem with one field of the input."""

    path: tuple[str | int, ...]
    message: str
    code: str = "invalid"


class OpenVCRError(Exception):
    """Base of every error OpenVCR raises on purpose."""

    code: str = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationFailed(OpenVCRError):
    code = "validation_failed"

    def __init__(self, message: str, issues: Sequence[Issue] = ()) -> None:
        super().__init__(message)
        self.issues = tuple(issues)

    @classmethod
    def at(cls, path: Sequence[str | int], message: str, code: str = "invalid") -> ValidationFailed:
        """A validation failure of exactly one field."""
        return cls(message, [Issue(tuple(path), message, code)])


class NotAuthenticated(OpenVCRError):
    code = "unauthorized"


class Forbidden(OpenVCRError):
    code = "forbidden"


class NotFound(OpenVCRError):
    code = "not_found"


class Conflict(OpenVCRError):
    code = "conflict"


class IdempotencyMismatch(OpenVCRError):
    """The Idempotency-Key was already used with a different request body (or endpoint)."""

    code = "idempotency_mismatch"


class RateLimited(OpenVCRError):
    code = "rate_limited"

    def __init__(self, retry_after_seconds: int, message: str = "Too many requests") -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class AuthorityUnavailable(OpenVCRError):
    """The tax authority could not be reached before anything was registered: safe to retry."""

    code = "authority_unavailable"


class AuthorityInDoubt(OpenVCRError):
    """A request reached the tax authority but its answer was lost; the document completes once settled."""

    code = "authority_in_doubt"

    def __init__(self, document_key: str, message: str | None = None) -> None:
        super().__init__(
            message
            or "The tax authority's answer was lost; the document will complete once it answers. "
            "Retry with the same Idempotency-Key to get the result."
        )
        self.document_key = document_key


class AuthorityRefused(OpenVCRError):
    """The tax authority answered and refused the request (its code and localized text preserved)."""

    code = "authority_refused"

    def __init__(self, message: str, authority_code: int, authority_message: str) -> None:
        super().__init__(message)
        self.authority_code = authority_code
        self.authority_message = authority_message


class DocumentRefused(AuthorityRefused):
    """SRC refused a fiscal document; ``pending`` describes the (dropped) document row when one was kept."""

    def __init__(self, refused: AuthorityRefused, pending: PendingDocument | None) -> None:
        super().__init__(refused.message, refused.authority_code, refused.authority_message)
        self.pending = pending


@dataclass(frozen=True)
class PendingDocument:
    """The contract's ``pending`` object: a document kept although SRC has not registered it."""

    type: str  # sale | saleRefund | prepayment | prepaymentRefund
    id: int
    status_url: str
    may_resubmit: bool


class FiscalizationPending(OpenVCRError):
    """SRC could not be reached (or its answer was lost) and the document was kept: see ``pending``."""

    code = "fiscalization_pending"

    def __init__(self, message: str, pending: PendingDocument) -> None:
        super().__init__(message)
        self.pending = pending


class JournalError(OpenVCRError):
    """A broken journal rule; ``number`` is the entry it concerns (when known), ``register_id`` its register."""

    code = "journal_error"

    def __init__(self, message: str, *, register_id: int | None = None, number: int | None = None) -> None:
        super().__init__(message)
        self.register_id = register_id
        self.number = number


class CounterGapError(JournalError):
    code = "counter_gap"


class ChainBrokenError(JournalError):
    code = "chain_broken"


class SignatureInvalidError(JournalError):
    code = "signature_invalid"


class EntryOrderError(JournalError):
    code = "entry_order"


class ContentAlteredError(JournalError):
    code = "content_altered"


class CountersShrinkError(JournalError):
    code = "counters_shrink"


class CountersMismatchError(JournalError):
    code = "counters_mismatch"


class MalformedEntryError(JournalError):
    code = "malformed_entry"


class InvalidDeltaError(JournalError):
    code = "invalid_delta"


class DuplicateDocumentError(JournalError):
    code = "duplicate_document"


class ShiftTotalsError(JournalError):
    code = "shift_totals"
