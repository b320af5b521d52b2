"""Domain types of registers and API keys."""

from __future__ import annotations

from dataclasses import dataclass, field

from openvcr.core.limits import Limits

SCOPES: tuple[str, ...] = (
    "account:read",
    "catalog:read",
    "catalog:write",
    "sales:read",
    "sales:write",
    "prepayments:read",
    "prepayments:write",
    "webhooks",
)

DEFAULT_SCOPES: tuple[str, ...] = tuple(s for s in SCOPES if s != "webhooks")
"""What ``openvcr keys create`` grants without ``--scope``: every scope but ``webhooks`` (managing webhooks
sends the business's documents to any URL, so it is granted explicitly). ``openvcr init``'s first key has every
scope. Keys made before the ``webhooks`` scope existed keep the scopes they had."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: one API key of one register."""

    key_id: int
    prefix: str
    register_id: int
    entity_id: int
    scopes: frozenset[str]


@dataclass(frozen=True)
class Register:
    id: int
    entity_id: int
    kind: str
    crn: str | None
    sn: str | None
    mode: str
    trading_platform_name: str
    authority_status: str
    tin: str
    entity_name: str
    address: str | None
    taxpayer_name: str | None
    late_fiscalization: bool = False
    sms_receipts: bool = False  # a buyer's E.164 phone gets the receipt by SMS
    limits: Limits = field(default_factory=Limits)
    disabled_at: int | None = None


@dataclass(frozen=True)
class IssuedKey:
    """A freshly created API key: the only moment its secret is known."""

    id: int
    key: str
    prefix: str
    register_id: int
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class KeyInfo:
    id: int
    prefix: str
    register_id: int
    name: str | None
    scopes: tuple[str, ...]
    created_at: int
    last_used_at: int | None
    expires_at: int | None
    revoked_at: int | None
