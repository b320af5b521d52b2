"""What every fiscal document shares: url ids, SRC receipts as stored JSON, SRC request (de)serialization.

A document is written ``pending`` (with the exact SRC request) before SRC is asked, and ``completed`` with
SRC's receipt; ``register_pending`` below is that protocol, used by sales, refunds and prepayments alike:

1. ``prepare`` (inside a write transaction): validate, compute, insert the pending rows; return the SRC call;
2. the SRC call, outside any transaction, under the document key (exactly one receipt per key);
3. ``complete`` (inside a write transaction): record the receipt, append the journal entry, enqueue e-mail;
4. when SRC refused the document or could not be reached, ``cancel`` removes the pending rows; when the
   answer was lost the document stays pending and the next attempt with the same key resumes it.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import asdict
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import Connection, Table, update

from openvcr.authority.gateway import PrintItem, PrintRequest, Receipt, ReturnLine, ReturnRequest
from openvcr.authority.outbox import enqueue
from openvcr.authority.service import SrcService
from openvcr.core.errors import AuthorityInDoubt, AuthorityRefused, AuthorityUnavailable
from openvcr.core.journal import CountersDelta
from openvcr.core.signing import Signer
from openvcr.registers import journal
from openvcr.store.db import Database, now_ms

T = TypeVar("T")
P = TypeVar("P")


def new_url_id() -> str:
    return secrets.token_urlsafe(12)  # 16 URL-safe characters


def receipt_json(receipt: Receipt) -> dict[str, Any]:
    return {
        "srcId": receipt.receipt_id,
        "crn": receipt.crn,
        "sn": receipt.sn,
        "tin": receipt.tin,
        "taxpayer": receipt.taxpayer,
        "address": receipt.address,
        "time": receipt.time_ms,
        "fiscal": receipt.fiscal,
        "total": str(receipt.total),
        "change": str(receipt.change),
        "qr": receipt.qr,
        "emarkVerificationCode": receipt.emark_verification_code,
    }


def receipt_out(stored: dict[str, Any] | None) -> dict[str, Any] | None:
    """The contract's receipt object from a stored receipt."""
    if not stored:
        return None
    return {
        "src_id": int(stored["srcId"]),
        "time": str(stored["time"]),
        "tin": stored["tin"],
        "fiscal": stored.get("fiscal"),
        "sn": stored["sn"],
        "address": stored.get("address"),
        "total": Decimal(str(stored["total"])),
        "taxpayer": stored["taxpayer"],
        "change": Decimal(str(stored["change"])),
    }


def src_summary(stored: dict[str, Any]) -> dict[str, Any]:
    """What a journal entry records of SRC's receipt."""
    return {
        "crn": stored["crn"],
        "receiptId": stored["srcId"],
        "fiscal": stored.get("fiscal"),
        "time": stored["time"],
        "qr": stored["qr"],
    }


def enqueue_receipt_mail(conn: Connection, kind: str, url_id: str, email: str | None, language: str | None) -> None:
    """Store the buyer's request to have the receipt e-mailed (an outbox message, delivered after commit)."""
    if email:
        enqueue(
            conn,
            "receipt_email",
            f"receipt-email:{url_id}",
            {"document": kind, "urlId": url_id, "email": email, "language": language or "hy"},
        )


def pending_values(
    *,
    register_id: int,
    document_key: str,
    cashier_id: int,
    receipt_request: Any | None,
    src_request: dict[str, Any],
    url_id: str | None = None,
) -> dict[str, Any]:
    """The columns every pending document row starts with (the table adds its own)."""
    return {
        "register_id": register_id,
        "url_id": url_id or new_url_id(),
        "document_key": document_key,
        "state": "pending",
        "cashier_id": cashier_id,
        "receipt_email": str(receipt_request.email) if receipt_request else None,
        "receipt_language": receipt_request.language if receipt_request else None,
        "src_request": src_request,
        "created_at": now_ms(),
    }


def mark_completed(conn: Connection, table: Table, row_id: int, receipt: Receipt) -> dict[str, Any]:
    """Record SRC's receipt on a pending document; return the receipt as stored."""
    stored = receipt_json(receipt)
    conn.execute(
        update(table).where(table.c.id == row_id).values(state="completed", receipt=stored, completed_at=now_ms())
    )
    return stored


