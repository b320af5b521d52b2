"""SQL of the document engine: the ``documents`` table and its guarded state transitions."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Select, String, Table, bindparam, cast, literal, select, update

from openvcr.core.errors import Conflict
from openvcr.documents.models import ALLOWED, Document, DocumentState, Draft, RequestKey
from openvcr.store.db import now_ms
from openvcr.store.schema.documents import documents
from openvcr.store.schema.foundation import registers

# Statements of the hot path, built once (building a statement costs more than running it on SQLite).
_INSERT = documents.insert().returning(*documents.c)
_BY_KEY = select(documents).where(
    documents.c.register_id == bindparam("p_register"), documents.c.document_key == bindparam("p_key")
)
_BY_ID = select(documents).where(documents.c.id == bindparam("p_id"))
_TRANSITION = (
    update(documents)
    .where(documents.c.id == bindparam("p_id"), documents.c.state == bindparam("p_from"))
    .returning(*documents.c)
)


def new_url_id() -> str:
    return secrets.token_urlsafe(12)  # 16 URL-safe characters


def _document(row: Any) -> Document:
    return Document(
        id=int(row.id),
        register_id=int(row.register_id),
        kind=row.kind,
        document_key=row.document_key,
        request_hash=row.request_hash,
        state=DocumentState(row.state),
        url_id=row.url_id,
        cashier_id=int(row.cashier_id),
        receipt_email=row.receipt_email,
        receipt_language=row.receipt_language,
        receipt_phone=row.receipt_phone,
        src_request=row.src_request,
        receipt=row.receipt,
        response=None if row.response is None else str(row.response).encode("utf-8"),
        error=row.error,
        created_at=int(row.created_at),
        completed_at=None if row.completed_at is None else int(row.completed_at),
    )


def insert(
    conn: Connection,
    register_id: int,
    kind: str,
    key: RequestKey,
    draft: Draft,
    *,
    state: DocumentState = DocumentState.PENDING,
    src_request: Any = None,
) -> Document:
    """A new document, ``pending`` unless said (a duplicate key raises ``IntegrityError``)."""
    now = now_ms()
    extra = {} if src_request is None else {"src_request": src_request}
    row = conn.execute(
        _INSERT,
        {
            **extra,
            "register_id": register_id,
            "kind": kind,
            "document_key": key.document_key,
            "request_hash": key.request_hash,
            "state": state.value,
            "url_id": new_url_id(),
            "cashier_id": draft.cashier_id,
            "receipt_email": draft.receipt.email if draft.receipt else None,
            "receipt_language": draft.receipt.language if draft.receipt else None,
            "receipt_phone": draft.sms_phone,
            "created_at": now,
            "updated_at": now,
        },
    ).one()
    return _document(row)


def by_key(conn: Connection, register_id: int, document_key: str) -> Document | None:
    row = conn.execute(_BY_KEY, {"p_register": register_id, "p_key": document_key}).first()
    return None if row is None else _document(row)


def by_id(conn: Connection, document_id: int) -> Document | None:
    row = conn.execute(_BY_ID, {"p_id": document_id}).first()
    return None if row is None else _document(row)


def transition(conn: Connection, document: Document, to: DocumentState, **values: Any) -> Document:
    """Move ``document`` from the state it was read in to ``to`` (with ``values``), or raise ``Conflict``
    when the move is not allowed or another writer moved it first."""
    if to not in ALLOWED[document.state]:
        raise Conflict(f"document {document.id} cannot go from {document.state} to {to}")
    if "response" in values and isinstance(values["response"], bytes):
        values["response"] = values["response"].decode("utf-8")
    now = now_ms()
    if to is DocumentState.COMPLETED:
        values.setdefault("completed_at", now)
    if to is DocumentState.DROPPED:
        # A dropped document releases its key: the same Idempotency-Key may start a new document.
        values["document_key"] = f"{document.document_key}#dropped-{document.id}"[:200]
    params = {"p_id": document.id, "p_from": document.state.value, "state": to.value, "updated_at": now, **values}
    row = conn.execute(_TRANSITION, params).first()
    if row is None:
        raise Conflict(f"document {document.id} changed state meanwhile")
    return _document(row)


def in_states(
    conn: Connection, states: Sequence[DocumentState], *, created_before: int | None = None
) -> list[Document]:
    """Documents in ``states`` (optionally created before a time), oldest first."""
    query = select(documents).where(documents.c.state.in_([s.value for s in states])).order_by(documents.c.id)
    if created_before is not None:
        query = query.where(documents.c.created_at <= created_before)
    return [_document(row) for row in conn.execute(query)]


def detail_id(conn: Connection, table: Table, document_id: int) -> int:
    """The id of the kind's detail row of a document."""
    return int(conn.execute(select(table.c.id).where(table.c.document_id == document_id)).scalar_one())


def late_fiscalization(conn: Connection, register_id: int) -> bool:
    value = conn.execute(select(registers.c.late_fiscalization).where(registers.c.id == register_id)).scalar()
    return bool(value)


def release_expired_keys(conn: Connection, older_than_ms: int) -> int:
    """Forget the Idempotency-Keys of settled documents created before ``older_than_ms``; return how many."""
    keyed = documents.c.request_hash.is_not(None)
    settled = documents.c.state.in_([DocumentState.COMPLETED.value, DocumentState.DROPPED.value])
    result = conn.execute(
        update(documents)
        .where(keyed, settled, documents.c.created_at < older_than_ms)
        .values(
            document_key=literal("expired:", String).concat(cast(documents.c.id, String)),
            request_hash=None,
            response=None,
        )
    )
    return int(result.rowcount or 0)


DOCUMENT_COLUMNS = (
    documents.c.state,
    documents.c.url_id,
    documents.c.cashier_id,
    documents.c.receipt,
    documents.c.created_at,
    documents.c.completed_at,
    documents.c.receipt_email,
    documents.c.receipt_language,
    documents.c.receipt_phone,
)


def with_document(table: Table) -> Select[Any]:
    """``SELECT`` of a detail table's rows with their document's state, url id, cashier, receipt and times."""
    return select(table, *DOCUMENT_COLUMNS).select_from(table.join(documents, documents.c.id == table.c.document_id))


def live(table: Table) -> Select[Any]:
    """``SELECT table.*`` of the rows whose document was not dropped (the only ones with effects)."""
    return (
        select(table)
        .select_from(table.join(documents, documents.c.id == table.c.document_id))
        .where(documents.c.state != DocumentState.DROPPED.value)
    )
