"""Domain types of the operator API."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OperatorPrincipal:
    """Who is calling the operator API: one operator token."""

    token_id: int
    prefix: str
    name: str | None


@dataclass(frozen=True)
class IssuedToken:
    """A freshly created operator token: the only moment its secret is known."""

    id: int
    token: str
    prefix: str
    name: str | None


@dataclass(frozen=True)
class TokenInfo:
    id: int
    prefix: str
    name: str | None
    created_at: int
    revoked_at: int | None


@dataclass(frozen=True)
class Business:
    id: int
    tin: str
    name: str
    address: str | None


@dataclass(frozen=True)
class InvitedOwner:
    """A business's first owner: their e-mail and, for a user without a password, a one-time login link."""

    business: Business
    email: str
    login_url: str | None
    link_minutes: int | None


@dataclass(frozen=True)
class CertificateHealth:
    status: str  # awaiting | valid | expiring | expired
    serial: str | None
    not_after: int | None
    days_left: int | None


@dataclass(frozen=True)
class RegisterHealth:
    """A register as a host sees it: who it belongs to, its SRC state, its certificate, what needs doing."""

    register_id: int
    business_tin: str
    business_name: str
    crn: str | None
    mode: str
    authority_status: str
    disabled: bool
    certificate: CertificateHealth | None  # None: no identity of its own (the global one)
    unsettled_requests: int
    health: str  # ok | degraded | disabled
    problems: tuple[str, ...]
