"""SQL of prepayments, prepayment refunds and the ledger's usages. Rows leave as ``models``.

Rules:
- Reads for the API are scoped to a business entity (the ledger spans its registers); the kinds of
  ``prepayments.documents`` read by detail id (the engine has already scoped the document).
- Only ``completed`` prepayments are in the ledger (``completed_of_customer``, ``completed_page``); a refund
  counts unless its document was dropped (``refunded_ids``, ``live_refund``).
- ``lock`` locks the prepayment rows (PostgreSQL ``FOR UPDATE``; SQLite serializes writers).
- A usage is positive when a sale holds an amount and negative when a sale refund gives it back.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Row, bindparam, delete, insert, select

from openvcr.documents.models import DocumentState
from openvcr.documents.repository import with_document
from openvcr.prepayments.models import (
    Prepayment,
    PrepaymentDocument,
    PrepaymentRefund,
    PrepaymentRefundView,
)
from openvcr.store.schema.documents import documents
from openvcr.store.schema.sales import prepayment_refunds, prepayment_usages, prepayments
from openvcr.store.types import money_sum, names_no_row

# ---- rows → models ---------------------------------------------------------------------------------------


def _prepayment(row: Row[Any]) -> Prepayment:
    return Prepayment(
        id=row.id,
        document_id=row.document_id,
        register_id=row.register_id,
        entity_id=row.entity_id,
        buyer_tin=row.buyer_tin,
        customer_ref=row.customer_ref,
        cash=row.cash,
        non_cash=row.non_cash,
        amount=row.amount,
    )


def _prepayment_document(row: Row[Any]) -> PrepaymentDocument:
    return PrepaymentDocument(
        prepayment=_prepayment(row),
        state=DocumentState(row.state),
        cashier_id=row.cashier_id,
        receipt=row.receipt,
        created_at=row.created_at,
        url_id=row.url_id,
        receipt_language=row.receipt_language,
        receipt_phone=row.receipt_phone,
    )


def _refund(row: Row[Any]) -> PrepaymentRefund:
    return PrepaymentRefund(
        id=row.id,
        document_id=row.document_id,
        register_id=row.register_id,
        prepayment_id=row.prepayment_id,
        reason=row.reason,
        reason_note=row.reason_note,
        cash=row.cash,
        non_cash=row.non_cash,
        amount=row.amount,
    )


def _refund_view(row: Row[Any]) -> PrepaymentRefundView:
    return PrepaymentRefundView(
        refund=_refund(row),
        state=DocumentState(row.state),
        receipt=row.receipt,
        url_id=row.url_id,
        receipt_language=row.receipt_language,
    )


# ---- prepayments -----------------------------------------------------------------------------------------


def insert_prepayment(
    conn: Connection,
    *,
    document_id: int,
    register_id: int,
    entity_id: int,
    buyer: dict[str, Any],
    buyer_tin: str | None,
    customer_ref: str,
    cash: Decimal,
    non_cash: Decimal,
    amount: Decimal,
) -> int:
    """Insert a prepayment's detail row; return its id."""
    return int(
        conn.execute(
            insert(prepayments)
            .values(
                document_id=document_id,
                register_id=register_id,
                entity_id=entity_id,
                buyer=buyer,
                buyer_tin=buyer_tin,
                customer_ref=customer_ref,
                cash=cash,
                non_cash=non_cash,
                amount=amount,
            )
            .returning(prepayments.c.id)
        ).scalar_one()
    )


def get_prepayment(conn: Connection, prepayment_id: int) -> Prepayment:
    """The prepayment with this id (it must exist)."""
    return _prepayment(conn.execute(select(prepayments).where(prepayments.c.id == prepayment_id)).one())


def find_prepayment(
    conn: Connection, entity_id: int, prepayment_id: int, *, lock: bool = False
) -> PrepaymentDocument | None:
    """The entity's prepayment with its document (any state), or ``None``."""
    if names_no_row(prepayment_id):
        return None
    query = with_document(prepayments).where(prepayments.c.id == prepayment_id, prepayments.c.entity_id == entity_id)
    if lock:
        query = query.with_for_update(of=prepayments)
    row = conn.execute(query).first()
    return None if row is None else _prepayment_document(row)


_COMPLETED_OF_CUSTOMER = (
    with_document(prepayments)
    .where(
        prepayments.c.entity_id == bindparam("p_entity"),
        prepayments.c.customer_ref == bindparam("p_customer"),
        documents.c.state == DocumentState.COMPLETED,
    )
    .order_by(prepayments.c.id)
)
_COMPLETED_OF_CUSTOMER_LOCKED = _COMPLETED_OF_CUSTOMER.with_for_update(of=prepayments)


def completed_of_customer(
    conn: Connection, entity_id: int, customer_ref: str, *, lock: bool = False
) -> list[PrepaymentDocument]:
    """The customer's completed prepayments in the entity, oldest first."""
    query = _COMPLETED_OF_CUSTOMER_LOCKED if lock else _COMPLETED_OF_CUSTOMER
    rows = conn.execute(query, {"p_entity": entity_id, "p_customer": customer_ref})
    return [_prepayment_document(row) for row in rows]


def completed_page(
    conn: Connection, entity_id: int, customer_ref: str | None, before: int | None, limit: int
) -> list[PrepaymentDocument]:
    """At most ``limit`` completed prepayments of the entity (of one customer), newest first, below ``before``."""
    query = with_document(prepayments).where(
        prepayments.c.entity_id == entity_id, documents.c.state == DocumentState.COMPLETED
    )
    if customer_ref is not None:
        query = query.where(prepayments.c.customer_ref == customer_ref)
    if before is not None:
        query = query.where(prepayments.c.id < before)
    return [_prepayment_document(row) for row in conn.execute(query.order_by(prepayments.c.id.desc()).limit(limit))]


