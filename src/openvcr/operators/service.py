"""Operator use cases: tokens, businesses, and every register's health.

Rules:
- An operator token is ``ovop_`` + 43 random URL-safe characters; only its SHA-256 is stored, the token is
  returned once. A revoked token, an unknown one and a register's API key are all 401.
- A business is identified by its TIN (8 digits), unique.
- A business's first owner is invited once: a console user (without a password) who owns the business, and a
  one-time login link (the console's, as ``openvcr users link`` issues). A business that has an owner already
  is a 409 (its owners add people in the console). An e-mail already known with a password gains the role and
  no link (they sign in as they do).
- A register's health is ``disabled``, ``degraded`` (with its problems: no certificate yet, certificate
  expiring or expired, not activated with SRC, SRC requests waiting to be settled) or ``ok``.
"""

from __future__ import annotations

import hashlib
import secrets

from openvcr.authority import repository as authority_repo
from openvcr.authority.expiry import WARN_DAYS
from openvcr.authority.identity import days_left, iso_date
from openvcr.config import Settings
from openvcr.core.errors import Conflict, NotAuthenticated, NotFound, ValidationFailed
from openvcr.operators import repository as repo
from openvcr.operators.models import (
    Business,
    CertificateHealth,
    InvitedOwner,
    IssuedToken,
    OperatorPrincipal,
    RegisterHealth,
    TokenInfo,
)
from openvcr.registers import repository as registers_repo
from openvcr.registers.models import Register
from openvcr.store.db import Database, now_ms

TOKEN_PREFIX = "ovop_"  # noqa: S105 - the visible prefix of every token, not a secret


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(db: Database, name: str | None = None) -> IssuedToken:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    prefix = token[:12]
    with db.write() as conn:
        token_id = repo.insert_token(conn, prefix, _hash(token), name)
    return IssuedToken(token_id, token, prefix, name)


def list_tokens(db: Database) -> list[TokenInfo]:
    with db.read() as conn:
        return repo.list_tokens(conn)


def revoke_token(db: Database, token_id: int) -> None:
    with db.write() as conn:
        if not repo.revoke_token(conn, token_id):
            raise NotFound(f"no active operator token with id {token_id}")


def authenticate(db: Database, presented: str | None) -> OperatorPrincipal:
    if not presented:
        raise NotAuthenticated("Missing operator token: send it as 'Authorization: Bearer <token>'")
    with db.read() as conn:
        found = repo.token_by_hash(conn, _hash(presented.strip()))
    if found is None or found.revoked_at is not None:
        raise NotAuthenticated("Invalid operator token")
    return OperatorPrincipal(found.id, found.prefix, found.name)


def create_business(db: Database, tin: str, name: str, address: str | None) -> Business:
    if not (len(tin) == 8 and tin.isdigit()):
        raise ValidationFailed.at(["tin"], "tin must be 8 digits")
    with db.write() as conn:
        if repo.business_by_tin(conn, tin) is not None:
            raise Conflict(f"a business with TIN {tin} exists")
        registers_repo.insert_entity(conn, tin, name, address)
        found = repo.business_by_tin(conn, tin)
    assert found is not None
    return found


def list_businesses(db: Database) -> list[Business]:
    with db.read() as conn:
        return repo.list_businesses(conn)


def business(db: Database, tin: str) -> Business:
    with db.read() as conn:
        found = repo.business_by_tin(conn, tin)
    if found is None:
        raise NotFound(f"no business with TIN {tin}")
    return found


def business_by_id(db: Database, entity_id: int) -> Business:
    with db.read() as conn:
        found = repo.business_by_id(conn, entity_id)
    if found is None:
        raise NotFound(f"no business with id {entity_id}")
    return found


def invite_owner(db: Database, settings: Settings, entity_id: int, email: str) -> InvitedOwner:
    """Make ``email`` the first owner of the business (see the module rules) and, unless the user has a
    password already, issue their one-time login link."""
    from openvcr.console import service as console

    found = business_by_id(db, entity_id)
    if any(m.entity_id == entity_id and m.role == "owner" for u in console.users_of(db, entity_id)
           for m in u.memberships):  # fmt: skip
        raise Conflict(f"the business with TIN {found.tin} has an owner already; owners add people in the console")
    user, _ = console.add_user(db, email=email, role="owner", tin=found.tin, password=None)
    if user.has_password:
        return InvitedOwner(found, user.email, None, None)
    token = console.issue_login_link(db, settings, user.email, entity_id=entity_id)
    return InvitedOwner(found, user.email, console.login_link_url(settings, token), settings.console_link_minutes)


def _health(
    register: Register, identity: authority_repo.StoredIdentity | None, unsettled: int, now: int
) -> RegisterHealth:
    problems: list[str] = []
    certificate = None
    if identity is not None:
        if identity.not_after is None:
            certificate = CertificateHealth("awaiting", None, None, None)
            problems.append("no certificate yet: import the one SRC signed for the register's CSR")
        else:
            left = days_left(identity.not_after, now)
            status = "expired" if left < 0 else "expiring" if left < WARN_DAYS else "valid"
            certificate = CertificateHealth(status, identity.cert_serial, identity.not_after, left)
            if status == "expired":
                problems.append(f"the SRC certificate expired on {iso_date(identity.not_after)}")
            elif status == "expiring":
                problems.append(f"the SRC certificate expires on {iso_date(identity.not_after)} ({left} days left)")
    if register.authority_status != "operating":
        problems.append(f"not operating with SRC (status {register.authority_status})")
    if unsettled:
        problems.append(f"{unsettled} SRC request(s) waiting to be settled")
    disabled = register.disabled_at is not None
    health = "disabled" if disabled else "degraded" if problems else "ok"
    return RegisterHealth(
        register_id=register.id,
        business_tin=register.tin,
        business_name=register.entity_name,
        crn=register.crn,
        mode=register.mode,
        authority_status=register.authority_status,
        disabled=disabled,
        certificate=certificate,
        unsettled_requests=unsettled,
        health=health,
        problems=tuple(problems),
    )


def register_health(db: Database, register_id: int | None = None) -> list[RegisterHealth]:
    """Every e-HDM register's health (or one register's: ``NotFound`` for an unknown one)."""
    now = now_ms()
    with db.read() as conn:
        if register_id is not None:
            found = [registers_repo.get_register(conn, register_id)]
        else:
            found = [r for r in registers_repo.list_registers(conn) if r.kind == "ehdm"]
        return [
            _health(
                register,
                authority_repo.load_identity(conn, register.id),
                len(authority_repo.unsettled(conn, register.id)),
                now,
            )
            for register in found
        ]
