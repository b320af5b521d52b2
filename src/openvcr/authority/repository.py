"""SQL of the authority domain: the seq counter on ``registers`` and the ``src_requests`` log.

Rules:
- seq is allocated atomically in SQL (``UPDATE … RETURNING``), never read-modify-write in Python.
- A seq is given back (strict policy only) only while it is still the register's last one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, literal_column, select, update

from openvcr.store.db import now_ms
from openvcr.store.schema.authority import src_requests
from openvcr.store.schema.foundation import business_entities, registers
from openvcr.store.schema.identity import register_identities

RECEIPT_METHODS = ("print", "printReturnReceipt")


@dataclass(frozen=True)
class RegisterInfo:
    id: int
    crn: str | None
    tin: str
    authority_status: str
    src_seq: int | None


@dataclass(frozen=True)
class SrcRequest:
    id: int
    register_id: int
    document_key: str | None
    method: str
    seq: int | None
    body: str
    request_hash: str
    state: str
    attempts: int
    receipt_id: int | None
    response: str | None
    error_code: int | None
    error_message: str | None
    note: str | None
    created_at: int
    sent_at: int | None
    updated_at: int


# Statements of the hot path, built once.
_LOAD_REGISTER = (
    select(registers.c.id, registers.c.crn, business_entities.c.tin, registers.c.authority_status, registers.c.src_seq)
    .join(business_entities, business_entities.c.id == registers.c.entity_id)
    .where(registers.c.id == bindparam("p_register"))
)
_RESERVE_SEQ = (
    update(registers)
    .where(registers.c.id == bindparam("p_register"))
    .values(src_seq=func.coalesce(registers.c.src_seq, 0) + 1)
    .returning(registers.c.src_seq)
)
_BY_KEY = select(src_requests).where(src_requests.c.document_key == bindparam("p_key"))
_BY_ID = select(src_requests).where(src_requests.c.id == bindparam("p_id"))
_INSERT_REQUEST = insert(src_requests).returning(src_requests.c.id)
_FINISH_SENT = update(src_requests).where(
    src_requests.c.id == bindparam("p_id"), src_requests.c.state == literal_column("'pending'")
)


def _request(row: Any) -> SrcRequest:
    return SrcRequest(**{c.name: row._mapping[c.name] for c in src_requests.columns})


def load_register(conn: Connection, register_id: int) -> RegisterInfo | None:
    row = conn.execute(_LOAD_REGISTER, {"p_register": register_id}).first()
    if row is None:
        return None
    return RegisterInfo(row.id, row.crn, row.tin, row.authority_status, row.src_seq)


def set_authority_status(conn: Connection, register_id: int, status: str) -> None:
    conn.execute(update(registers).where(registers.c.id == register_id).values(authority_status=status))


def reserve_seq(conn: Connection, register_id: int) -> int:
    """The register's next seq (last + 1; 1 for the first), recorded as used."""
    value = conn.execute(_RESERVE_SEQ, {"p_register": register_id}).scalar_one()
    return int(value)


def give_back_seq(conn: Connection, register_id: int, seq: int) -> None:
    """Undo the reservation of ``seq`` if nothing was reserved after it (strict policy)."""
    conn.execute(
        update(registers)
        .where(registers.c.id == register_id, registers.c.src_seq == seq)
        .values(src_seq=None if seq <= 1 else seq - 1)
    )


def set_seq(conn: Connection, register_id: int, last_seq: int | None) -> bool:
    result = conn.execute(update(registers).where(registers.c.id == register_id).values(src_seq=last_seq))
    return result.rowcount == 1


def by_key(conn: Connection, document_key: str) -> SrcRequest | None:
    row = conn.execute(_BY_KEY, {"p_key": document_key}).first()
    return None if row is None else _request(row)


def by_id(conn: Connection, request_id: int) -> SrcRequest | None:
    row = conn.execute(_BY_ID, {"p_id": request_id}).first()
    return None if row is None else _request(row)


def insert_request(
    conn: Connection,
    *,
    register_id: int,
    document_key: str | None,
    method: str,
    seq: int | None,
    body: str,
    request_hash: str,
) -> int:
    now = now_ms()
    return int(
        conn.execute(
            _INSERT_REQUEST,
            {
                "register_id": register_id,
                "document_key": document_key,
                "method": method,
                "seq": seq,
                "body": body,
                "request_hash": request_hash,
                "state": "pending",
                "attempts": 1,
                "created_at": now,
                "sent_at": now,
                "updated_at": now,
            },
        ).scalar_one()
    )


def restart_request(conn: Connection, request_id: int, *, seq: int | None, body: str) -> None:
    now = now_ms()
    conn.execute(
        update(src_requests)
        .where(src_requests.c.id == request_id)
        .values(
            seq=seq,
            body=body,
            state="pending",
            attempts=src_requests.c.attempts + 1,
            error_code=None,
            error_message=None,
            sent_at=now,
            updated_at=now,
        )
    )


def finish(
    conn: Connection,
    request_id: int,
    state: str,
    *,
    receipt_id: int | None = None,
    response: str | None = None,
    error_code: int | None = None,
    error_message: str | None = None,
    note: str | None = None,
) -> None:
    conn.execute(
        update(src_requests)
        .where(src_requests.c.id == request_id)
        .values(
            state=state,
            receipt_id=receipt_id,
            response=response,
            error_code=error_code,
            error_message=error_message,
            note=note,
            updated_at=now_ms(),
        )
    )


