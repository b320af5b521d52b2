"""SQL of the console's own tables: users, memberships, sessions, login links, failed sign-ins, audit."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, delete, func, insert, literal, select, update

from openvcr.console.models import AuditEntry, ConsoleSession, Membership, User
from openvcr.store.schema.console import (
    console_audit,
    console_login_failures,
    console_login_links,
    console_memberships,
    console_sessions,
    console_users,
)
from openvcr.store.schema.documents import documents
from openvcr.store.schema.foundation import api_keys, business_entities, departments, registers
from openvcr.store.schema.outbox import outbox_messages
from openvcr.store.schema.sales import sale_items, sale_refunds, sales
from openvcr.store.schema.vsdc import vsdc_devices
from openvcr.store.types import names_no_row


def any_user(conn: Connection) -> bool:
    return conn.execute(select(console_users.c.id).limit(1)).first() is not None


def memberships(conn: Connection, user_id: int) -> tuple[Membership, ...]:
    rows = conn.execute(
        select(console_memberships.c.entity_id, console_memberships.c.role, business_entities.c.tin,
               business_entities.c.name)
        .join(business_entities, business_entities.c.id == console_memberships.c.entity_id)
        .where(console_memberships.c.user_id == user_id)
        .order_by(console_memberships.c.entity_id)
    )  # fmt: skip
    return tuple(Membership(r.entity_id, r.tin, r.name, r.role) for r in rows)


def _user(conn: Connection, row: Any) -> User:
    return User(
        id=row.id,
        email=row.email,
        has_password=row.password_hash is not None,
        has_totp=row.totp_secret is not None,
        disabled_at=row.disabled_at,
        created_at=row.created_at,
        memberships=memberships(conn, row.id),
    )


def find_user_row(conn: Connection, email: str) -> Any:
    return conn.execute(select(console_users).where(console_users.c.email == email)).first()


def user_row_by_id(conn: Connection, user_id: int) -> Any:
    return conn.execute(select(console_users).where(console_users.c.id == user_id)).first()


def find_user(conn: Connection, email: str) -> User | None:
    row = find_user_row(conn, email)
    return None if row is None else _user(conn, row)


def list_users(conn: Connection, entity_id: int | None = None) -> list[User]:
    query = select(console_users).order_by(console_users.c.id)
    if entity_id is not None:
        query = query.where(
            console_users.c.id.in_(
                select(console_memberships.c.user_id).where(console_memberships.c.entity_id == entity_id)
            )
        )
    return [_user(conn, row) for row in conn.execute(query).all()]


def insert_user(conn: Connection, email: str, password_hash: str | None, totp_secret: str | None, now: int) -> int:
    return int(
        conn.execute(
            insert(console_users)
            .values(email=email, password_hash=password_hash, totp_secret=totp_secret, created_at=now)
            .returning(console_users.c.id)
        ).scalar_one()
    )


def add_membership(conn: Connection, user_id: int, entity_id: int, role: str, now: int) -> None:
    conn.execute(insert(console_memberships).values(user_id=user_id, entity_id=entity_id, role=role, created_at=now))


def set_membership(conn: Connection, user_id: int, entity_id: int, role: str | None) -> None:
    """Change a membership's role, or delete it (``role`` None)."""
    where = (console_memberships.c.user_id == user_id) & (console_memberships.c.entity_id == entity_id)
    if role is None:
        conn.execute(delete(console_memberships).where(where))
    else:
        conn.execute(update(console_memberships).where(where).values(role=role))


def set_user(conn: Connection, user_id: int, **values: Any) -> None:
    conn.execute(update(console_users).where(console_users.c.id == user_id).values(**values))


def entity_by_tin(conn: Connection, tin: str) -> int | None:
    found = conn.execute(select(business_entities.c.id).where(business_entities.c.tin == tin)).scalar_one_or_none()
    return None if found is None else int(found)


def first_entity(conn: Connection) -> tuple[int, str] | None:
    row = conn.execute(
        select(business_entities.c.id, business_entities.c.tin).order_by(business_entities.c.id).limit(1)
    ).first()
    return None if row is None else (int(row.id), str(row.tin))


# ---- sessions ----------------------------------------------------------------------------------------------


def insert_session(
    conn: Connection, token_hash: str, user_id: int, entity_id: int, csrf: str, now: int, expires: int
) -> int:
    return int(
        conn.execute(
            insert(console_sessions)
            .values(token_hash=token_hash, user_id=user_id, entity_id=entity_id, csrf_token=csrf,
                    created_at=now, expires_at=expires)
            .returning(console_sessions.c.id)
        ).scalar_one()
    )  # fmt: skip


