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
- ``ReceiptDocument`` is the one source of what a receipt shows (page, PDF, e-mail): besides SRC's receipt it
  carries the cashier (the number SRC knows and the name), the buyer's TIN, each line's tax regime and VAT,
  the VAT per regime (``taxes``: VAT included for ``vat``, the amount "without VAT" for every other regime),
  a converted sale's currency and CBA rate (a refund shows its sale's), whether the register is a sandbox
  one (its receipts are not fiscal), and the links between a sale and its refunds, a prepayment and its
  refund (completed ones only).
- A document is also found by its register's CRN and either its ``urlId`` or its SRC receipt number
  (``find_by_crn``); a document of another register is not found.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import Connection, Table, select

from openvcr.catalog import repository as catalog_repo
from openvcr.catalog.models import TAX_REGIMES, OfferTitle
from openvcr.core.canonical import parse
from openvcr.core.errors import MalformedEntryError
from openvcr.core.journal import GENESIS_HASH, DocType, content_bytes, entry_hash
from openvcr.core.receipt import VAT_REGIME
from openvcr.core.signing import load_public_key
from openvcr.documents.models import DocumentState
from openvcr.documents.repository import with_document
from openvcr.receipts import repository as repo
from openvcr.receipts.repository import LinkedReceipt
from openvcr.registers.journal import entry_for
from openvcr.sales.models import DepartmentSnapshot
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
    price: Decimal | None  # AMD per unit
    discount: Decimal | None
    discount_type: str | None
    additional_discount: Decimal | None
    additional_discount_type: str | None
    total: Decimal
    tax_regime: str | None = None  # vat | vat_exempt | turnover_tax | micro_enterprise
    vat: Decimal | None = None  # VAT included in ``total`` (0 outside the vat regime)
    foreign_price: Decimal | None = None  # per unit in the sale's foreign currency, as the request gave it


@dataclass(frozen=True)
class ReceiptCashier:
    number: int  # the cashier number SRC knows (cashierId)
    name: dict[str, str]  # language → name


@dataclass(frozen=True)
class ForeignCurrency:
    """The currency a converted sale was priced in and the CBA rate it was converted at."""

    code: str  # ISO 4217, e.g. USD
    rate: Decimal  # AMD per one unit


@dataclass(frozen=True)
class TaxLine:
    """The lines of one tax regime: ``vat`` is the VAT they include (regime ``vat``), None for a regime
    without VAT (the receipt says "without VAT")."""

    regime: str
    amount: Decimal
    vat: Decimal | None


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
    sandbox: bool = False  # a sandbox register's receipt: not a fiscal receipt
    cashier: ReceiptCashier | None = None
    buyer_tin: str | None = None
    currency: ForeignCurrency | None = None
    taxes: tuple[TaxLine, ...] = ()
    refund_of_url_id: str | None = None  # the refunded document's urlId
    refunds: tuple[LinkedReceipt, ...] = ()  # a sale's or prepayment's completed refunds


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
            tax_regime=DepartmentSnapshot.from_json(row.department).tax_regime,
            vat=row.vat,
            foreign_price=row.foreign_price,
        )
        for row in rows
    )


