"""The two document kinds of this package for ``openvcr.documents``: ``prepayment`` and ``prepayment_refund``.

A prepayment enters the ledger when it completes (only completed prepayments are in it); a prepayment refund
empties its prepayment. Neither has draft effects to undo when dropped: a dropped refund simply no longer
counts (the ledger ignores refunds of dropped documents).
"""

from __future__ import annotations

from sqlalchemy import Connection

from openvcr.authority.gateway import Receipt
from openvcr.core.journal import CountersDelta
from openvcr.documents.engine import created_fields, src_summary
from openvcr.documents.models import Document, JournalBody
from openvcr.prepayments import repository as repo
from openvcr.prepayments.schemas import PrepaymentCreated, PrepaymentRefundCreated
from openvcr.store.schema.sales import prepayment_refunds, prepayments


class PrepaymentKind:
    name = "prepayment"
    api_type = "prepayment"
    status_path = "/api/v1/prepayments/{id}"
    table = prepayments

    def complete(self, conn: Connection, document: Document, detail_id: int, receipt: Receipt) -> JournalBody:
        prepayment = repo.get_prepayment(conn, detail_id)
        assert document.receipt is not None
        body = {
            "prepayment": detail_id,
            "urlId": document.url_id,
            "cashier": document.cashier_id,
            "buyerTin": prepayment.buyer_tin,
            "amount": prepayment.amount,
            "cash": prepayment.cash,
            "nonCash": prepayment.non_cash,
            "src": src_summary(document.receipt),
        }
        return JournalBody(str(detail_id), body, CountersDelta.prepayment(prepayment.amount))

    def drop(self, conn: Connection, document: Document, detail_id: int) -> None:
        """Nothing to undo: a prepayment has no effect before it completes."""

    def created(
        self, conn: Connection, document: Document, detail_id: int, receipt_url: str | None
    ) -> PrepaymentCreated:
        return PrepaymentCreated(prepayment_id=detail_id, **created_fields(document, receipt_url))


class PrepaymentRefundKind:
    name = "prepayment_refund"
    api_type = "prepaymentRefund"
    status_path = "/api/v1/prepayments/refunds/{id}"
    table = prepayment_refunds

    def complete(self, conn: Connection, document: Document, detail_id: int, receipt: Receipt) -> JournalBody:
        refund = repo.get_refund(conn, detail_id)
        assert document.receipt is not None
        body = {
            "prepaymentRefund": detail_id,
            "prepayment": refund.prepayment_id,
            "urlId": document.url_id,
            "cashier": document.cashier_id,
            "reason": refund.reason,
            "amount": refund.amount,
            "cash": refund.cash,
            "nonCash": refund.non_cash,
            "src": src_summary(document.receipt),
        }
        return JournalBody(str(detail_id), body, CountersDelta.prepayment_refund(refund.amount))

    def drop(self, conn: Connection, document: Document, detail_id: int) -> None:
        """Nothing to undo: the ledger ignores refunds whose document was dropped."""

    def created(
        self, conn: Connection, document: Document, detail_id: int, receipt_url: str | None
    ) -> PrepaymentRefundCreated:
        return PrepaymentRefundCreated(prepayment_refund_id=detail_id, **created_fields(document, receipt_url))


PREPAYMENT = PrepaymentKind()
PREPAYMENT_REFUND = PrepaymentRefundKind()
