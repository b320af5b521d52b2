"""SQL of the receipt page beyond the document itself: the register's mode, its CRN, the documents a receipt
links to, and finding a document by its CRN and SRC receipt number."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Connection, Table, select

from openvcr.documents.models import DocumentState
from openvcr.documents.repository import with_document
from openvcr.store.schema.authority import src_requests
from openvcr.store.schema.documents import documents
from openvcr.store.schema.foundation import registers
from openvcr.store.schema.sales import prepayment_refunds, sale_refunds

SRC_DOCUMENT_KEY_PREFIX = "document:"
"""The ``src_requests.document_key`` of a fiscal document's SRC registration: ``document:<documents.id>``."""


@dataclass(frozen=True)
class LinkedReceipt:
    """Another completed document a receipt links to (a sale's refund, a refund's sale)."""

    kind: str
    url_id: str
    receipt_id: int  # SRC receipt number
    total: Decimal


def register_mode(conn: Connection, register_id: int) -> str:
    """``sandbox`` or ``production``."""
    return str(conn.execute(select(registers.c.mode).where(registers.c.id == register_id)).scalar_one())


def register_by_crn(conn: Connection, crn: str) -> int | None:
    found = conn.execute(select(registers.c.id).where(registers.c.crn == crn)).scalar()
    return None if found is None else int(found)


def url_id_in_register(conn: Connection, register_id: int, url_id: str) -> str | None:
    """``url_id`` when a document of ``register_id`` (in any state) has it, else None."""
    found = conn.execute(
        select(documents.c.url_id).where(documents.c.url_id == url_id, documents.c.register_id == register_id)
    ).scalar()
    return None if found is None else str(found)


def url_id_of_receipt(conn: Connection, register_id: int, receipt_id: int) -> str | None:
    """The ``urlId`` of the completed document SRC registered as ``receipt_id`` for this register, or None."""
    keys = conn.execute(
        select(src_requests.c.document_key).where(
            src_requests.c.register_id == register_id,
            src_requests.c.receipt_id == receipt_id,
            src_requests.c.state == "done",
        )
    ).scalars()
    ids = [
        int(key[len(SRC_DOCUMENT_KEY_PREFIX) :])
        for key in keys
        if key and key.startswith(SRC_DOCUMENT_KEY_PREFIX) and key[len(SRC_DOCUMENT_KEY_PREFIX) :].isdigit()
    ]
    if not ids:
        return None
    rows = conn.execute(
        select(documents.c.url_id, documents.c.receipt).where(
            documents.c.id.in_(ids),
            documents.c.register_id == register_id,
            documents.c.state == DocumentState.COMPLETED,
        )
    )
    for row in rows:
        if row.receipt and int(row.receipt.get("srcId", -1)) == receipt_id:
            return str(row.url_id)
    return None


def _linked(conn: Connection, table: Table, kind: str, parent: str, parent_id: int) -> tuple[LinkedReceipt, ...]:
    amount = table.c.total if "total" in table.c else table.c.amount
    rows = conn.execute(
        with_document(table)
        .where(table.c[parent] == parent_id, documents.c.state == DocumentState.COMPLETED)
        .order_by(table.c.id)
    )
    return tuple(
        LinkedReceipt(kind, str(row.url_id), int(row.receipt["srcId"]), getattr(row, amount.name)) for row in rows
    )


def sale_refunds_of(conn: Connection, sale_id: int) -> tuple[LinkedReceipt, ...]:
    """The completed refunds of a sale, oldest first."""
    return _linked(conn, sale_refunds, "sale_refund", "sale_id", sale_id)


def prepayment_refunds_of(conn: Connection, prepayment_id: int) -> tuple[LinkedReceipt, ...]:
    """The completed refund of a prepayment (at most one), as a tuple."""
    return _linked(conn, prepayment_refunds, "prepayment_refund", "prepayment_id", prepayment_id)
