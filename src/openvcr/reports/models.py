"""Domain types of shift reports and of the document lists.

A shift report is a journal-only fiscal document: SRC e-HDM has no report call, so a report is never sent
to SRC; it is numbered, chained and signed in the register's journal like every document, and its row in
``documents`` is ``completed`` from the start (it carries no SRC receipt).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Generic, Literal, TypeVar

from openvcr.documents.models import FiscalStatus

ReportType = Literal["x", "z"]
REPORT_KINDS: dict[str, str] = {"x": "x_report", "z": "z_report"}
"""A report type → its ``documents.kind`` and journal ``doc_type``."""

ListKind = Literal["sale", "sale_refund", "prepayment_refund"]
MAX_LIMIT = 500
DEFAULT_LIMIT = 100


@dataclass(frozen=True)
class ShiftReport:
    """One X or Z report: its shift and the totals its journal entry states (plain JSON, amounts as text)."""

    id: int
    register_id: int
    type: ReportType
    shift: int
    url_id: str
    cashier_id: int | None
    journal_number: int
    first_number: int | None
    last_number: int | None
    opened_at: int | None
    totals: dict[str, Any]
    created_at: int


@dataclass(frozen=True)
class Cursor:
    """Where a page of a list ends: the last row's creation time and id (lists run newest first)."""

    created_at: int
    id: int


@dataclass(frozen=True)
class Period:
    """A list's filters: ``from_ms`` ≤ created_at < ``to_ms`` (each optional)."""

    from_ms: int | None = None
    to_ms: int | None = None


@dataclass(frozen=True)
class ListedDocument:
    """One row of a document list."""

    id: int
    kind: ListKind
    url_id: str
    state: FiscalStatus
    total: Decimal
    created_at: int
    receipt: dict[str, Any] | None
    receipt_language: str | None
    parent_id: int | None  # a refund's sale or prepayment


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """A page of a list and the cursor of the next one (None: this is the last page)."""

    items: tuple[T, ...]
    next_cursor: Cursor | None
