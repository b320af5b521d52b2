"""People, roles, sessions, login links and the audit log of the console.

Rules:
- An e-mail is one user (lower-cased, trimmed); a user holds one role per business entity (``models.ROLES``).
- Sign-in: e-mail + password (+ a TOTP code when the user has a second factor). After
  ``console_login_attempts`` failures for one e-mail from one address within ``console_login_window_seconds``,
  further attempts from there are refused without checking the password until the window has passed; a
  success clears that address's failures. A disabled user, an unknown e-mail and a wrong password all fail
  the same way.
- A session is a random token in a cookie, stored as its SHA-256 digest, with its own CSRF token; it ends at
  ``console_session_hours`` after sign-in, at sign-out, when its user is disabled and when its user's
  password is reset. It shows one business at a time; the role is read from the membership on every request.
- A one-time login link works once, before it expires (``console_link_minutes``); only its digest is stored.
- Every change made through the console or an operator command is written to the audit log in the same
  transaction as the change.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Connection

from openvcr.config import Settings
from openvcr.console import repository as repo
from openvcr.console.models import ROLES, AuditEntry, ConsoleSession, FirstOwner, SignedIn, User
from openvcr.console.security import (
    hash_password,
    new_token,
    new_totp_secret,
    password_problem,
    token_digest,
    verify_password,
    verify_totp,
)
from openvcr.core.errors import Conflict, Forbidden, NotAuthenticated, NotFound, RateLimited, ValidationFailed
from openvcr.store.db import Database, now_ms

OPERATOR = "operator"
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}$")


def normalize_email(email: str) -> str:
    cleaned = email.strip().lower()
    if not _EMAIL.match(cleaned) or len(cleaned) > 320:
        raise ValidationFailed.at(["email"], "not an e-mail address")
    return cleaned


def record(
    conn: Connection,
    *,
    entity_id: int | None,
    action: str,
    actor: str = OPERATOR,
    user_id: int | None = None,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Write one audit entry (in the caller's transaction)."""
    repo.insert_audit(
        conn,
        entity_id=entity_id,
        user_id=user_id,
        actor=actor,
        action=action,
        target=target,
        detail=detail,
        now=now_ms(),
    )


# ---- people (operator commands and the owner's page) -------------------------------------------------------


def add_user(
    db: Database,
    *,
    email: str,
    role: str,
    tin: str,
    password: str | None,
    totp: bool = False,
    actor: str = OPERATOR,
    actor_id: int | None = None,
) -> tuple[User, str | None]:
    """Add a user to a business with a role (a known e-mail gains a membership). Returns the user and, when
    ``totp``, the new TOTP secret (shown once)."""
    email = normalize_email(email)
    if role not in ROLES:
        raise ValidationFailed.at(["role"], f"unknown role {role!r}; known: {', '.join(ROLES)}")
    if password is not None and (problem := password_problem(password)):
        raise ValidationFailed.at(["password"], problem)
    hashed = hash_password(password) if password is not None else None
    secret = new_totp_secret() if totp else None
    now = now_ms()
    with db.write() as conn:
        entity_id = repo.entity_by_tin(conn, tin)
        if entity_id is None:
            raise NotFound(f"no business entity with TIN {tin}")
        row = repo.find_user_row(conn, email)
        if row is None:
            user_id = repo.insert_user(conn, email, hashed, secret, now)
        else:
            user_id = row.id
            if any(m.entity_id == entity_id for m in repo.memberships(conn, user_id)):
                raise Conflict(f"{email} already belongs to the business with TIN {tin}")
            if hashed is not None or secret is not None:
                raise Conflict(f"{email} exists: its password and second factor are not changed here")
        repo.add_membership(conn, user_id, entity_id, role, now)
        record(conn, entity_id=entity_id, action="user.add", actor=actor, user_id=actor_id, target=email,
               detail={"role": role})  # fmt: skip
        user = repo.find_user(conn, email)
    assert user is not None
    return user, secret


def list_users(db: Database, tin: str | None = None) -> list[User]:
    with db.read() as conn:
        entity_id = None
        if tin is not None:
            entity_id = repo.entity_by_tin(conn, tin)
            if entity_id is None:
                raise NotFound(f"no business entity with TIN {tin}")
        return repo.list_users(conn, entity_id)


