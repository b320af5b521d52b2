"""What the public receipt page shows: a completed fiscal document found by its ``urlId``, and whether its
journal entry verifies.

Rules:
- ``urlId`` is unique among documents; the page shows completed documents only (only they have a receipt).
- The verification status re-checks the document's own journal entry, in this order, and names the first
  failure: the entry exists (``missing``); its content bytes hash to the recorded hash, are in canonical
  form and say the same number / type / reference / previous hash as the row (``content_altered``); the
  register's public key is on file (``no_key``) and the signature verifies under it, with the content's
  ``key_id`` being that key's (``signature_invalid``); the previous entry's hash is this entry's
  ``prev_hash`` (the genesis hash for entry 1) and the next entry, if any, links back to this one
  (``chain_broken``); the signed body is this document: same ``urlId``, SRC receipt id and amount
  (``document_mismatch``).
- The whole journal is verified by ``openvcr verify``; the page checks one entry and its two links, which
  is what a buyer can be shown in one request.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import Connection, Table, select

from openvcr.catalog.models import OfferTitle
from openvcr.core.canonical import parse
from openvcr.core.errors import MalformedEntryError
from openvcr.core.journal import GENESIS_HASH, DocType, content_bytes, entry_hash
from openvcr.core.signing import load_public_key
from openvcr.documents.models import DocumentState
from openvcr.documents.repository import with_document
from openvcr.registers.journal import entry_for
from openvcr.store.schema.documents import documents
from openvcr.store.schema.foundation import registers
from openvcr.store.schema.journal import journal_entries
from openvcr.store.schema.sales import (
    prepayment_refunds,
    prepayments,
    sale_items,
    sale_refund_items,
    sale_refunds,
    sales,
)

DOCUMENT_TABLES: dict[str, Table] = {
    DocType.SALE.value: sales,
    DocType.SALE_REFUND.value: sale_refunds,
    DocType.PREPAYMENT.value: prepayments,
    DocType.PREPAYMENT_REFUND.value: prepayment_refunds,
}


@dataclass(frozen=True)
class Verification:
    ok: bool
    reason: str | None  # None when ok; else missing | content_altered | no_key | signature_invalid | ...
    number: int | None = None  # the entry's number in the register's journal


@dataclass(frozen=True)
class ReceiptLine:
    title: dict[str, str]  # language → text
    quantity: Decimal
    unit: str
    price: Decimal | None
    discount: Decimal | None
    discount_type: str | None
    additional_discount: Decimal | None
    additional_discount_type: str | None
    total: Decimal


@dataclass(frozen=True)
class ReceiptDocument:
    """A completed fiscal document as the receipt page shows it."""

    kind: str  # sale | sale_refund | prepayment | prepayment_refund
    document_id: int
    register_id: int
    url_id: str
    receipt: dict[str, Any]  # SRC's receipt as stored (documents.receipt_json)
    total: Decimal
    payments: tuple[tuple[str, Decimal], ...]  # (cash | non_cash | prepayment_used | compensation, amount)
    change: Decimal
    lines: tuple[ReceiptLine, ...] = ()
    refund_of: int | None = None  # SRC receipt id of the refunded receipt
    verification: Verification = field(default_factory=lambda: Verification(False, "missing"))


def _dec(value: Any) -> Decimal:
    return Decimal(str(value))


def _payments(row: Any, names: tuple[tuple[str, str], ...]) -> tuple[tuple[str, Decimal], ...]:
    return tuple((label, getattr(row, column)) for label, column in names if getattr(row, column) != 0)


def _sale_lines(conn: Connection, sale_id: int) -> tuple[ReceiptLine, ...]:
    rows = conn.execute(select(sale_items).where(sale_items.c.sale_id == sale_id).order_by(sale_items.c.line_no))
    return tuple(
        ReceiptLine(
            title=OfferTitle.from_json(row.offer["title"]).texts,
            quantity=row.quantity,
            unit=row.unit,
            price=row.price,
            discount=row.discount,
            discount_type=row.discount_type,
            additional_discount=row.additional_discount,
            additional_discount_type=row.additional_discount_type,
            total=row.total,
        )
        for row in rows
    )


def _refund_lines(conn: Connection, refund_id: int, sale_id: int) -> tuple[ReceiptLine, ...]:
    rows = conn.execute(
        select(sale_refund_items, sale_items.c.offer, sale_items.c.unit, sale_items.c.price)
        .join(
            sale_items,
            (sale_items.c.sale_id == sale_id) & (sale_items.c.line_no == sale_refund_items.c.line_no),
        )
        .where(sale_refund_items.c.refund_id == refund_id)
        .order_by(sale_refund_items.c.line_no)
    )
    return tuple(
        ReceiptLine(
            title=OfferTitle.from_json(row.offer["title"]).texts,
            quantity=row.quantity,
            unit=row.unit,
            price=row.price,
            discount=None,
            discount_type=None,
            additional_discount=None,
            additional_discount_type=None,
            total=row.amount,
        )
        for row in rows
    )


_SALE_PAYMENTS = (
    ("cash", "cash"),
    ("non_cash", "non_cash"),
    ("prepayment_used", "prepayment"),
    ("compensation", "compensation"),
)
_PREPAYMENT_PAYMENTS = (("cash", "cash"), ("non_cash", "non_cash"))


def _document(conn: Connection, kind: str, row: Any) -> ReceiptDocument:
    common = {
        "kind": kind,
        "document_id": int(row.id),
        "register_id": int(row.register_id),
        "url_id": row.url_id,
        "receipt": dict(row.receipt),
    }
    if kind == DocType.SALE.value:
        return ReceiptDocument(
            **common,
            total=row.total,
            payments=_payments(row, _SALE_PAYMENTS),
            change=row.change,
            lines=_sale_lines(conn, row.id),
        )
    if kind == DocType.SALE_REFUND.value:
        sale = conn.execute(with_document(sales).where(sales.c.id == row.sale_id)).one()
        return ReceiptDocument(
            **common,
            total=row.total,
            payments=_payments(row, _SALE_PAYMENTS),
            change=Decimal("0.00"),
            lines=_refund_lines(conn, row.id, row.sale_id),
            refund_of=int(sale.receipt["srcId"]),
        )
    if kind == DocType.PREPAYMENT.value:
        return ReceiptDocument(
            **common, total=row.amount, payments=_payments(row, _PREPAYMENT_PAYMENTS), change=Decimal("0.00")
        )
    prepayment = conn.execute(with_document(prepayments).where(prepayments.c.id == row.prepayment_id)).one()
    return ReceiptDocument(
        **common,
        total=row.amount,
        payments=_payments(row, _PREPAYMENT_PAYMENTS),
        change=Decimal("0.00"),
        refund_of=int(prepayment.receipt["srcId"]),
    )


def _signed_amount(kind: str, body: dict[str, Any]) -> Any:
    return body.get("total") if kind in (DocType.SALE.value, DocType.SALE_REFUND.value) else body.get("amount")


def verify_document(conn: Connection, document: ReceiptDocument) -> Verification:
    """Re-verify the document's journal entry (see the module rules)."""
    entry = entry_for(conn, document.kind, str(document.document_id), register_id=document.register_id)
    if entry is None:
        return Verification(False, "missing")
    number = entry.number
    try:
        content = parse(entry.content)
        canonical = content_bytes(content) == entry.content
    except (MalformedEntryError, orjson.JSONDecodeError):
        return Verification(False, "content_altered", number)
    if (
        entry_hash(entry.content) != entry.hash
        or not canonical
        or not isinstance(content, dict)
        or content.get("number") != entry.number
        or content.get("register") != entry.register_id
        or content.get("type") != entry.doc_type
        or content.get("ref") != entry.doc_ref
        or content.get("prev_hash") != entry.prev_hash
        or not isinstance(content.get("body"), dict)
    ):
        return Verification(False, "content_altered", number)
    pem = conn.execute(select(registers.c.public_key_pem).where(registers.c.id == document.register_id)).scalar()
    if pem is None:
        return Verification(False, "no_key", number)
    try:
        key = load_public_key(str(pem))
    except ValueError:
        return Verification(False, "no_key", number)
    if content.get("key_id") != key.key_id or not key.verify(entry.content, entry.signature):
        return Verification(False, "signature_invalid", number)
    if not _linked(conn, document.register_id, number, entry.prev_hash, entry.hash):
        return Verification(False, "chain_broken", number)
    body = content["body"]
    src = body.get("src") if isinstance(body.get("src"), dict) else {}
    amount = _signed_amount(document.kind, body)
    if (
        body.get("urlId") != document.url_id
        or src.get("receiptId") != document.receipt.get("srcId")
        or amount is None
        or _dec(amount) != document.total
    ):
        return Verification(False, "document_mismatch", number)
    return Verification(True, None, number)


