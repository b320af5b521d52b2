"""Types of the document engine: states and their transitions, the document row, request keys, outcomes.

Rules:
- A document has exactly one state, in its row (``documents.state``); ``ALLOWED`` lists every transition,
  and the repository refuses any other.
- ``completed`` and ``dropped`` are final. A dropped document was certainly not registered by SRC and is
  never fiscalized or refunded later.
- An ``Idempotency-Key`` is scoped by endpoint and register, 1 to 128 characters; the document key derived
  from it is ``"<endpoint>:<register>:key:<key>"``; without a key a fresh random document key is used.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

import orjson
from sqlalchemy import Connection

from openvcr.authority.gateway import PrintRequest, ReturnRequest
from openvcr.core.errors import ValidationFailed
from openvcr.core.journal import CountersDelta

MAX_KEY_LENGTH = 128


class DocumentState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    COMPLETED = "completed"
    IN_DOUBT = "in_doubt"
    DEFERRED = "deferred"
    DROPPED = "dropped"


FiscalStatus = Literal["pending", "sent", "completed", "in_doubt", "deferred", "dropped"]
"""A document's state as the API shows it (``fiscalStatus``): ``receipt`` is null until ``completed``."""

S = DocumentState
ALLOWED: dict[DocumentState, frozenset[DocumentState]] = {
    S.PENDING: frozenset({S.SENT, S.DEFERRED, S.DROPPED}),
    S.SENT: frozenset({S.COMPLETED, S.IN_DOUBT, S.DEFERRED, S.DROPPED}),
    S.IN_DOUBT: frozenset({S.COMPLETED, S.DEFERRED, S.DROPPED}),
    S.DEFERRED: frozenset({S.SENT, S.DROPPED}),
    S.COMPLETED: frozenset(),
    S.DROPPED: frozenset(),
}
"""Every allowed transition; nothing leaves ``completed`` or ``dropped``."""

UNSETTLED = (S.PENDING, S.SENT, S.IN_DOUBT)
"""States of a document whose SRC outcome is not known yet."""


@dataclass(frozen=True)
class Document:
    """One fiscal document row."""

    id: int
    register_id: int
    kind: str
    document_key: str
    request_hash: str | None
    state: DocumentState
    url_id: str
    cashier_id: int
    receipt_email: str | None
    receipt_language: str | None
    receipt_phone: str | None  # E.164: a receipt SMS goes there on completion
    src_request: dict[str, Any] | None
    receipt: dict[str, Any] | None
    response: bytes | None
    error: str | None
    created_at: int
    completed_at: int | None


@dataclass(frozen=True)
class RequestKey:
    """How a request finds its document again: the document key and, when keyed, the request's hash."""

    document_key: str
    request_hash: str | None

    @classmethod
    def of(cls, endpoint: str, register_id: int, idempotency_key: str | None, payload: Any) -> RequestKey:
        """The key of a request to ``endpoint`` (e.g. ``"POST /sales"``) with its JSON-able ``payload``."""
        if idempotency_key is None:
            return cls(f"{endpoint}:{register_id}:{uuid.uuid4().hex}", None)
        key = idempotency_key.strip()
        if not key or len(key) > MAX_KEY_LENGTH:
            raise ValidationFailed.at(["Idempotency-Key"], f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters")
        return cls(f"{endpoint}:{register_id}:key:{key}", request_hash(endpoint, payload))


def request_hash(endpoint: str, payload: Any) -> str:
    return hashlib.sha256(endpoint.encode() + b"\n" + orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()


@dataclass(frozen=True)
class Outcome:
    """The response of a fiscal POST: the stored body, and whether it is a replay."""

    body: bytes
    replayed: bool


@dataclass(frozen=True)
class ReceiptRequest:
    """The buyer's wish to have the receipt e-mailed."""

    email: str
    language: str

    @classmethod
    def of(cls, wish: Any | None) -> ReceiptRequest | None:
        """From a request's ``receipt`` object (``email``, ``language``), if it has one."""
        return None if wish is None else cls(str(wish.email), str(wish.language))


@dataclass(frozen=True)
class Draft:
    """What a kind drafted inside the first transaction: the document's SRC request and its detail rows.

    ``attach(conn, document_id)`` inserts the kind's detail rows (and effects such as ledger holds) and
    returns the detail row's id (the API's ``saleId``, ``prepaymentId`` …).
    """

    cashier_id: int
    request: PrintRequest | ReturnRequest
    attach: Callable[[Connection, int], int]
    receipt: ReceiptRequest | None = None
    sms_phone: str | None = None  # the buyer's E.164 phone, when the register sends receipt SMS


@dataclass(frozen=True)
class JournalBody:
    """What a completed document writes to its register's journal."""

    doc_ref: str
    body: dict[str, Any]
    delta: CountersDelta
