"""Pairing: a shop obtains an API key without anyone copying it by hand (VCR API v1, "Pairing").

1. The shop posts a connect request (``POST /api/v1/connect/requests``, no API key): where to send the merchant
   back (``redirectUri``), its name, an opaque ``state`` and the PKCE S256 challenge of a verifier it keeps.
   It gets a ``requestId``, the ``connectUrl`` to open in the merchant's browser and the request's expiry.
2. A merchant signed in to the console opens the ``connectUrl``, sees the shop's name and the host it will be
   sent back to, picks a register of their business and approves, or denies. Approving needs the ``keys``
   permission (owners and developers: whoever may create a key by hand). The browser goes back to the
   ``redirectUri`` with ``code`` and ``state`` (denied: ``error=access_denied`` and ``state``).
3. The shop exchanges the code and its verifier (``POST /api/v1/connect/exchange``, no API key) for an API key
   of that register, named after the shop, with the default scopes (``registers.models.DEFAULT_SCOPES``: no
   ``webhooks``).

Rules:
- A request is inert until approved and lapses ``REQUEST_MINUTES`` after it was made; it is decided once.
- A code is 256 random bits, lives ``CODE_SECONDS`` and is spent by its first exchange, right or wrong: a wrong
  verifier burns it. Unknown, spent, expired and wrong-verifier codes all get the same ``ValidationFailed``
  (``INVALID_CODE``), so a stolen code cannot be probed.
- Request ids and codes are stored only as SHA-256 digests; the verifier is never sent before the exchange.
- The approval, the denial and the key are written to the business's audit log in their transactions.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from sqlalchemy import Connection

from openvcr.console import pairing_repository as repo
from openvcr.console import service
from openvcr.console.models import ConsoleSession
from openvcr.core.errors import NotFound, ValidationFailed
from openvcr.registers.keys import create_key
from openvcr.registers.models import DEFAULT_SCOPES
from openvcr.store.db import Database, now_ms

REQUEST_MINUTES = 15
CODE_SECONDS = 120
PURGE_AFTER_MS = 86_400_000  # requests never exchanged are deleted a day after they lapsed
INVALID_CODE = "Invalid code: unknown, expired, already used, or not issued for this verifier"
VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def s256(verifier: str) -> str:
    """The PKCE S256 challenge of a verifier: unpadded base64url of its SHA-256."""
    raw = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


@dataclass(frozen=True)
class CreatedRequest:
    request_id: str
    connect_url: str
    expires_at: int


@dataclass(frozen=True)
class PendingRequest:
    store_name: str
    redirect_uri: str
    redirect_host: str
    redirect_origin: str
    expires_at: int


@dataclass(frozen=True)
class RegisterChoice:
    id: int
    crn: str | None
    name: str


@dataclass(frozen=True)
class Exchanged:
    api_key: str
    key_id: int
    vcr_id: int
    crn: str | None
    register_name: str


def create_request(
    db: Database, public_url: str, redirect_uri: str, store_name: str, state: str, code_challenge: str
) -> CreatedRequest:
    """Store a new connect request (already validated by its schema); answer its id and where to approve it."""
    request_id = secrets.token_urlsafe(32)
    now = now_ms()
    expires = now + REQUEST_MINUTES * 60_000
    with db.write() as conn:
        repo.purge(conn, now - PURGE_AFTER_MS)
        repo.insert_request(
            conn,
            request_hash=digest(request_id),
            redirect_uri=redirect_uri,
            store_name=store_name,
            state=state,
            code_challenge=code_challenge,
            created_at=now,
            expires_at=expires,
            status="pending",
        )
    return CreatedRequest(request_id, f"{public_url.rstrip('/')}/console/connect/{request_id}", expires)


def _pending_row(conn: Connection, request_id: str, now: int) -> Any:
    row = repo.request_by_hash(conn, digest(request_id))
    if row is None or row.status != "pending" or row.expires_at <= now:
        raise NotFound("This connection request is unknown, expired or already answered")
    return row


def origin_of(uri: str) -> tuple[str, str]:
    """(host[:port], scheme://host[:port]) of a validated redirect URI."""
    parts = urlsplit(uri)
    return parts.netloc, f"{parts.scheme}://{parts.netloc}"


def pending_request(db: Database, request_id: str) -> PendingRequest:
    with db.read() as conn:
        row = _pending_row(conn, request_id, now_ms())
    host, origin = origin_of(row.redirect_uri)
    return PendingRequest(row.store_name, row.redirect_uri, host, origin, row.expires_at)


def register_choices(db: Database, entity_id: int) -> list[RegisterChoice]:
    with db.read() as conn:
        return [RegisterChoice(r.id, r.crn, r.trading_platform_name) for r in repo.usable_registers(conn, entity_id)]


def _back(uri: str, **params: str) -> str:
    return uri + ("&" if urlsplit(uri).query else "?") + urlencode(params)


def approve(db: Database, session: ConsoleSession, request_id: str, register_id: int) -> str:
    """Approve the request for a register of the session's business; answer the URL to send the browser to."""
    code = secrets.token_urlsafe(32)
    now = now_ms()
    with db.write() as conn:
        row = _pending_row(conn, request_id, now)
        if register_id not in {r.id for r in repo.usable_registers(conn, session.entity_id)}:
            raise NotFound(f"no register {register_id}")
        decided = repo.decide(conn, row.id, now, status="approved", user_id=session.user_id,
                              register_id=register_id, code_hash=digest(code),
                              code_expires_at=now + CODE_SECONDS * 1000)  # fmt: skip
        if not decided:
            raise NotFound("This connection request is unknown, expired or already answered")
        service.record(conn, entity_id=session.entity_id, action="pairing.approve", actor=session.email,
                       user_id=session.user_id, target=f"register {register_id}",
                       detail={"storeName": row.store_name,
                               "redirectHost": origin_of(row.redirect_uri)[0]})  # fmt: skip
    return _back(row.redirect_uri, code=code, state=row.state)


def deny(db: Database, session: ConsoleSession, request_id: str) -> str:
    """Deny the request; answer the URL to send the browser to (``error=access_denied``)."""
    now = now_ms()
    with db.write() as conn:
        row = _pending_row(conn, request_id, now)
        if not repo.decide(conn, row.id, now, status="denied", user_id=session.user_id):
            raise NotFound("This connection request is unknown, expired or already answered")
        service.record(conn, entity_id=session.entity_id, action="pairing.deny", actor=session.email,
                       user_id=session.user_id, target=None,
                       detail={"storeName": row.store_name,
                               "redirectHost": origin_of(row.redirect_uri)[0]})  # fmt: skip
    return _back(row.redirect_uri, error="access_denied", state=row.state)


def _invalid() -> ValidationFailed:
    return ValidationFailed(INVALID_CODE)


def exchange(db: Database, code: str, verifier: str) -> Exchanged:
    """Spend the code: a new API key of the approved register, if the verifier is the request's."""
    now = now_ms()
    with db.write() as conn:
        row = repo.request_by_code(conn, digest(code))
        if row is None or row.status != "approved" or row.code_expires_at is None or row.code_expires_at <= now:
            raise _invalid()
        good = VERIFIER.fullmatch(verifier) is not None
        register = repo.register_of(conn, row.register_id)
        usable = register is not None and register.disabled_at is None  # a register disabled since: no key
        if not (good and hmac.compare_digest(s256(verifier), row.code_challenge) and usable):
            repo.spend_code(conn, row.id, "burnt", now)  # burnt, or spent a moment ago: the same answer
        else:
            assert register is not None
            issued = create_key(conn, row.register_id, DEFAULT_SCOPES, row.store_name)
            if not repo.spend_code(conn, row.id, "exchanged", now, issued.id):
                raise _invalid()  # another exchange came first: this key is rolled back
            service.record(conn, entity_id=register.entity_id, action="key.create", actor="pairing",
                           user_id=row.user_id, target=f"key {issued.id}",
                           detail={"register": row.register_id, "name": row.store_name,
                                   "scopes": list(issued.scopes), "via": "pairing"})  # fmt: skip
            crn = register.crn if register.authority_status == "operating" else None
            return Exchanged(issued.key, issued.id, register.id, crn, register.trading_platform_name)
    raise _invalid()