def live_session(conn: Connection, token_hash: str, now: int) -> ConsoleSession | None:
    """The session of a token: not ended, not expired, its user enabled and still a member of its business."""
    row = conn.execute(
        select(console_sessions.c.id, console_sessions.c.user_id, console_sessions.c.entity_id,
               console_sessions.c.csrf_token, console_sessions.c.expires_at, console_users.c.email,
               console_memberships.c.role)
        .join(console_users, console_users.c.id == console_sessions.c.user_id)
        .join(console_memberships, (console_memberships.c.user_id == console_sessions.c.user_id)
              & (console_memberships.c.entity_id == console_sessions.c.entity_id))
        .where(console_sessions.c.token_hash == token_hash, console_sessions.c.ended_at.is_(None),
               console_sessions.c.expires_at > now, console_users.c.disabled_at.is_(None))
    ).first()  # fmt: skip
    if row is None:
        return None
    return ConsoleSession(
        id=row.id,
        user_id=row.user_id,
        email=row.email,
        entity_id=row.entity_id,
        role=row.role,
        csrf_token=row.csrf_token,
        expires_at=row.expires_at,
        memberships=memberships(conn, row.user_id),
    )


def end_session(conn: Connection, token_hash: str, now: int) -> None:
    conn.execute(
        update(console_sessions)
        .where(console_sessions.c.token_hash == token_hash, console_sessions.c.ended_at.is_(None))
        .values(ended_at=now)
    )


def end_user_sessions(conn: Connection, user_id: int, now: int) -> None:
    conn.execute(
        update(console_sessions)
        .where(console_sessions.c.user_id == user_id, console_sessions.c.ended_at.is_(None))
        .values(ended_at=now)
    )


def set_session_entity(conn: Connection, session_id: int, entity_id: int) -> None:
    conn.execute(update(console_sessions).where(console_sessions.c.id == session_id).values(entity_id=entity_id))


# ---- login links -------------------------------------------------------------------------------------------


def insert_link(conn: Connection, token_hash: str, user_id: int, now: int, expires: int) -> None:
    conn.execute(
        insert(console_login_links).values(token_hash=token_hash, user_id=user_id, created_at=now, expires_at=expires)
    )


def use_link(conn: Connection, token_hash: str, now: int) -> int | None:
    """Mark an unused, unexpired link used; return its user id (None: no such link, used or expired)."""
    row = conn.execute(
        update(console_login_links)
        .where(
            console_login_links.c.token_hash == token_hash,
            console_login_links.c.used_at.is_(None),
            console_login_links.c.expires_at > now,
        )
        .values(used_at=now)
        .returning(console_login_links.c.user_id)
    ).first()
    return None if row is None else int(row.user_id)


# ---- throttling --------------------------------------------------------------------------------------------


def recent_failures(conn: Connection, email: str, ip: str, since: int) -> int:
    return int(
        conn.execute(
            select(func.count())
            .select_from(console_login_failures)
            .where(
                console_login_failures.c.email == email,
                console_login_failures.c.ip == ip,
                console_login_failures.c.at > since,
            )
        ).scalar_one()
    )


def record_failure(conn: Connection, email: str, ip: str, now: int, older_than: int) -> None:
    conn.execute(delete(console_login_failures).where(console_login_failures.c.at <= older_than))
    conn.execute(insert(console_login_failures).values(email=email, ip=ip, at=now))


def clear_failures(conn: Connection, email: str, ip: str) -> None:
    conn.execute(
        delete(console_login_failures).where(console_login_failures.c.email == email, console_login_failures.c.ip == ip)
    )


# ---- audit -------------------------------------------------------------------------------------------------


def insert_audit(
    conn: Connection,
    *,
    entity_id: int | None,
    user_id: int | None,
    actor: str,
    action: str,
    target: str | None,
    detail: dict[str, Any] | None,
    now: int,
) -> None:
    conn.execute(
        insert(console_audit).values(entity_id=entity_id, user_id=user_id, actor=actor, action=action,
                                     target=target, detail=detail, at=now)
    )  # fmt: skip


def list_audit(conn: Connection, entity_id: int, limit: int = 200, before: int | None = None) -> list[AuditEntry]:
    query = select(console_audit).where(console_audit.c.entity_id == entity_id)
    if before is not None:
        query = query.where(console_audit.c.id < before)
    rows = conn.execute(query.order_by(console_audit.c.id.desc()).limit(limit))
    return [AuditEntry(r.id, r.at, r.actor, r.action, r.target, r.detail) for r in rows]


# ---- what the pages read (every query is scoped to one business entity) ------------------------------------