def _refund_lines(conn: Connection, refund_id: int, sale_id: int) -> tuple[ReceiptLine, ...]:
    rows = conn.execute(
        select(
            sale_refund_items,
            sale_items.c.offer,
            sale_items.c.unit,
            sale_items.c.price,
            sale_items.c.foreign_price,
            sale_items.c.department,
            sale_items.c.discount,
            sale_items.c.discount_type,
            sale_items.c.additional_discount,
            sale_items.c.additional_discount_type,
        )
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
            discount=row.discount,
            discount_type=row.discount_type,
            additional_discount=row.additional_discount,
            additional_discount_type=row.additional_discount_type,
            total=row.amount,
            tax_regime=DepartmentSnapshot.from_json(row.department).tax_regime,
            vat=row.vat,
            foreign_price=row.foreign_price,
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


def tax_summary(lines: tuple[ReceiptLine, ...]) -> tuple[TaxLine, ...]:
    """The lines' amounts per tax regime (in the regimes' fixed order), with the VAT they include."""
    summary: list[TaxLine] = []
    for regime in TAX_REGIMES:
        mine = [line for line in lines if line.tax_regime == regime]
        if not mine:
            continue
        amount = sum((line.total for line in mine), Decimal("0.00"))
        vat = sum((line.vat or Decimal("0.00") for line in mine), Decimal("0.00")) if regime == VAT_REGIME else None
        summary.append(TaxLine(regime, amount, vat))
    return tuple(summary)


def _currency(sale: Any) -> ForeignCurrency | None:
    if not sale.currency or sale.exchange_rate is None:
        return None
    return ForeignCurrency(str(sale.currency), sale.exchange_rate)


def _document(conn: Connection, kind: str, row: Any) -> ReceiptDocument:
    register_id = int(row.register_id)
    cashier = catalog_repo.find_cashier(conn, register_id, cashier_id=int(row.cashier_id))
    common: dict[str, Any] = {
        "kind": kind,
        "document_id": int(row.id),
        "register_id": register_id,
        "url_id": row.url_id,
        "receipt": dict(row.receipt),
        "sandbox": repo.register_mode(conn, register_id) == "sandbox",
        "cashier": None if cashier is None else ReceiptCashier(cashier.number, dict(cashier.name)),
    }
    if kind == DocType.SALE.value:
        lines = _sale_lines(conn, row.id)
        return ReceiptDocument(
            **common,
            total=row.total,
            payments=_payments(row, _SALE_PAYMENTS),
            change=row.change,
            lines=lines,
            buyer_tin=row.buyer_tin,
            currency=_currency(row),
            taxes=tax_summary(lines),
            refunds=repo.sale_refunds_of(conn, row.id),
        )
    if kind == DocType.SALE_REFUND.value:
        sale = conn.execute(with_document(sales).where(sales.c.id == row.sale_id)).one()
        lines = _refund_lines(conn, row.id, row.sale_id)
        return ReceiptDocument(
            **common,
            total=row.total,
            payments=_payments(row, _SALE_PAYMENTS),
            change=Decimal("0.00"),
            lines=lines,
            refund_of=int(sale.receipt["srcId"]),
            buyer_tin=sale.buyer_tin,
            currency=_currency(sale),
            taxes=tax_summary(lines),
            refund_of_url_id=str(sale.url_id),
        )
    if kind == DocType.PREPAYMENT.value:
        return ReceiptDocument(
            **common,
            total=row.amount,
            payments=_payments(row, _PREPAYMENT_PAYMENTS),
            change=Decimal("0.00"),
            buyer_tin=row.buyer_tin,
            refunds=repo.prepayment_refunds_of(conn, row.id),
        )
    prepayment = conn.execute(with_document(prepayments).where(prepayments.c.id == row.prepayment_id)).one()
    return ReceiptDocument(
        **common,
        total=row.amount,
        payments=_payments(row, _PREPAYMENT_PAYMENTS),
        change=Decimal("0.00"),
        refund_of=int(prepayment.receipt["srcId"]),
        buyer_tin=prepayment.buyer_tin,
        refund_of_url_id=str(prepayment.url_id),
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
    table = None if found is None else DOCUMENT_TABLES.get(found.kind)
    if found is None or table is None:  # a shift report has no public receipt page
        return None
    row = conn.execute(with_document(table).where(table.c.document_id == found.id)).one()
    document = _document(conn, found.kind, row)
    return replace(document, verification=verify_document(conn, document))


def find_by_crn(conn: Connection, crn: str, segment: str) -> str | None:
    """The ``urlId`` that ``/{locale}/r/{crn}/{segment}`` names: ``segment`` is a ``urlId`` of a document of
    the register with this CRN, or (all digits) the SRC receipt number of one of its completed documents.
    None when there is no such register or document (a document of another register included)."""
    if not crn or len(crn) > 32 or not segment or len(segment) > 32:
        return None
    register_id = repo.register_by_crn(conn, crn)
    if register_id is None:
        return None
    url_id = repo.url_id_in_register(conn, register_id, segment)
    if url_id is None and segment.isascii() and segment.isdigit() and len(segment) <= 18:
        url_id = repo.url_id_of_receipt(conn, register_id, int(segment))
    return url_id


def awaits_fiscalization(conn: Connection, url_id: str) -> bool:
    """Whether ``url_id`` names a document that is kept but not fiscalized yet (sent, in doubt, deferred)."""
    if not url_id or len(url_id) > 32:
        return False
    state = conn.execute(select(documents.c.state).where(documents.c.url_id == url_id)).scalar()
    return state in (DocumentState.PENDING, DocumentState.SENT, DocumentState.IN_DOUBT, DocumentState.DEFERRED)
