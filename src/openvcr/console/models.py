"""Domain types of the console, and the one table of what each role may do.

Roles (a user's role is per business entity):
- ``owner``: everything, people and keys included;
- ``accountant``: the overview, sales and refunds, prepayments, documents, the catalogue (read);
- ``developer``: registers, API keys, deliveries (outbox), devices.
The audit log and people are the owner's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ROLES: tuple[str, ...] = ("owner", "accountant", "developer")

# What a permission lets a user see or do, in every business where they hold a role that grants it.
PERMISSIONS: tuple[str, ...] = (
    "overview",
    "sales",
    "refunds",
    "prepayments",
    "documents",
    "catalog",
    "catalog:write",
    "registers",
    "keys",
    "outbox",
    "devices",
    "people",
    "audit",
)

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "owner": frozenset(PERMISSIONS),
    "accountant": frozenset({"overview", "sales", "refunds", "prepayments", "documents", "catalog"}),
    "developer": frozenset({"registers", "keys", "outbox", "devices"}),
}


def allowed(role: str, permission: str) -> bool:
    """Whether ``role`` grants ``permission`` (the one place roles are checked)."""
    return permission in ROLE_PERMISSIONS.get(role, frozenset())


@dataclass(frozen=True)
class Membership:
    entity_id: int
    tin: str
    entity_name: str
    role: str


@dataclass(frozen=True)
class User:
    id: int
    email: str
    has_password: bool
    has_totp: bool
    disabled_at: int | None
    created_at: int
    memberships: tuple[Membership, ...]


@dataclass(frozen=True)
class ConsoleSession:
    """A signed-in user, in the business the session shows, with the role they hold there."""

    id: int
    user_id: int
    email: str
    entity_id: int
    role: str
    csrf_token: str
    expires_at: int
    memberships: tuple[Membership, ...]

    def may(self, permission: str) -> bool:
        return allowed(self.role, permission)

    @property
    def business(self) -> Membership:
        return next(m for m in self.memberships if m.entity_id == self.entity_id)


@dataclass(frozen=True)
class SignedIn:
    """A new session: its token (for the cookie, never stored) and what it shows."""

    token: str
    session: ConsoleSession


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: int
    actor: str
    action: str
    target: str | None
    detail: dict[str, Any] | None


@dataclass(frozen=True)
class FirstOwner:
    email: str
    tin: str
    link_token: str