def _linked(conn: Connection, register_id: int, number: int, prev_hash: str, own_hash: str) -> bool:
    neighbours = {
        int(row.number): row
        for row in conn.execute(
            select(journal_entries.c.number, journal_entries.c.hash, journal_entries.c.prev_hash).where(
                journal_entries.c.register_id == register_id,
                journal_entries.c.number.in_([number - 1, number + 1]),
            )
        )
    }
    if number == 1:
        if prev_hash != GENESIS_HASH:
            return False
    else:
        previous = neighbours.get(number - 1)
        if previous is None or previous.hash != prev_hash:
            return False
    following = neighbours.get(number + 1)
    return following is None or following.prev_hash == own_hash


def find_document(conn: Connection, url_id: str) -> ReceiptDocument | None:
    """The completed document with this ``urlId`` and its verification status, or None."""
    if not url_id or len(url_id) > 32:
        return None
    found = conn.execute(
        select(documents.c.id, documents.c.kind).where(
            documents.c.url_id == url_id, documents.c.state == DocumentState.COMPLETED
        )
    ).first()
    if found is None:
        return None
    table = DOCUMENT_TABLES[found.kind]
    row = conn.execute(with_document(table).where(table.c.document_id == found.id)).one()
    document = _document(conn, found.kind, row)
    return replace(document, verification=verify_document(conn, document))


def awaits_fiscalization(conn: Connection, url_id: str) -> bool:
    """Whether ``url_id`` names a document that is kept but not fiscalized yet (sent, in doubt, deferred)."""
    if not url_id or len(url_id) > 32:
        return False
    state = conn.execute(select(documents.c.state).where(documents.c.url_id == url_id)).scalar()
    return state in (DocumentState.PENDING, DocumentState.SENT, DocumentState.IN_DOUBT, DocumentState.DEFERRED)