def users_of(db: Database, entity_id: int) -> list[User]:
    with db.read() as conn:
        return repo.list_users(conn, entity_id)


def _existing(conn: Connection, email: str) -> Any:
    row = repo.find_user_row(conn, normalize_email(email))
    if row is None:
        raise NotFound(f"no console user {email.strip().lower()}")
    return row


def disable_user(db: Database, email: str, *, enable: bool = False) -> User:
    """Disable a user (their sessions end at once), or enable them again."""
    now = now_ms()
    with db.write() as conn:
        row = _existing(conn, email)
        repo.set_user(conn, row.id, disabled_at=None if enable else now)
        if not enable:
            repo.end_user_sessions(conn, row.id, now)
        for membership in repo.memberships(conn, row.id):
            record(conn, entity_id=membership.entity_id, action="user.enable" if enable else "user.disable",
                   target=row.email)  # fmt: skip
        user = repo.find_user(conn, row.email)
    assert user is not None
    return user


def reset_password(db: Database, email: str, password: str) -> User:
    """Set a new password (an operator command); the user's sessions end."""
    if problem := password_problem(password):
        raise ValidationFailed.at(["password"], problem)
    hashed = hash_password(password)
    now = now_ms()
    with db.write() as conn:
        row = _existing(conn, email)
        repo.set_user(conn, row.id, password_hash=hashed)
        repo.end_user_sessions(conn, row.id, now)
        for membership in repo.memberships(conn, row.id):
            record(conn, entity_id=membership.entity_id, action="user.reset_password", target=row.email)
        user = repo.find_user(conn, row.email)
    assert user is not None
    return user


def change_own_password(db: Database, session: ConsoleSession, current: str | None, new: str) -> None:
    """A signed-in user sets their password; the current one is asked when there is one."""
    if problem := password_problem(new):
        raise ValidationFailed.at(["password"], problem)
    with db.read() as conn:
        row = _existing(conn, session.email)
    if row.password_hash is not None and not verify_password(current or "", row.password_hash):
        raise ValidationFailed.at(["current"], "the current password is wrong")
    hashed = hash_password(new)
    with db.write() as conn:
        repo.set_user(conn, row.id, password_hash=hashed)
        record(conn, entity_id=session.entity_id, action="user.change_password", actor=session.email,
               user_id=session.user_id, target=session.email)  # fmt: skip


def issue_login_link(
    db: Database,
    settings: Settings,
    email: str,
    *,
    entity_id: int | None = None,
    actor: str = OPERATOR,
    actor_id: int | None = None,
) -> str:
    """A one-time login link's token for a user (the link is ``/console/login/{token}``). Audited in every
    business of the user, or only in ``entity_id`` when an owner of that business asks for it."""
    token = new_token()
    now = now_ms()
    with db.write() as conn:
        row = _existing(conn, email)
        if row.disabled_at is not None:
            raise Conflict(f"{row.email} is disabled")
        repo.insert_link(conn, token_digest(token), row.id, now, now + settings.console_link_minutes * 60_000)
        entities = [m.entity_id for m in repo.memberships(conn, row.id)] if entity_id is None else [entity_id]
        for entity in entities:
            record(conn, entity_id=entity, action="user.login_link", actor=actor, user_id=actor_id, target=row.email)
    return token


def change_member(db: Database, session: ConsoleSession, user_id: int, role: str | None) -> None:
    """An owner gives a member of their business another role (``role``) or removes them (None). A business
    keeps at least one owner."""
    if role is not None and role not in ROLES:
        raise ValidationFailed.at(["role"], f"unknown role {role!r}; known: {', '.join(ROLES)}")
    entity_id = session.entity_id
    with db.write() as conn:
        members = {u.id: u for u in repo.list_users(conn, entity_id)}
        user = members.get(user_id)
        if user is None:
            raise NotFound(f"no member {user_id}")
        roles = {u.id: next(m.role for m in u.memberships if m.entity_id == entity_id) for u in members.values()}
        owners = [uid for uid, r in roles.items() if r == "owner"]
        if roles[user_id] == "owner" and role != "owner" and len(owners) == 1:
            raise Conflict("a business keeps at least one owner")
        repo.set_membership(conn, user_id, entity_id, role)
        record(conn, entity_id=entity_id, action="user.role" if role else "user.remove", actor=session.email,
               user_id=session.user_id, target=user.email, detail={"role": role} if role else None)  # fmt: skip