def entity_registers(conn: Connection, entity_id: int) -> list[Any]:
    return list(
        conn.execute(select(registers).where(registers.c.entity_id == entity_id).order_by(registers.c.id)).all()
    )


def entity_register_ids(conn: Connection, entity_id: int) -> list[int]:
    return [int(r) for r in conn.execute(select(registers.c.id).where(registers.c.entity_id == entity_id)).scalars()]


def documents_by_state(conn: Connection, entity_id: int) -> dict[tuple[int, str], int]:
    """(register id, state) → number of documents, for the registers of the business."""
    rows = conn.execute(
        select(documents.c.register_id, documents.c.state, func.count())
        .join(registers, registers.c.id == documents.c.register_id)
        .where(registers.c.entity_id == entity_id)
        .group_by(documents.c.register_id, documents.c.state)
    )
    return {(r[0], r[1]): int(r[2]) for r in rows}


def unsettled_documents(conn: Connection, entity_id: int, limit: int = 200) -> list[Any]:
    return list(
        conn.execute(
            select(documents.c.id, documents.c.register_id, documents.c.kind, documents.c.state, documents.c.error,
                   documents.c.created_at, documents.c.updated_at, documents.c.url_id)
            .join(registers, registers.c.id == documents.c.register_id)
            .where(registers.c.entity_id == entity_id,
                   documents.c.state.in_(("pending", "sent", "in_doubt", "deferred")))
            .order_by(documents.c.id)
            .limit(limit)
        ).all()
    )  # fmt: skip


@dataclass(frozen=True)
class SaleFilter:
    date_from: int | None = None  # epoch ms, inclusive
    date_to: int | None = None  # epoch ms, exclusive
    cashier_id: int | None = None
    min_total: Decimal | None = None
    max_total: Decimal | None = None
    state: str | None = None
    receipt: int | None = None  # SRC receipt number
    before: int | None = None  # cursor: sales with a smaller id


def list_sales(conn: Connection, entity_id: int, f: SaleFilter, limit: int) -> list[Any]:
    """Sales of the business, newest first, at most ``limit``; receipt numbers are filtered in Python (they
    live in the document's JSON)."""
    query = (
        select(sales.c.id, sales.c.register_id, sales.c.total, sales.c.cash, sales.c.non_cash, sales.c.prepayment,
               sales.c.compensation, documents.c.state, documents.c.cashier_id, documents.c.created_at,
               documents.c.receipt, documents.c.url_id)
        .join(documents, documents.c.id == sales.c.document_id)
        .where(sales.c.entity_id == entity_id)
    )  # fmt: skip
    if f.date_from is not None:
        query = query.where(documents.c.created_at >= f.date_from)
    if f.date_to is not None:
        query = query.where(documents.c.created_at < f.date_to)
    if f.cashier_id is not None:
        query = query.where(documents.c.cashier_id == f.cashier_id)
    if f.min_total is not None:
        query = query.where(sales.c.total >= f.min_total)
    if f.max_total is not None:
        query = query.where(sales.c.total <= f.max_total)
    if f.state is not None:
        query = query.where(documents.c.state == f.state)
    if f.before is not None:
        query = query.where(sales.c.id < f.before)
    query = query.order_by(sales.c.id.desc())
    if f.receipt is None:
        return list(conn.execute(query.limit(limit)).all())
    found = []
    for row in conn.execute(query.where(documents.c.receipt.is_not(None))):
        if row.receipt and str(row.receipt.get("srcId")) == str(f.receipt):
            found.append(row)
            if len(found) >= limit:
                break
    return found


def sale_register(conn: Connection, entity_id: int, sale_id: int) -> int | None:
    """The register of a sale of the business (None: no such sale in this business)."""
    if names_no_row(sale_id):
        return None
    found = conn.execute(
        select(sales.c.register_id).where(sales.c.id == sale_id, sales.c.entity_id == entity_id)
    ).scalar_one_or_none()
    return None if found is None else int(found)


def receipt_email_status(conn: Connection, url_id: str) -> Any:
    """The receipt e-mail's outbox message of a document (key ``receipt-email:<urlId>``), if any."""
    return conn.execute(
        select(outbox_messages.c.status, outbox_messages.c.attempts, outbox_messages.c.last_error,
               outbox_messages.c.delivered_at)
        .where(outbox_messages.c.key == f"receipt-email:{url_id}")
        .order_by(outbox_messages.c.id.desc())
        .limit(1)
    ).first()  # fmt: skip


