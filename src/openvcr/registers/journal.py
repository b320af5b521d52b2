"""The fiscal journal's write path and read helpers (the rules live in ``openvcr.core.journal``).

Rules:
- ``append`` is THE ONLY way an entry enters the journal. It runs inside the caller's business transaction
  (same commit as the document): a rolled-back document leaves no entry and no counter moved.
- The next number is allocated by one atomic ``UPDATE journal_heads SET number = number + 1 … RETURNING``,
  which also locks the register's head row until commit (PostgreSQL) or runs under the SQLite write lock
  (``BEGIN IMMEDIATE``); the previous hash and counters read with it are therefore those of entry n − 1.
  Numbers are 1, 2, 3 … per register with no gap and no repeat under any concurrency.
- Bad input (unknown document type, empty or long reference, a body without canonical form, an invalid
  counters delta) is refused before anything is written.
- A document (register, type, reference) enters the journal at most once (``DuplicateDocumentError``).
- Registers are independent: appends on different registers never wait for each other on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import orjson
from sqlalchemy import Connection, Row, bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from openvcr.core.canonical import CanonicalError, canonical_bytes, canonical_bytes_of_parsed, parse, to_plain
from openvcr.core.errors import (
    CounterGapError,
    DuplicateDocumentError,
    InvalidDeltaError,
    MalformedEntryError,
)
from openvcr.core.journal import (
    DOC_TYPES,
    GENESIS_HASH,
    Counters,
    CountersDelta,
    JournalEntry,
    check_doc_ref,
    entry_content,
    entry_hash,
)
from openvcr.core.signing import Signer
from openvcr.store.db import now_ms
from openvcr.store.schema.journal import journal_entries, journal_heads

__all__ = ["Head", "append", "entries", "entry_for", "head", "signed_rows"]

_EMPTY_COUNTERS = canonical_bytes(Counters().to_json()).decode("utf-8")


class Head:
    """The state of a register's journal after its last entry."""

    __slots__ = ("counters", "last_hash", "number", "register_id")

    def __init__(self, register_id: int, number: int, last_hash: str, counters: Counters) -> None:
        self.register_id = register_id
        self.number = number
        self.last_hash = last_hash
        self.counters = counters

    def __repr__(self) -> str:
        return f"Head(register_id={self.register_id}, number={self.number}, last_hash={self.last_hash[:16]}…)"


def _check_input(doc_type: str, doc_ref: str, body: Mapping[str, Any], delta: CountersDelta) -> None:
    if doc_type not in DOC_TYPES:
        raise InvalidDeltaError(f"unknown document type {doc_type!r}; known: {', '.join(sorted(DOC_TYPES))}")
    check_doc_ref(doc_ref)
    if not isinstance(body, Mapping):
        raise MalformedEntryError("the journal body of a document is a mapping")
    if not isinstance(delta, CountersDelta):
        raise InvalidDeltaError("the counters delta is a CountersDelta")


def _create_head(conn: Connection, register_id: int) -> None:
    values = {
        "register_id": register_id,
        "number": 0,
        "last_hash": GENESIS_HASH,
        "counters": _EMPTY_COUNTERS,
        "updated_at": now_ms(),
    }
    if conn.dialect.name == "postgresql":
        conn.execute(pg_insert(journal_heads).values(**values).on_conflict_do_nothing())
    elif conn.dialect.name == "sqlite":
        conn.execute(sqlite_insert(journal_heads).values(**values).on_conflict_do_nothing())
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        conn.execute(insert(journal_heads).values(**values))


# Statements built once: executing them with parameters skips SQLAlchemy's per-call construction.
_ALLOCATE = (
    update(journal_heads)
    .where(journal_heads.c.register_id == bindparam("p_register"))
    .values(number=journal_heads.c.number + 1, updated_at=bindparam("p_now"))
    .returning(journal_heads.c.number, journal_heads.c.last_hash, journal_heads.c.counters)
)
_INSERT_ENTRY = insert(journal_entries)
_ADVANCE_HEAD = (
    update(journal_heads)
    .where(journal_heads.c.register_id == bindparam("p_register"))
    .values(last_hash=bindparam("p_hash"), counters=bindparam("p_counters"))
)


def _allocate(conn: Connection, register_id: int, now: int) -> Row[Any]:
    params = {"p_register": register_id, "p_now": now}
    row = conn.execute(_ALLOCATE, params).first()
    if row is None:
        _create_head(conn, register_id)
        row = conn.execute(_ALLOCATE, params).first()
    if row is None:  # pragma: no cover - the head was just created in this transaction
        raise CounterGapError(f"register {register_id}: the journal head could not be created")
    return row