def login_link_url(settings: Settings, token: str) -> str:
    return f"{settings.public_url.rstrip('/')}/console/login/{token}"


def ensure_first_owner(db: Database, settings: Settings) -> FirstOwner | None:
    """On a database with a business and no console user yet: create the first owner (of the first business,
    without a password) and a one-time login link. None when there are users already or no business."""
    with db.read() as conn:
        if repo.any_user(conn):
            return None
        first = repo.first_entity(conn)
    if first is None:
        return None
    entity_id, tin = first
    email = normalize_email(settings.console_owner_email)
    now = now_ms()
    with db.write() as conn:
        if repo.any_user(conn):  # another process was first
            return None
        user_id = repo.insert_user(conn, email, None, None, now)
        repo.add_membership(conn, user_id, entity_id, "owner", now)
        record(conn, entity_id=entity_id, action="user.add", target=email, detail={"role": "owner", "first": True})
    return FirstOwner(email=email, tin=tin, link_token=issue_login_link(db, settings, email))


# ---- sessions ----------------------------------------------------------------------------------------------


def _open_session(conn: Connection, settings: Settings, user_id: int) -> SignedIn:
    member = repo.memberships(conn, user_id)
    if not member:
        raise NotAuthenticated("this user belongs to no business")
    token, now = new_token(), now_ms()
    expires = now + int(settings.console_session_hours * 3_600_000)
    repo.insert_session(conn, token_digest(token), user_id, member[0].entity_id, new_token(), now, expires)
    session = repo.live_session(conn, token_digest(token), now)
    assert session is not None
    record(conn, entity_id=session.entity_id, action="session.start", actor=session.email, user_id=user_id)
    return SignedIn(token, session)


def sign_in(db: Database, settings: Settings, email: str, password: str, code: str | None, ip: str) -> SignedIn:
    """A new session for valid credentials. ``NotAuthenticated`` for wrong ones (all alike), ``RateLimited``
    when this e-mail has failed too often from this address."""
    email = email.strip().lower()[:320]
    now = now_ms()
    window = settings.console_login_window_seconds * 1000
    with db.read() as conn:
        if repo.recent_failures(conn, email, ip, now - window) >= settings.console_login_attempts:
            raise RateLimited(settings.console_login_window_seconds, "Too many failed sign-ins; try again later")
        row = repo.find_user_row(conn, email)
    good = verify_password(password, row.password_hash if row is not None else None)
    if good and row is not None and row.totp_secret is not None:
        good = verify_totp(row.totp_secret, code or "")
    if not good or row is None or row.disabled_at is not None:
        with db.write() as conn:
            repo.record_failure(conn, email, ip, now, now - window)
        raise NotAuthenticated("Wrong e-mail or password")
    with db.write() as conn:
        repo.clear_failures(conn, email, ip)
        return _open_session(conn, settings, row.id)


def sign_in_with_link(db: Database, settings: Settings, token: str) -> SignedIn:
    """A new session for an unused, unexpired login link (used up now)."""
    with db.write() as conn:
        user_id = repo.use_link(conn, token_digest(token), now_ms())
        if user_id is None:
            raise NotAuthenticated("This login link is not valid: it was used already or has expired")
        row = repo.user_row_by_id(conn, user_id)
        if row is None or row.disabled_at is not None:
            raise NotAuthenticated("This login link is not valid")
        return _open_session(conn, settings, user_id)


def session_of(db: Database, token: str | None) -> ConsoleSession | None:
    if not token:
        return None
    with db.read() as conn:
        return repo.live_session(conn, token_digest(token), now_ms())


def sign_out(db: Database, token: str) -> None:
    with db.write() as conn:
        repo.end_session(conn, token_digest(token), now_ms())


def switch_business(db: Database, session: ConsoleSession, entity_id: int) -> None:
    if not any(m.entity_id == entity_id for m in session.memberships):
        raise Forbidden("you do not belong to this business")
    with db.write() as conn:
        repo.set_session_entity(conn, session.id, entity_id)


def audit_log(db: Database, entity_id: int, limit: int = 200) -> list[AuditEntry]:
    with db.read() as conn:
        return repo.list_audit(conn, entity_id, limit)
