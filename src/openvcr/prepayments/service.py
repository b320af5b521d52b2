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
  of the entity). A consumed prepayment, or one with a refund that was not dropped, is a 409.
- The prepayment row is locked (``FOR UPDATE``; SQLite serializes writers) while a refund is prepared, and
  sales lock the same rows when they hold a prepayment, so a refund and a sale never spend the same advance.
- Each prepayment and refund is a document of ``openvcr.documents`` (kinds in ``prepayments.documents``):
  this service only drafts it; only a completed (fiscalized) prepayment is in the ledger or can be refunded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select

from openvcr.authority.gateway import PrintRequest, ReturnRequest
from openvcr.catalog import repository as catalog_repo
from openvcr.catalog.models import Cashier
from openvcr.catalog.service import find_cashier
from openvcr.core.errors import Conflict, NotFound, ValidationFailed
from openvcr.core.money import ZERO, round_money
from openvcr.documents.engine import DocumentEngine
from openvcr.documents.models import DocumentState, Draft, Outcome, ReceiptRequest, RequestKey
from openvcr.documents.repository import with_document
from openvcr.prepayments.documents import PREPAYMENT, PREPAYMENT_REFUND
from openvcr.prepayments.ledger import LedgerEntry, entries_for, open_entries
from openvcr.prepayments.schemas import PrepaymentCreate, PrepaymentRefundCreate, StateFilter
from openvcr.registers.repository import get_register
from openvcr.store.schema.documents import documents
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


@dataclass(frozen=True)
class PrepaymentView:
    """One prepayment with its ledger state, refund and cashier (for the detail route)."""

    row: Any
    entry: LedgerEntry
    refund: Any | None
    cashier: Cashier


class PrepaymentsService:
    def __init__(self, engine: DocumentEngine) -> None:
        self.engine = engine
        self.db = engine.db

    # ---- prepayments -------------------------------------------------------------------------------------

    def create_prepayment(self, register_id: int, body: PrepaymentCreate, key: RequestKey) -> Outcome:
        return self.engine.run(
            register_id, PREPAYMENT, key, lambda conn: self._prepayment_draft(conn, register_id, body)
        )

    def _prepayment_draft(self, conn: Connection, register_id: int, body: PrepaymentCreate) -> Draft:
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

        def attach(conn: Connection, document_id: int) -> int:
            return int(
                conn.execute(
                    prepayments.insert()
                    .values(
                        document_id=document_id,
                        register_id=register_id,
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
            )

        return Draft(cashier.id, request, attach, ReceiptRequest.of(buyer.receipt))

    def refund_prepayment(self, register_id: int, body: PrepaymentRefundCreate, key: RequestKey) -> Outcome:
        return self.engine.run(
            register_id, PREPAYMENT_REFUND, key, lambda conn: self._refund_draft(conn, register_id, body)
        )

    def _refund_draft(self, conn: Connection, register_id: int, body: PrepaymentRefundCreate) -> Draft:
        register = get_register(conn, register_id)
        cashier = find_cashier(conn, register_id, body.cashier)
        row = conn.execute(
            with_document(prepayments)
            .where(prepayments.c.id == body.prepayment_id, prepayments.c.entity_id == register.entity_id)
            .with_for_update(of=prepayments)
        ).first()
        if row is None:
            raise NotFound(f"prepayment {body.prepayment_id} not found")
        if row.state != DocumentState.COMPLETED:
            raise Conflict(f"prepayment {row.id} is {row.state}, not fiscalized: it cannot be refunded")
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

        def attach(conn: Connection, document_id: int) -> int:
            return int(
                conn.execute(
                    prepayment_refunds.insert()
                    .values(
                        document_id=document_id,
                        register_id=register_id,
                        prepayment_id=row.id,
                        reason=body.reason,
                        reason_note=body.reason_note,
                        cash=cash,
                        non_cash=non_cash,
                        amount=entry.remaining,
                    )
                    .returning(prepayment_refunds.c.id)
                ).scalar_one()
            )

        return Draft(cashier.id, request, attach, ReceiptRequest.of(body.receipt))

    def prepayment(self, entity_id: int, prepayment_id: int) -> PrepaymentView:
        with self.db.read() as conn:
            row = conn.execute(
                with_document(prepayments).where(
                    prepayments.c.id == prepayment_id, prepayments.c.entity_id == entity_id
                )
            ).first()
            if row is None:
                raise NotFound(f"prepayment {prepayment_id} not found")
            (entry,) = entries_for(conn, [row])
            refund = conn.execute(
                with_document(prepayment_refunds)
                .where(
                    prepayment_refunds.c.prepayment_id == prepayment_id,
                    documents.c.state != DocumentState.DROPPED,
                )
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
                query = with_document(prepayments).where(
                    prepayments.c.entity_id == entity_id, documents.c.state == DocumentState.COMPLETED
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

    def refund_detail(self, entity_id: int, refund_id: int) -> Any:
        """One prepayment refund of the entity with its document's state and receipt (any state)."""
        with self.db.read() as conn:
            refund = conn.execute(
                with_document(prepayment_refunds)
                .join(prepayments, prepayments.c.id == prepayment_refunds.c.prepayment_id)
                .where(prepayment_refunds.c.id == refund_id, prepayments.c.entity_id == entity_id)
            ).first()
        if refund is None:
            raise NotFound(f"prepayment refund {refund_id} not found")
        return refund
