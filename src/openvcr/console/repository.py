"""SQL of the console's own tables: users, memberships, sessions, login links, failed sign-ins, audit."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from openvcr.console.models import AuditEntry, ConsoleSession, Membership, User
from openvcr.store.schema.console import (
    console_audit,
    console_login_failures,
    console_login_links,
    console_memberships,
    console_sessions,
    console_users,
)
from openvcr.store.schema.foundation import business_entities


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