def append(
    conn: Connection,
    register_id: int,
    *,
    doc_type: str,
    doc_ref: str,
    body: Mapping[str, Any],
    delta: CountersDelta,
    signer: Signer,
    time_ms: int | None = None,
) -> JournalEntry:
    """Append one document to the register's journal inside the caller's transaction; return the entry.

    ``body`` is the document as it will be signed: JSON-able values, every amount a ``Decimal`` (written
    as a decimal string), no floats. ``doc_ref`` is the document's id in its own table (e.g. the sale id).
    """
    _check_input(doc_type, doc_ref, body, delta)
    try:
        plain_body = to_plain(body)  # validates now, before any write
    except CanonicalError as exc:
        raise MalformedEntryError(f"the journal body has no canonical form: {exc}") from exc
    now = now_ms()
    at = now if time_ms is None else time_ms
    row = _allocate(conn, register_id, now)
    number = int(row.number)
    previous = Counters.from_json(parse(row.counters))
    if previous.documents != number - 1:
        raise CounterGapError(
            f"register {register_id}: the journal head allocated #{number} after {previous.documents} entries",
            register_id=register_id,
            number=number,
        )
    counters = previous.apply(doc_type, delta)
    content = entry_content(
        register_id=register_id,
        number=number,
        doc_type=doc_type,
        doc_ref=doc_ref,
        body=plain_body,
        counters=counters,
        prev_hash=row.last_hash,
        time_ms=at,
        key_id=signer.key_id,
    )
    try:
        data = canonical_bytes_of_parsed(content)  # every value is already plain: one serialization
    except orjson.JSONEncodeError as exc:  # e.g. a lone surrogate in a string
        raise MalformedEntryError(f"the journal body has no canonical form: {exc}") from exc
    digest = entry_hash(data)
    signature = signer.sign(data)
    counters_text = canonical_bytes(counters.to_json()).decode("utf-8")
    try:
        conn.execute(
            _INSERT_ENTRY,
            {
                "register_id": register_id,
                "number": number,
                "doc_type": doc_type,
                "doc_ref": doc_ref,
                "time_ms": at,
                "prev_hash": row.last_hash,
                "hash": digest,
                "key_id": signer.key_id,
                "counters": counters_text,
                "content": data,
                "signature": signature,
            },
        )
    except IntegrityError as exc:
        raise DuplicateDocumentError(
            f"register {register_id}: {doc_type} {doc_ref!r} is already in the journal",
            register_id=register_id,
        ) from exc
    conn.execute(_ADVANCE_HEAD, {"p_register": register_id, "p_hash": digest, "p_counters": counters_text})
    return JournalEntry(
        register_id=register_id,
        number=number,
        doc_type=doc_type,
        doc_ref=doc_ref,
        time_ms=at,
        prev_hash=row.last_hash,
        hash=digest,
        key_id=signer.key_id,
        counters=counters,
        content=data,
        signature=signature,
    )


def _entry(row: Row[Any]) -> JournalEntry:
    return JournalEntry(
        register_id=row.register_id,
        number=int(row.number),
        doc_type=row.doc_type,
        doc_ref=row.doc_ref,
        time_ms=int(row.time_ms),
        prev_hash=row.prev_hash,
        hash=row.hash,
        key_id=row.key_id,
        counters=Counters.from_json(parse(row.counters)),
        content=bytes(row.content),
        signature=bytes(row.signature),
    )


def entries(
    conn: Connection, register_id: int, after: int = 0, *, upto: int | None = None, batch: int = 1000
) -> Iterator[JournalEntry]:
    """The register's entries with ``after < number (≤ upto)``, in journal order, read in batches."""
    last = after
    while True:
        query = (
            select(journal_entries)
            .where(journal_entries.c.register_id == register_id, journal_entries.c.number > last)
            .order_by(journal_entries.c.number)
            .limit(batch)
        )
        if upto is not None:
            query = query.where(journal_entries.c.number <= upto)
        rows = conn.execute(query).all()
        for row in rows:
            yield _entry(row)
        if len(rows) < batch:
            return
        last = int(rows[-1].number)


def head(conn: Connection, register_id: int) -> Head:
    """The journal's state after its last committed entry (number 0 and the genesis hash when empty)."""
    row = conn.execute(select(journal_heads).where(journal_heads.c.register_id == register_id)).first()
    if row is None:
        return Head(register_id, 0, GENESIS_HASH, Counters())
    return Head(register_id, int(row.number), row.last_hash, Counters.from_json(parse(row.counters)))


def entry_for(conn: Connection, doc_type: str, doc_ref: str, *, register_id: int | None = None) -> JournalEntry | None:
    """The entry of one document, or None when it is not in the journal."""
    query = select(journal_entries).where(journal_entries.c.doc_type == doc_type, journal_entries.c.doc_ref == doc_ref)
    if register_id is not None:
        query = query.where(journal_entries.c.register_id == register_id)
    row = conn.execute(query.order_by(journal_entries.c.register_id).limit(1)).first()
    return None if row is None else _entry(row)


def signed_rows(
    conn: Connection, register_id: int, *, after: int = 0, upto: int | None = None, batch: int = 2000
) -> Iterator[tuple[bytes, str, bytes]]:
    """``(content, hash, signature)`` of the register's entries in journal order: the fast path of
    export and verification (no parsing)."""
    last = after
    columns = (
        journal_entries.c.number,
        journal_entries.c.content,
        journal_entries.c.hash,
        journal_entries.c.signature,
    )
    while True:
        query = (
            select(*columns)
            .where(journal_entries.c.register_id == register_id, journal_entries.c.number > last)
            .order_by(journal_entries.c.number)
            .limit(batch)
        )
        if upto is not None:
            query = query.where(journal_entries.c.number <= upto)
        rows = conn.execute(query).all()
        for _, content, digest, signature in rows:  # unpacked: attribute access by name costs per row
            yield bytes(content), digest, bytes(signature)
        if len(rows) < batch:
            return
        last = int(rows[-1].number)