def completed_sales_since(conn: Connection, entity_id: int, since: int) -> list[Any]:
    return list(
        conn.execute(
            select(documents.c.completed_at, sales.c.total, sales.c.cash, sales.c.change, sales.c.non_cash,
                   sales.c.prepayment, sales.c.compensation)
            .join(documents, documents.c.id == sales.c.document_id)
            .where(sales.c.entity_id == entity_id, documents.c.state == "completed", documents.c.completed_at >= since)
        ).all()
    )  # fmt: skip


def completed_refunds_since(conn: Connection, entity_id: int, since: int) -> list[Any]:
    return list(
        conn.execute(
            select(documents.c.completed_at, sale_refunds.c.total, sale_refunds.c.cash, sale_refunds.c.non_cash,
                   sale_refunds.c.prepayment, sale_refunds.c.compensation)
            .join(documents, documents.c.id == sale_refunds.c.document_id)
            .join(sales, sales.c.id == sale_refunds.c.sale_id)
            .where(sales.c.entity_id == entity_id, documents.c.state == "completed", documents.c.completed_at >= since)
        ).all()
    )  # fmt: skip


def regime_lines_since(conn: Connection, entity_id: int, since: int) -> list[Any]:
    """(completed_at, tax regime, line total) of the business's completed sale lines since ``since``."""
    return list(
        conn.execute(
            select(documents.c.completed_at, departments.c.tax_regime, sale_items.c.total)
            .join(sales, sales.c.id == sale_items.c.sale_id)
            .join(documents, documents.c.id == sales.c.document_id)
            .join(departments, departments.c.id == sale_items.c.department_id)
            .where(sales.c.entity_id == entity_id, documents.c.state == "completed", documents.c.completed_at >= since)
        ).all()
    )  # fmt: skip


def entity_keys(conn: Connection, entity_id: int) -> list[Any]:
    return list(
        conn.execute(
            select(api_keys)
            .join(registers, registers.c.id == api_keys.c.register_id)
            .where(registers.c.entity_id == entity_id)
            .order_by(api_keys.c.id.desc())
        ).all()
    )


def key_register(conn: Connection, entity_id: int, key_id: int) -> int | None:
    if names_no_row(key_id):
        return None
    found = conn.execute(
        select(api_keys.c.register_id)
        .join(registers, registers.c.id == api_keys.c.register_id)
        .where(api_keys.c.id == key_id, registers.c.entity_id == entity_id)
    ).scalar_one_or_none()
    return None if found is None else int(found)


def entity_outbox(conn: Connection, entity_id: int, limit: int = 200) -> list[Any]:
    """The business's outbox messages, newest first: receipt e-mails of its documents
    (``receipt-email:<urlId>``) and aTAX deliveries of its V-SDC devices (``vsdc-device:<MCR>``,
    ``vsdc-invoice:<MCR>:<no>``)."""
    columns = (outbox_messages.c.id, outbox_messages.c.kind, outbox_messages.c.status, outbox_messages.c.attempts,
               outbox_messages.c.next_attempt_at, outbox_messages.c.last_error, outbox_messages.c.created_at,
               outbox_messages.c.delivered_at)  # fmt: skip
    emails = (
        select(*columns)
        .join(documents, outbox_messages.c.key == literal("receipt-email:") + documents.c.url_id)
        .join(registers, registers.c.id == documents.c.register_id)
        .where(registers.c.entity_id == entity_id)
    )
    devices = (
        select(*columns)
        .join(registers, (outbox_messages.c.key == literal("vsdc-device:") + registers.c.sn)
              | outbox_messages.c.key.startswith(literal("vsdc-invoice:") + registers.c.sn + literal(":")))
        .where(registers.c.entity_id == entity_id, registers.c.kind == "vsdc")
    )  # fmt: skip
    rows = [*conn.execute(emails.order_by(outbox_messages.c.id.desc()).limit(limit)),
            *conn.execute(devices.order_by(outbox_messages.c.id.desc()).limit(limit))]  # fmt: skip
    return sorted(rows, key=lambda r: r.id, reverse=True)[:limit]


def entity_devices(conn: Connection, entity_id: int) -> list[Any]:
    return list(
        conn.execute(
            select(vsdc_devices.c.register_id, vsdc_devices.c.mcr, vsdc_devices.c.cert_serial, vsdc_devices.c.cert_pem,
                   vsdc_devices.c.revoked_at, vsdc_devices.c.invoice_count, registers.c.mode, registers.c.created_at)
            .join(registers, registers.c.id == vsdc_devices.c.register_id)
            .where(vsdc_devices.c.entity_id == entity_id)
            .order_by(vsdc_devices.c.register_id)
        ).all()
    )  # fmt: skip
