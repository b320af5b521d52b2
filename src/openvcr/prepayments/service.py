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
- The SQL (the ledger's too) is in ``prepayments.repository``; reads hand the edge ``prepayments.models``
  (``PrepaymentView``, ``PrepaymentRefundView``, ``LedgerEntry``), never rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import Connection

from openvcr.authority.gateway import PrintRequest, ReturnRequest
from openvcr.catalog import repository as catalog_repo
from openvcr.catalog.service import find_cashier
from openvcr.core.errors import Conflict, NotFound, ValidationFailed
from openvcr.core.limits import LimitExceeded
from openvcr.core.money import ZERO, round_money
from openvcr.documents.engine import DocumentEngine
from openvcr.documents.models import DocumentState, Draft, Outcome, ReceiptRequest, RequestKey
from openvcr.prepayments import repository as repo
from openvcr.prepayments.documents import PREPAYMENT, PREPAYMENT_REFUND
from openvcr.prepayments.ledger import entries_for, open_entries
from openvcr.prepayments.models import LedgerEntry, PrepaymentRefundView, PrepaymentView
from openvcr.prepayments.schemas import PrepaymentCreate, PrepaymentRefundCreate, StateFilter
from openvcr.registers.repository import get_register

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
    if any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in value):
        raise ValidationFailed.at(path, "customerRef has no control characters")
    return value.lower() if "@" in value else value


def refund_split(remaining: Decimal, cash: Decimal, non_cash: Decimal) -> tuple[Decimal, Decimal]:
    """(cash, non-cash) of a refund of ``remaining`` of a prepayment paid ``cash`` + ``non_cash``."""
    amount = cash + non_cash
    if remaining >= amount:
        return cash, non_cash
    share = round_money(remaining * non_cash / amount)
    return remaining - share, share


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
        try:
            register.limits.check_prepayment(amount)
        except LimitExceeded as error:
            raise ValidationFailed.at(error.field.split("."), error.message, "limit_exceeded") from error
        request = PrintRequest(
            mode=PREPAYMENT_MODE,
            cashier_id=cashier.number,
            cash_amount=cash,
            card_amount=non_cash,
            partner_tin=buyer.tin,
            items=(),
        )

        def attach(conn: Connection, document_id: int) -> int:
            return repo.insert_prepayment(
                conn,
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

        phone = buyer.phone if register.sms_receipts else None
        return Draft(cashier.id, request, attach, ReceiptRequest.of(buyer.receipt), sms_phone=phone)

    def refund_prepayment(self, register_id: int, body: PrepaymentRefundCreate, key: RequestKey) -> Outcome:
        return self.engine.run(
            register_id, PREPAYMENT_REFUND, key, lambda conn: self._refund_draft(conn, register_id, body)
        )

    def _refund_draft(self, conn: Connection, register_id: int, body: PrepaymentRefundCreate) -> Draft:
        register = get_register(conn, register_id)
        cashier = find_cashier(conn, register_id, body.cashier)
        found = repo.find_prepayment(conn, register.entity_id, body.prepayment_id, lock=True)
        if found is None:
            raise NotFound(f"prepayment {body.prepayment_id} not found")
        prepayment = found.prepayment
        if found.state != DocumentState.COMPLETED:
            raise Conflict(f"prepayment {prepayment.id} is {found.state}, not fiscalized: it cannot be refunded")
        (entry,) = entries_for(conn, [found])
        if entry.state == "refunded":
            raise Conflict(f"prepayment {prepayment.id} is already refunded")
        if entry.state == "consumed":
            raise Conflict(f"prepayment {prepayment.id} is fully consumed: nothing is left to refund")
        cash, non_cash = refund_split(entry.remaining, prepayment.cash, prepayment.non_cash)
        source_crn = None
        if prepayment.register_id != register_id:
            source_crn = get_register(conn, prepayment.register_id).crn
        assert found.receipt is not None
        request = ReturnRequest(
            receipt_id=int(found.receipt["srcId"]),
            card_amount=non_cash,
            cash_amount=cash,
            prepayment_amount=ZERO,
            items=(),
            source_crn=source_crn,
        )

        def attach(conn: Connection, document_id: int) -> int:
            return repo.insert_refund(
                conn,
                document_id=document_id,
                register_id=register_id,
                prepayment_id=prepayment.id,
                reason=body.reason,
                reason_note=body.reason_note,
                cash=cash,
                non_cash=non_cash,
                amount=entry.remaining,
            )

        phone = found.receipt_phone if register.sms_receipts else None
        return Draft(cashier.id, request, attach, ReceiptRequest.of(body.receipt), sms_phone=phone)

    def prepayment(self, entity_id: int, prepayment_id: int) -> PrepaymentView:
        """One prepayment of the entity with its ledger state, live refund and cashier (any state)."""
        with self.db.read() as conn:
            found = repo.find_prepayment(conn, entity_id, prepayment_id)
            if found is None:
                raise NotFound(f"prepayment {prepayment_id} not found")
            (entry,) = entries_for(conn, [found])
            refund = repo.live_refund(conn, prepayment_id)
            cashier = catalog_repo.find_cashier(conn, found.prepayment.register_id, cashier_id=found.cashier_id)
        assert cashier is not None
        return PrepaymentView(
            prepayment=found.prepayment,
            state=found.state,
            created_at=found.created_at,
            receipt=found.receipt,
            entry=entry,
            refund=refund,
            cashier=cashier,
            url_id=found.url_id,
            receipt_language=found.receipt_language,
        )

    def prepayments(self, entity_id: int, customer_ref: str | None, state: StateFilter) -> list[LedgerEntry]:
        """The entity's prepayments, newest first (at most ``LIST_LIMIT``), optionally of one customer/state."""
        found: list[LedgerEntry] = []
        before: int | None = None
        with self.db.read() as conn:
            while len(found) < LIST_LIMIT:
                page = repo.completed_page(conn, entity_id, customer_ref, before, _BATCH)
                found.extend(e for e in entries_for(conn, page) if state == "all" or e.state == state)
                if len(page) < _BATCH:
                    break
                before = page[-1].prepayment.id
        return found[:LIST_LIMIT]

    def balance(self, entity_id: int, customer_ref: str) -> tuple[Decimal, list[LedgerEntry]]:
        """The customer's open balance and open prepayments, oldest first (the order sales consume them)."""
        with self.db.read() as conn:
            entries = open_entries(conn, entity_id, customer_ref)
        return sum((e.remaining for e in entries), ZERO), entries

    def refund_detail(self, entity_id: int, refund_id: int) -> PrepaymentRefundView:
        """One prepayment refund of the entity with its document's state and receipt (any state)."""
        with self.db.read() as conn:
            refund = repo.find_refund(conn, entity_id, refund_id)
        if refund is None:
            raise NotFound(f"prepayment refund {refund_id} not found")
        return refund