def finish_sent(
    conn: Connection, request_id: int, *, receipt_id: int | None = None, response: str | None = None
) -> None:
    """Record the answer of a request that was sent (``pending``) as ``done``; a request already settled
    (by resolution, after its answer was lost) keeps what resolution recorded."""
    conn.execute(
        _FINISH_SENT,
        {"p_id": request_id, "state": "done", "receipt_id": receipt_id, "response": response, "updated_at": now_ms()},
    )


def unsettled(
    conn: Connection, register_id: int | None = None, states: tuple[str, ...] = ("pending", "in_doubt")
) -> list[SrcRequest]:
    query = select(src_requests).where(src_requests.c.state.in_(states)).order_by(src_requests.c.id)
    if register_id is not None:
        query = query.where(src_requests.c.register_id == register_id)
    return [_request(row) for row in conn.execute(query)]


def receipt_bounds(conn: Connection, register_id: int, seq: int) -> tuple[int | None, int | None]:
    """(last receiptId known before ``seq``, first receiptId known after it) among registered requests."""
    done = (
        (src_requests.c.register_id == register_id)
        & (src_requests.c.state == "done")
        & src_requests.c.method.in_(RECEIPT_METHODS)
        & src_requests.c.receipt_id.is_not(None)
    )
    before = conn.execute(select(func.max(src_requests.c.receipt_id)).where(done, src_requests.c.seq < seq)).scalar()
    after = conn.execute(select(func.min(src_requests.c.receipt_id)).where(done, src_requests.c.seq > seq)).scalar()
    return (None if before is None else int(before), None if after is None else int(after))


def claimed_receipts(conn: Connection, register_id: int) -> set[int]:
    rows = conn.execute(
        select(src_requests.c.receipt_id).where(
            src_requests.c.register_id == register_id,
            src_requests.c.state == "done",
            src_requests.c.method.in_(RECEIPT_METHODS),
            src_requests.c.receipt_id.is_not(None),
        )
    )
    return {int(r[0]) for r in rows}


# --- registers' own SRC identities (``openvcr.authority.identity``) ---


@dataclass(frozen=True)
class StoredIdentity:
    register_id: int
    key_enc: bytes
    csr_pem: str | None
    cert_pem: str | None
    cert_serial: str | None
    cert_subject: str | None
    not_before: int | None
    not_after: int | None
    created_at: int
    imported_at: int | None


@dataclass(frozen=True)
class Route:
    """What the SRC client pool needs to know of the register behind a CRN."""

    register_id: int
    crn: str
    disabled: bool
    identity: StoredIdentity | None


def _identity(row: Any) -> StoredIdentity:
    return StoredIdentity(
        register_id=row.register_id,
        key_enc=bytes(row.key_enc),
        csr_pem=row.csr_pem,
        cert_pem=row.cert_pem,
        cert_serial=row.cert_serial,
        cert_subject=row.cert_subject,
        not_before=row.not_before,
        not_after=row.not_after,
        created_at=row.created_at,
        imported_at=row.imported_at,
    )


def insert_identity(conn: Connection, register_id: int, key_enc: bytes, csr_pem: str | None) -> None:
    conn.execute(
        insert(register_identities).values(
            register_id=register_id, key_enc=key_enc, csr_pem=csr_pem, created_at=now_ms()
        )
    )


def load_identity(conn: Connection, register_id: int) -> StoredIdentity | None:
    row = conn.execute(select(register_identities).where(register_identities.c.register_id == register_id)).first()
    return None if row is None else _identity(row)


def route(conn: Connection, crn: str) -> Route | None:
    """The register with this CRN, whether it is disabled, and its own identity (None: the global one)."""
    row = conn.execute(
        select(registers.c.id, registers.c.crn, registers.c.disabled_at, register_identities)
        .select_from(registers.outerjoin(register_identities, register_identities.c.register_id == registers.c.id))
        .where(registers.c.crn == crn)
    ).first()
    if row is None:
        return None
    identity = None if row.register_id is None else _identity(row)
    return Route(row.id, row.crn, row.disabled_at is not None, identity)


def certificate_owner(conn: Connection, sha256: str) -> int | None:
    """The register that already holds the certificate with this fingerprint."""
    return conn.execute(
        select(register_identities.c.register_id).where(register_identities.c.cert_sha256 == sha256)
    ).scalar_one_or_none()


def store_certificate(
    conn: Connection,
    register_id: int,
    *,
    cert_pem: str,
    sha256: str,
    serial: str,
    subject: str,
    issuer: str,
    not_before: int,
    not_after: int,
    key_enc: bytes | None = None,
) -> None:
    values: dict[str, Any] = {
        "cert_pem": cert_pem,
        "cert_sha256": sha256,
        "cert_serial": serial,
        "cert_subject": subject,
        "cert_issuer": issuer,
        "not_before": not_before,
        "not_after": not_after,
        "imported_at": now_ms(),
    }
    if key_enc is not None:  # a PKCS#12 bundle's key: the CSR of the old key no longer applies
        values["key_enc"] = key_enc
        values["csr_pem"] = None
    conn.execute(update(register_identities).where(register_identities.c.register_id == register_id).values(values))


def certificate_expiries(conn: Connection) -> list[tuple[int, str | None, int, int]]:
    """(register id, CRN, not_after, entity id) of every enabled register with a certificate of its own."""
    rows = conn.execute(
        select(registers.c.id, registers.c.crn, register_identities.c.not_after, registers.c.entity_id)
        .join(register_identities, register_identities.c.register_id == registers.c.id)
        .where(register_identities.c.not_after.is_not(None), registers.c.disabled_at.is_(None))
        .order_by(registers.c.id)
    ).all()
    return [(int(r.id), r.crn, int(r.not_after), int(r.entity_id)) for r in rows]