# ---- refunds -----------------------------------------------------------------------------------------------


def insert_refund(
    conn: Connection,
    *,
    document_id: int,
    register_id: int,
    prepayment_id: int,
    reason: str | None,
    reason_note: str | None,
    cash: Decimal,
    non_cash: Decimal,
    amount: Decimal,
) -> int:
    """Insert a prepayment refund's detail row; return its id."""
    return int(
        conn.execute(
            insert(prepayment_refunds)
            .values(
                document_id=document_id,
                register_id=register_id,
                prepayment_id=prepayment_id,
                reason=reason,
                reason_note=reason_note,
                cash=cash,
                non_cash=non_cash,
                amount=amount,
            )
            .returning(prepayment_refunds.c.id)
        ).scalar_one()
    )


def get_refund(conn: Connection, refund_id: int) -> PrepaymentRefund:
    """The prepayment refund with this id (it must exist)."""
    return _refund(conn.execute(select(prepayment_refunds).where(prepayment_refunds.c.id == refund_id)).one())


def live_refund(conn: Connection, prepayment_id: int) -> PrepaymentRefundView | None:
    """The prepayment's newest refund whose document was not dropped, or ``None``."""
    row = conn.execute(
        with_document(prepayment_refunds)
        .where(prepayment_refunds.c.prepayment_id == prepayment_id, documents.c.state != DocumentState.DROPPED)
        .order_by(prepayment_refunds.c.id.desc())
        .limit(1)
    ).first()
    return None if row is None else _refund_view(row)


def find_refund(conn: Connection, entity_id: int, refund_id: int) -> PrepaymentRefundView | None:
    """The entity's prepayment refund with its document's state and receipt (any state), or ``None``."""
    if names_no_row(refund_id):
        return None
    row = conn.execute(
        with_document(prepayment_refunds)
        .join(prepayments, prepayments.c.id == prepayment_refunds.c.prepayment_id)
        .where(prepayment_refunds.c.id == refund_id, prepayments.c.entity_id == entity_id)
    ).first()
    return None if row is None else _refund_view(row)


_REFUNDED_IDS = (
    select(prepayment_refunds.c.prepayment_id)
    .select_from(prepayment_refunds.join(documents, documents.c.id == prepayment_refunds.c.document_id))
    .where(
        prepayment_refunds.c.prepayment_id.in_(bindparam("p_ids", expanding=True)),
        documents.c.state != DocumentState.DROPPED,
    )
)


def refunded_ids(conn: Connection, prepayment_ids: Sequence[int]) -> set[int]:
    """Those of ``prepayment_ids`` with a refund whose document was not dropped."""
    if not prepayment_ids:
        return set()
    return {int(r[0]) for r in conn.execute(_REFUNDED_IDS, {"p_ids": list(prepayment_ids)})}


# ---- usages (the ledger's movements) ----------------------------------------------------------------------

_USED_AMOUNTS = (
    select(prepayment_usages.c.prepayment_id, money_sum(prepayment_usages.c.amount))
    .where(prepayment_usages.c.prepayment_id.in_(bindparam("p_ids", expanding=True)))
    .group_by(prepayment_usages.c.prepayment_id)
)
_INSERT_USAGES = insert(prepayment_usages)


def used_amounts(conn: Connection, prepayment_ids: Sequence[int]) -> dict[int, Decimal]:
    """Net amount consumed of each of ``prepayment_ids`` (those never used are absent)."""
    if not prepayment_ids:
        return {}
    return {int(pid): total for pid, total in conn.execute(_USED_AMOUNTS, {"p_ids": list(prepayment_ids)})}


def insert_usages(
    conn: Connection,
    entity_id: int,
    sale_id: int,
    amounts: Sequence[tuple[int, Decimal]],
    created_at: int,
    *,
    refund_id: int | None = None,
) -> None:
    """Record (prepayment, amount) usages of a sale (negative ones given back by the sale refund ``refund_id``)."""
    if not amounts:
        return
    conn.execute(
        _INSERT_USAGES,
        [
            {
                "entity_id": entity_id,
                "prepayment_id": prepayment_id,
                "sale_id": sale_id,
                "refund_id": refund_id,
                "amount": amount,
                "created_at": created_at,
            }
            for prepayment_id, amount in amounts
        ],
    )


def sale_usages(conn: Connection, sale_id: int) -> list[tuple[int, int, Decimal]]:
    """(prepayment, entity, net amount) a sale still uses, per prepayment, newest prepayment first."""
    rows = conn.execute(
        select(prepayment_usages.c.prepayment_id, prepayment_usages.c.entity_id, money_sum(prepayment_usages.c.amount))
        .where(prepayment_usages.c.sale_id == sale_id)
        .group_by(prepayment_usages.c.prepayment_id, prepayment_usages.c.entity_id)
        .order_by(prepayment_usages.c.prepayment_id.desc())
    ).all()
    return [(int(p), int(e), n) for p, e, n in rows]


def delete_sale_usages(conn: Connection, sale_id: int) -> None:
    """Forget every usage of a sale (its document was dropped)."""
    conn.execute(delete(prepayment_usages).where(prepayment_usages.c.sale_id == sale_id))
