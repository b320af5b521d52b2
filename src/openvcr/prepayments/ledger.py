"""The prepayment ledger of a business entity: advances paid by a customer, consumed by sales FIFO.

Rules:
- A customer is identified by ``customerRef``: the buyer's TIN, E.164 phone or lower-cased e-mail given at
  deposit time; identities are never merged.
- The ledger spans every register of the business entity.
- Only fiscalized (``completed``) prepayments are in the ledger.
- ``remaining`` of a prepayment = its amount − what sales consumed (+ what sale refunds gave back); a
  prepayment with a refund that was not dropped has nothing remaining and is ``refunded``; otherwise it is
  ``open`` while something remains and ``consumed`` when nothing does.
- A sale paying with ``prepayment`` holds the amount on the open prepayments oldest first (FIFO) in the
  same transaction that writes the pending sale; the rows are locked (PostgreSQL ``FOR UPDATE``; SQLite
  serializes writers), so two sales can never spend the same advance. Asking for more than the balance is a
  400 naming the field, and nothing is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, insert, select

from openvcr.core.errors import Issue, ValidationFailed
from openvcr.core.money import ZERO
from openvcr.documents.models import DocumentState
from openvcr.documents.repository import with_document
from openvcr.store.db import now_ms
from openvcr.store.schema.documents import documents
from openvcr.store.schema.sales import prepayment_refunds, prepayment_usages, prepayments
from openvcr.store.types import money_sum


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


def _used(conn: Connection, prepayment_ids: Sequence[int]) -> dict[int, Decimal]:
    if not prepayment_ids:
        return {}
    rows = conn.execute(
        select(prepayment_usages.c.prepayment_id, money_sum(prepayment_usages.c.amount))
        .where(prepayment_usages.c.prepayment_id.in_(prepayment_ids))
        .group_by(prepayment_usages.c.prepayment_id)
    )
    return {int(pid): total for pid, total in rows}


def _refunded(conn: Connection, prepayment_ids: Sequence[int]) -> set[int]:
    if not prepayment_ids:
        return set()
    rows = conn.execute(
        select(prepayment_refunds.c.prepayment_id)
        .select_from(prepayment_refunds.join(documents, documents.c.id == prepayment_refunds.c.document_id))
        .where(
            prepayment_refunds.c.prepayment_id.in_(prepayment_ids),
            documents.c.state != DocumentState.DROPPED,
        )
    )
    return {int(r[0]) for r in rows}


def entries_for(conn: Connection, rows: Sequence[Any]) -> list[LedgerEntry]:
    """Ledger view of completed prepayment rows."""
    ids = [int(r.id) for r in rows]
    used = _used(conn, ids)
    refunded = _refunded(conn, ids)
    result = []
    for row in rows:
        amount: Decimal = row.amount
        if row.id in refunded:
            remaining, state = ZERO, "refunded"
        else:
            remaining = amount - used.get(row.id, ZERO)
            state = "open" if remaining > 0 else "consumed"
        result.append(
            LedgerEntry(
                prepayment_id=row.id,
                created_at=row.created_at,
                cash=row.cash,
                non_cash=row.non_cash,
                amount=amount,
                buyer_tin=row.buyer_tin,
                customer_ref=row.customer_ref,
                remaining=remaining,
                state=state,
            )
        )
    return result


def open_entries(conn: Connection, entity_id: int, customer_ref: str, *, lock: bool = False) -> list[LedgerEntry]:
    """The customer's open prepayments, oldest first."""
    query = (
        with_document(prepayments)
        .where(
            prepayments.c.entity_id == entity_id,
            prepayments.c.customer_ref == customer_ref,
            documents.c.state == DocumentState.COMPLETED,
        )
        .order_by(prepayments.c.id)
    )
    if lock:
        query = query.with_for_update(of=prepayments)
    return [e for e in entries_for(conn, conn.execute(query).all()) if e.state == "open"]


def hold_prepayment(
    conn: Connection, entity_id: int, customer_ref: str, sale_id: int, amount: Decimal, path: Sequence[str | int]
) -> list[tuple[int, Decimal]]:
    """Consume ``amount`` from the customer's open prepayments, oldest first; return (prepayment, amount)."""
    entries = open_entries(conn, entity_id, customer_ref, lock=True)
    balance = sum((e.remaining for e in entries), ZERO)
    if amount > balance:
        message = f"prepayment {amount} exceeds the customer's open prepayment balance {balance}"
        raise ValidationFailed(message, [Issue(tuple(path), message, "insufficient_prepayment")])
    taken: list[tuple[int, Decimal]] = []
    left = amount
    for entry in entries:
        if left <= 0:
            break
        take = min(left, entry.remaining)
        taken.append((entry.prepayment_id, take))
        left -= take
    now = now_ms()
    conn.execute(
        insert(prepayment_usages),
        [
            {"entity_id": entity_id, "prepayment_id": pid, "sale_id": sale_id, "amount": value, "created_at": now}
            for pid, value in taken
        ],
    )
    return taken


def _sale_sources(conn: Connection, sale_id: int) -> list[tuple[int, int, Decimal]]:
    """(prepayment, entity, net amount still consumed) of a sale, newest prepayment first, skipping refunded ones."""
    rows = conn.execute(
        select(prepayment_usages.c.prepayment_id, prepayment_usages.c.entity_id, money_sum(prepayment_usages.c.amount))
        .where(prepayment_usages.c.sale_id == sale_id)
        .group_by(prepayment_usages.c.prepayment_id, prepayment_usages.c.entity_id)
        .order_by(prepayment_usages.c.prepayment_id.desc())
    ).all()
    refunded = _refunded(conn, [int(r[0]) for r in rows])
    return [(int(p), int(e), n) for p, e, n in rows if int(p) not in refunded]


def returnable_prepayment(conn: Connection, sale_id: int) -> Decimal:
    """How much of a sale's prepayment can still go back to the advances it came from (not refunded since)."""
    return sum((max(net, ZERO) for _, _, net in _sale_sources(conn, sale_id)), ZERO)


def return_prepayment(conn: Connection, sale_id: int, refund_id: int, amount: Decimal) -> None:
    """A sale refund gives consumed prepayment back to the prepayments it came from, newest first.

    Prepayments refunded in the meantime take nothing back (such a refund is refused beforehand: 409).
    """
    rows = _sale_sources(conn, sale_id)
    left = amount
    now = now_ms()
    for prepayment_id, entity_id, net in rows:
        if left <= 0:
            break
        give = min(left, net)
        if give <= 0:
            continue
        conn.execute(
            insert(prepayment_usages).values(
                entity_id=entity_id,
                prepayment_id=prepayment_id,
                sale_id=sale_id,
                refund_id=refund_id,
                amount=-give,
                created_at=now,
            )
        )
        left -= give