def journal_document(
    conn: Connection,
    row: Any,
    receipt: Receipt,
    *,
    doc_type: str,
    body: Mapping[str, Any],
    delta: CountersDelta,
    signer: Signer,
) -> None:
    """Append the completed document to its register's journal and store its e-mail request, in ``conn``."""
    journal.append(
        conn,
        row.register_id,
        doc_type=doc_type,
        doc_ref=str(row.id),
        body=body,
        delta=delta,
        signer=signer,
        time_ms=receipt.time_ms,
    )
    enqueue_receipt_mail(conn, doc_type, row.url_id, row.receipt_email, row.receipt_language)


def created(id_field: str, url_id: str, document_id: int, stored: dict[str, Any]) -> dict[str, Any]:
    """The POST response of a refund or prepayment document: ``{urlId, <id_field>, crn, receiptId, fiscal}``."""
    return {
        "url_id": url_id,
        id_field: document_id,
        "crn": stored.get("crn"),
        "receipt_id": int(stored["srcId"]),
        "fiscal": stored.get("fiscal"),
    }


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def print_request_json(request: PrintRequest) -> dict[str, Any]:
    return {"kind": "print", **_plain(asdict(request))}


def return_request_json(request: ReturnRequest) -> dict[str, Any]:
    return {"kind": "return", **_plain(asdict(request))}


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _print_item(item: dict[str, Any]) -> PrintItem:
    return PrintItem(
        adg_code=str(item["adg_code"]),
        dep=int(item["dep"]),
        good_code=str(item["good_code"]),
        good_name=str(item["good_name"]),
        quantity=Decimal(item["quantity"]),
        unit=str(item["unit"]),
        price=Decimal(item["price"]),
        discount=_dec(item.get("discount")),
        discount_type=item.get("discount_type"),
        additional_discount=_dec(item.get("additional_discount")),
        additional_discount_type=item.get("additional_discount_type"),
    )


def request_from_json(data: dict[str, Any]) -> PrintRequest | ReturnRequest:
    if data["kind"] == "print":
        items = tuple(_print_item(item) for item in data["items"])
        return PrintRequest(
            mode=int(data["mode"]),
            cashier_id=int(data["cashier_id"]),
            cash_amount=Decimal(data["cash_amount"]),
            card_amount=Decimal(data["card_amount"]),
            partial_amount=Decimal(data["partial_amount"]),
            prepayment_amount=Decimal(data["prepayment_amount"]),
            partner_tin=data.get("partner_tin"),
            items=items,
            emarks=tuple(data.get("emarks") or ()),
        )
    return ReturnRequest(
        receipt_id=int(data["receipt_id"]),
        card_amount=Decimal(data["card_amount"]),
        cash_amount=Decimal(data["cash_amount"]),
        prepayment_amount=Decimal(data["prepayment_amount"]),
        items=tuple(ReturnLine(int(i["receipt_product_id"]), Decimal(i["quantity"])) for i in data["items"]),
        source_crn=data.get("source_crn"),
        emarks=tuple(data.get("emarks") or ()),
    )


def resume_pending(
    db: Database,
    src: SrcService,
    row: Any,
    *,
    complete: Callable[[Connection, int, Receipt], T],
    drop: Callable[[Connection, int], None],
) -> T:
    """Finish a pending document found under its key (a retry): its stored SRC request is asked again under
    the same key — SrcService answers from what it knows, never registering twice — and the document is
    completed, or dropped when SRC refused it or certainly did not get it."""
    request = request_from_json(row.src_request)
    try:
        if isinstance(request, PrintRequest):
            receipt = src.print_receipt(row.register_id, row.document_key, request)
        else:
            receipt = src.print_return_receipt(row.register_id, row.document_key, request)
    except (AuthorityRefused, AuthorityUnavailable):
        with db.write() as conn:
            drop(conn, row.id)
        raise
    with db.write() as conn:
        return complete(conn, row.id, receipt)


def register_pending(
    db: Database,
    *,
    prepare: Callable[[Connection], P],
    call: Callable[[P], Receipt],
    complete: Callable[[Connection, P, Receipt], T],
    cancel: Callable[[Connection, P], None],
) -> T:
    """Run the pending → SRC → completed protocol (see the module docstring)."""
    with db.write() as conn:
        pending = prepare(conn)
    try:
        receipt = call(pending)
    except AuthorityInDoubt:
        raise
    except (AuthorityRefused, AuthorityUnavailable):
        with db.write() as conn:
            cancel(conn, pending)
        raise
    with db.write() as conn:
        return complete(conn, pending, receipt)
