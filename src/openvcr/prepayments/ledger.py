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

The ledger's SQL is in ``prepayments.repository``; this module holds its rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import Connection

from openvcr.core.errors import Issue, ValidationFailed
from openvcr.core.money import ZERO
from openvcr.prepayments import repository as repo
from openvcr.prepayments.models import LedgerEntry, PrepaymentDocument
from openvcr.store.db import now_ms


def entries_for(conn: Connection, found: Sequence[PrepaymentDocument]) -> list[LedgerEntry]:
    """Ledger view of completed prepayments."""
    ids = [f.prepayment.id for f in found]
    used = repo.used_amounts(conn, ids)
    refunded = repo.refunded_ids(conn, ids)
    result = []
    for f in found:
        row = f.prepayment
        if row.id in refunded:
            remaining, state = ZERO, "refunded"
        else:
            remaining = row.amount - used.get(row.id, ZERO)
            state = "open" if remaining > 0 else "consumed"
        result.append(
            LedgerEntry(
                prepayment_id=row.id,
                created_at=f.created_at,
                cash=row.cash,
                non_cash=row.non_cash,
                amount=row.amount,
                buyer_tin=row.buyer_tin,
                customer_ref=row.customer_ref,
                remaining=remaining,
                state=state,
            )
        )
    return result


def open_entries(conn: Connection, entity_id: int, customer_ref: str, *, lock: bool = False) -> list[LedgerEntry]:
    """The customer's open prepayments, oldest first."""
    found = repo.completed_of_customer(conn, entity_id, customer_ref, lock=lock)
    return [e for e in entries_for(conn, found) if e.state == "open"]


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
    repo.insert_usages(conn, entity_id, sale_id, taken, now_ms())
    return taken


def release_holds(conn: Connection, sale_id: int) -> None:
    """Undo a dropped sale's holds: its prepayment goes back to the advances it was held on."""
    repo.delete_sale_usages(conn, sale_id)


def _sale_sources(conn: Connection, sale_id: int) -> list[tuple[int, int, Decimal]]:
    """(prepayment, entity, net amount still consumed) of a sale, newest prepayment first, skipping refunded ones."""
    rows = repo.sale_usages(conn, sale_id)
    refunded = repo.refunded_ids(conn, [p for p, _, _ in rows])
    return [(p, e, n) for p, e, n in rows if p not in refunded]


def returnable_prepayment(conn: Connection, sale_id: int) -> Decimal:
    """How much of a sale's prepayment can still go back to the advances it came from (not refunded since)."""
    return sum((max(net, ZERO) for _, _, net in _sale_sources(conn, sale_id)), ZERO)


def return_prepayment(conn: Connection, sale_id: int, refund_id: int, amount: Decimal) -> None:
    """A sale refund gives consumed prepayment back to the prepayments it came from, newest first.

    Prepayments refunded in the meantime take nothing back (such a refund is refused beforehand: 409).
    """
    left = amount
    now = now_ms()
    for prepayment_id, entity_id, net in _sale_sources(conn, sale_id):
        if left <= 0:
            break
        give = min(left, net)
        if give <= 0:
            continue
        repo.insert_usages(conn, entity_id, sale_id, [(prepayment_id, -give)], now, refund_id=refund_id)
        left -= give
