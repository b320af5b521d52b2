"""Prepayments (advance payments) and prepayment refunds: registered with SRC (mode 3), journaled, in the ledger.

Rules:
- A prepayment needs a buyer who can be found again: its ``customerRef`` is the TIN, else the E.164 phone,
  else the lower-cased e-mail (``BuyerIn.customer_ref``); a buyer with none of them → 400 at ``buyer``.
- It is paid in cash and/or non-cash (at least one, total > 0) and registered with SRC ``print`` mode 3
  without items; its journal entry is a ``prepayment`` moving the ``prepayments`` counter by the amount.
- The ledger (``prepayments.ledger``) is per business entity: a prepayment taken on one register is seen,
  spent and refunded on every register of the entity. Reads are scoped to the caller's entity; a prepayment
  of another entity is a 404.
- A prepayment refund is always of the whole remaining amount, split like the prepayment was paid: all of it
  when nothing was consumed, otherwise the non-cash share proportional to the original non-cash share
  (half-up to the cent) and the rest in cash. It is SRC ``getReturnedReceiptInfo`` + ``printReturnReceipt``
  of the mode-3 receipt with amounts only (``sourceCrn`` when the prepayment was taken on another register
  of the entity). A consumed prepayment, or one with a refund (pending or completed), is a 409.
- The prepayment row is locked (``FOR UPDATE``; SQLite serializes writers) while a refund is prepared, and
  sales lock the same rows when they hold a prepayment, so a refund and a sale never spend the same advance.
- Documents follow the pending → SRC → completed protocol of ``sales.documents``: nothing but the pending row
  exists before SRC answered; it is removed when SRC refuses or cannot be reached, and resumed by a retry
  with the same document key when the answer was lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, delete, select

from openvcr.authority.gateway import PrintRequest, Receipt, ReturnRequest
from openvcr.authority.service import SrcService
from openvcr.catalog import repository as catalog_repo
from openvcr.catalog.models import Cashier
from openvcr.config import Settings
from openvcr.core.errors import Conflict, NotFound, ValidationFailed
from openvcr.core.journal import CountersDelta, DocType
from openvcr.core.money import ZERO, round_money
from openvcr.prepayments.ledger import LedgerEntry, entries_for, open_entries
from openvcr.prepayments.schemas import PrepaymentCreate, PrepaymentRefundCreate, StateFilter
from openvcr.registers.repository import get_register
from openvcr.registers.signing_keys import signer_for
from openvcr.sales import documents
from openvcr.sales.recovery import DocumentKind
from openvcr.sales.service import find_cashier
from openvcr.store.db import Database
from openvcr.store.schema.foundation import registers
from openvcr.store.schema.sales import prepayment_refunds, prepayments

PREPAYMENT_MODE = 3
LIST_LIMIT = 500
_BATCH = 500


def normalize_customer_ref(raw: str | None, path: Sequence[str | int] = ("customerRef",)) -> str:
    """A ``customerRef`` query value as stored: trimmed, e-mails lower-cased.

    A ``+`` sent unencoded in a query string arrives as a space; a value that is a space followed by digits
    is read as the E.164 phone it was meant to be.
    """
    if raw is None or not raw.strip():
        raise ValidationFailed.at(path, "customerRef is required: the buyer's TIN, E.164 phone or e-mail")
    value = raw
    if value.startswith(" ") and value.strip().isdigit():
        value = "+" + value.strip()
    value = value.strip()
    if len(value) > 320:
        raise ValidationFailed.at(path, "customerRef is at most 320 characters")
    return value.lower() if "@" in value else value


def refund_split(remaining: Decimal, cash: Decimal, non_cash: Decimal) -> tuple[Decimal, Decimal]:
    """(cash, non-cash) of a refund of ``remaining`` of a prepayment paid ``cash`` + ``non_cash``."""
    amount = cash + non_cash
    if remaining >= amount:
        return cash, non_cash
    share = round_money(remaining * non_cash / amount)
    return remaining - share, share


@dataclass
class _PendingPrepayment:
    prepayment_id: int
    request: PrintRequest


@dataclass
class _PendingRefund:
    refund_id: int
    request: ReturnRequest


@dataclass(frozen=True)
class PrepaymentView:
    """One prepayment with its ledger state, refund and cashier (for the detail route)."""

    row: Any
    entry: LedgerEntry
    refund: Any | None
    cashier: Cashier


class PrepaymentsService:
    def __init__(self, db: Database, src: SrcService, settings: Settings) -> None:
        self.db = db
        self.src = src
        self.settings = settings

    def document_kinds(self) -> list[DocumentKind]:
        """How ``sales.recovery`` finishes or drops this service's pending documents."""
        return [
            DocumentKind(
                "prepayment",
                prepayments,
                self._complete_prepayment,
                lambda conn, row_id: self._drop(conn, prepayments, row_id),
            ),
            DocumentKind(
                "prepayment_refund",
                prepayment_refunds,
                self._complete_refund,
                lambda conn, row_id: self._drop(conn, prepayment_refunds, row_id),
            ),
        ]

    def _signer(self, conn: Connection, register_id: int) -> Any:
        return signer_for(conn, register_id, self.settings.master_key.get_secret_value())

    def _existing(self, table: Any, document_key: str) -> Any:
        with self.db.read() as conn:
            return conn.execute(select(table).where(table.c.document_key == document_key)).first()

    # ---- prepayments -------------------------------------------------------------------------------------

    def create_prepayment(self, register_id: int, body: PrepaymentCreate, document_key: str) -> dict[str, Any]:
        existing = self._existing(prepayments, document_key)
        if existing is not None:
            return self._resume_prepayment(existing)
        return documents.register_pending(
            self.db,
            prepare=lambda conn: self._prepare_prepayment(conn, register_id, body, document_key),
            call=lambda p: self.src.print_receipt(register_id, document_key, p.request),
            complete=lambda conn, p, receipt: self._complete_prepayment(conn, p.prepayment_id, receipt),
            cancel=lambda conn, p: self._drop(conn, prepayments, p.prepayment_id),
        )

    def _prepare_prepayment(
        self, conn: Connection, register_id: int, body: PrepaymentCreate, document_key: str
    ) -> _PendingPrepayment:
        register = get_register(conn, register_id)
        cashier = find_cashier(conn, register_id, body.cashier)
        buyer = body.buyer
        customer_ref = buyer.customer_ref()
        if customer_ref is None:
            raise ValidationFailed.at(
                ["buyer"], "a prepayment needs a buyer who can be found again: give a tin, phone or email"
            )
        cash = body.amount.cash or ZERO
        non_cash = body.amount.non_cash or ZERO
        amount = cash + non_cash
        if amount <= 0:
            raise ValidationFailed.at(["amount"], "a prepayment must be greater than 0")
        request = PrintRequest(
            mode=PREPAYMENT_MODE,
            cashier_id=cashier.number,
            cash_amount=cash,
            card_amount=non_cash,
            partner_tin=buyer.tin,
            items=(),
        )
        prepayment_id = conn.execute(
            prepayments.insert()
            .values(
                **documents.pending_values(
                    register_id=register_id,
                    document_key=document_key,
                    cashier_id=cashier.id,
                    receipt_request=buyer.receipt,
                    src_request=documents.print_request_json(request),
                ),
                entity_id=register.entity_id,
                buyer=buyer.model_dump(mode="json", by_alias=True, exclude_none=True),
                buyer_tin=buyer.tin,
                customer_ref=customer_ref,
                cash=cash,
                non_cash=non_cash,
                amount=amount,
            )
            .returning(prepayments.c.id)
        ).scalar_one()
        return _PendingPrepayment(prepayment_id, request)

    @staticmethod
    def _drop(conn: Connection, table: Any, row_id: int) -> None:
        conn.execute(delete(table).where(table.c.id == row_id, table.c.state == "pending"))

    def _resume_prepayment(self, row: Any) -> dict[str, Any]:
        if row.state == "completed":
            return documents.created("prepayment_id", row.url_id, row.id, row.receipt)
        return documents.resume_pending(
            self.db,
            self.src,
            row,
            complete=self._complete_prepayment,
            drop=lambda conn, row_id: self._drop(conn, prepayments, row_id),
        )

    def _complete_prepayment(self, conn: Connection, prepayment_id: int, receipt: Receipt) -> dict[str, Any]:
        row = conn.execute(select(prepayments).where(prepayments.c.id == prepayment_id)).one()
        if row.state == "completed":
            return documents.created("prepayment_id", row.url_id, row.id, row.receipt)
        stored = documents.mark_completed(conn, prepayments, prepayment_id, receipt)
        body = {
            "prepayment": prepayment_id,
            "urlId": row.url_id,
            "cashier": row.cashier_id,
            "buyerTin": row.buyer_tin,
            "amount": Decimal(row.amount),
            "cash": Decimal(row.cash),
            "nonCash": Decimal(row.non_cash),
            "src": documents.src_summary(stored),
        }
        documents.journal_document(
            conn,
            row,
            receipt,
            doc_type=DocType.PREPAYMENT.value,
            body=body,
            delta=CountersDelta.prepayment(Decimal(row.amount)),
            signer=self._signer(conn, row.register_id),
        )
        return documents.created("prepayment_id", row.url_id, prepayment_id, stored)

    def refund_prepayment(self, register_id: int, body: PrepaymentRefundCreate, document_key: str) -> dict[str, Any]:
        existing = self._existing(prepayment_refunds, document_key)
        if existing is not None:
            return self._resume_refund(existing)
        return documents.register_pending(
            self.db,
            prepare=lambda conn: self._prepare_refund(conn, register_id, body, document_key),
            call=lambda p: self._call_refund(register_id, document_key, p.request),
            complete=lambda conn, p, receipt: self._complete_refund(conn, p.refund_id, receipt),
            cancel=lambda conn, p: self._drop(conn, prepayment_refunds, p.refund_id),
        )

    def _call_refund(self, register_id: int, document_key: str, request: ReturnRequest) -> Receipt:
        self.src.get_returned_receipt_info(register_id, request.receipt_id, request.source_crn)
        return self.src.print_return_receipt(register_id, document_key, request)

    def _prepare_refund(
        self, conn: Connection, register_id: int, body: PrepaymentRefundCreate, document_key: str
    ) -> _PendingRefund:
        register = get_register(conn, register_id)
        cashier = find_cashier(conn, register_id, body.cashier)
        row = conn.execute(
            select(prepayments)
            .where(
                prepayments.c.id == body.prepayment_id,
                prepayments.c.entity_id == register.entity_id,
                prepayments.c.state == "completed",
            )
            .with_for_update()
        ).first()
        if row is None:
            raise NotFound(f"prepayment {body.prepayment_id} not found")
        (entry,) = entries_for(conn, [row])
        if entry.state == "refunded":
            raise Conflict(f"prepayment {row.id} is already refunded")
        if entry.state == "consumed":
            raise Conflict(f"prepayment {row.id} is fully consumed: nothing is left to refund")
        cash, non_cash = refund_split(entry.remaining, Decimal(row.cash), Decimal(row.non_cash))
        source_crn = None
        if row.register_id != register_id:
            source_crn = conn.execute(select(registers.c.crn).where(registers.c.id == row.register_id)).scalar()
        request = ReturnRequest(
            receipt_id=int(row.receipt["srcId"]),
            card_amount=non_cash,
            cash_amount=cash,
            prepayment_amount=ZERO,
            items=(),
            source_crn=source_crn,
        )
        receipt_request = body.receipt
        refund_id = conn.execute(
            prepayment_refunds.insert()
            .values(
                **documents.pending_values(
                    register_id=register_id,
                    document_key=document_key,
                    cashier_id=cashier.id,
                    receipt_request=receipt_request,
                    src_request=documents.return_request_json(request),
                ),
                prepayment_id=row.id,
                reason=body.reason,
                reason_note=body.reason_note,
                cash=cash,
                non_cash=non_cash,
                amount=entry.remaining,
            )
            .returning(prepayment_refunds.c.id)
        ).scalar_one()
        return _PendingRefund(refund_id, request)

    def _resume_refund(self, row: Any) -> dict[str, Any]:
        if row.state == "completed":
            return documents.created("prepayment_refund_id", row.url_id, row.id, row.receipt)
        return documents.resume_pending(
            self.db,
            self.src,
            row,
            complete=self._complete_refund,
            drop=lambda conn, row_id: self._drop(conn, prepayment_refunds, row_id),
        )

    def _complete_refund(self, conn: Connection, refund_id: int, receipt: Receipt) -> dict[str, Any]:
        row = conn.execute(select(prepayment_refunds).where(prepayment_refunds.c.id == refund_id)).one()
        if row.state == "completed":
            return documents.created("prepayment_refund_id", row.url_id, row.id, row.receipt)
        stored = documents.mark_completed(conn, prepayment_refunds, refund_id, receipt)
        body = {
            "prepaymentRefund": refund_id,
            "prepayment": row.prepayment_id,
            "urlId": row.url_id,
            "cashier": row.cashier_id,
            "reason": row.reason,
            "amount": Decimal(row.amount),
            "cash": Decimal(row.cash),
            "nonCash": Decimal(row.non_cash),
            "src": documents.src_summary(stored),
        }
        documents.journal_document(
            conn,
            row,
            receipt,
            doc_type=DocType.PREPAYMENT_REFUND.value,
            body=body,
            delta=CountersDelta.prepayment_refund(Decimal(row.amount)),
            signer=self._signer(conn, row.register_id),
        )
        return documents.created("prepayment_refund_id", row.url_id, refund_id, stored)

    def prepayment(self, entity_id: int, prepayment_id: int) -> PrepaymentView:
        with self.db.read() as conn:
            row = conn.execute(
                select(prepayments).where(
                    prepayments.c.id == prepayment_id,
                    prepayments.c.entity_id == entity_id,
                    prepayments.c.state == "completed",
                )
            ).first()
            if row is None:
                raise NotFound(f"prepayment {prepayment_id} not found")
            (entry,) = entries_for(conn, [row])
            refund = conn.execute(
                select(prepayment_refunds)
                .where(prepayment_refunds.c.prepayment_id == prepayment_id)
                .order_by(prepayment_refunds.c.id.desc())
                .limit(1)
            ).first()
            cashier = catalog_repo.find_cashier(conn, row.register_id, cashier_id=row.cashier_id)
        assert cashier is not None
        return PrepaymentView(row, entry, refund, cashier)

    def prepayments(self, entity_id: int, customer_ref: str | None, state: StateFilter) -> list[LedgerEntry]:
        """The entity's prepayments, newest first (at most ``LIST_LIMIT``), optionally of one customer/state."""
        found: list[LedgerEntry] = []
        before: int | None = None
        with self.db.read() as conn:
            while len(found) < LIST_LIMIT:
                query = select(prepayments).where(
                    prepayments.c.entity_id == entity_id, prepayments.c.state == "completed"
                )
                if customer_ref is not None:
                    query = query.where(prepayments.c.customer_ref == customer_ref)
                if before is not None:
                    query = query.where(prepayments.c.id < before)
                rows = conn.execute(query.order_by(prepayments.c.id.desc()).limit(_BATCH)).all()
                found.extend(e for e in entries_for(conn, rows) if state == "all" or e.state == state)
                if len(rows) < _BATCH:
                    break
                before = int(rows[-1].id)
        return found[:LIST_LIMIT]

    def balance(self, entity_id: int, customer_ref: str) -> tuple[Decimal, list[LedgerEntry]]:
        """The customer's open balance and open prepayments, oldest first (the order sales consume them)."""
        with self.db.read() as conn:
            entries = open_entries(conn, entity_id, customer_ref)
        return sum((e.remaining for e in entries), ZERO), entries
