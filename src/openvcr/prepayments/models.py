"""Domain types of prepayments: the stored rows, typed, the ledger's view of them, and the views for the edge.

Rules:
- Amounts are ``Decimal`` exactly as their columns hold them (``store.types``); nothing here re-rounds them.
- A prepayment's or refund's state, cashier, receipt and creation time are its document's
  (``openvcr.documents``); ``receipt`` is the stored SRC receipt, ``None`` until the document is completed.
- ``LedgerEntry.state`` is ``open``, ``consumed`` or ``refunded`` (rules in ``prepayments.ledger``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from openvcr.catalog.models import Cashier
from openvcr.documents.models import DocumentState


@dataclass(frozen=True)
class Prepayment:
    """One prepayment's detail row."""

    id: int
    document_id: int
    register_id: int
    entity_id: int
    buyer_tin: str | None
    customer_ref: str
    cash: Decimal
    non_cash: Decimal
    amount: Decimal


@dataclass(frozen=True)
class PrepaymentDocument:
    """A prepayment with what its document says of it."""

    prepayment: Prepayment
    state: DocumentState
    cashier_id: int
    receipt: dict[str, Any] | None
    created_at: int
    url_id: str  # the public receipt page's id
    receipt_language: str | None  # the language the buyer asked the receipt in
    receipt_phone: str | None = None  # the buyer's phone for receipt SMS (when the register sent them)


@dataclass(frozen=True)
class LedgerEntry:
    prepayment_id: int
    created_at: int
    cash: Decimal
    non_cash: Decimal
    amount: Decimal
    buyer_tin: str | None
    customer_ref: str
    remaining: Decimal
    state: str  # open | consumed | refunded


@dataclass(frozen=True)
class PrepaymentRefund:
    """One prepayment refund's detail row."""

    id: int
    document_id: int
    register_id: int
    prepayment_id: int
    reason: str | None
    reason_note: str | None
    cash: Decimal
    non_cash: Decimal
    amount: Decimal


@dataclass(frozen=True)
class PrepaymentRefundView:
    """A prepayment refund with its document's state and receipt."""

    refund: PrepaymentRefund
    state: DocumentState
    receipt: dict[str, Any] | None
    url_id: str  # the public receipt page's id
    receipt_language: str | None  # the language the buyer asked the receipt in


@dataclass(frozen=True)
class PrepaymentView:
    """One prepayment with its document's state and receipt, its ledger state, its live refund and its cashier."""

    prepayment: Prepayment
    state: DocumentState
    created_at: int
    receipt: dict[str, Any] | None
    entry: LedgerEntry
    refund: PrepaymentRefundView | None
    cashier: Cashier
    url_id: str  # the public receipt page's id
    receipt_language: str | None  # the language the buyer asked the receipt in
