"""API keys: generation, storage and authentication.

Rules:
- A key is ``ovcr_`` + 43 URL-safe characters (32 random bytes). It is shown once and stored only as its
  SHA-256 hex digest; the first 12 characters are kept as the visible prefix.
- A key is valid when it exists, is not revoked and, after a rotation, its overlap has not expired.
- ``last_used_at`` is refreshed at most once a minute per key and process (no write on every request).
"""

from __future__ import annotations

import hashlib
import secrets
import threading

from sqlalchemy import Connection, insert, select, update

from openvcr.core.errors import NotAuthenticated, NotFound, ValidationFailed
from openvcr.registers.models import SCOPES, IssuedKey, KeyInfo, Principal
from openvcr.store.db import Database, now_ms
from openvcr.store.schema.foundation import api_keys, registers

KEY_PREFIX = "ovcr_"
VISIBLE_PREFIX_LENGTH = 12
_TOUCH_INTERVAL_MS = 60_000


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def check_scopes(scopes: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        raise ValidationFailed.at(["scope"], f"unknown scope {unknown[0]!r}; known: {', '.join(SCOPES)}")
    return tuple(dict.fromkeys(scopes)) if scopes else SCOPES


def create_key(
    conn: Connection, register_id: int, scopes: tuple[str, ...] = SCOPES, name: str | None = None
) -> IssuedKey:
    """Insert a new key for the register; return it with its secret (never stored)."""
    scopes = check_scopes(scopes)
    key = generate_key()
    prefix = key[:VISIBLE_PREFIX_LENGTH]
    key_id = conn.execute(
        insert(api_keys)
        .values(
            register_id=register_id,
            prefix=prefix,
            key_hash=hash_key(key),
            name=name,
            scopes=" ".join(scopes),
            created_at=now_ms(),
        )
        .returning(api_keys.c.id)
    ).scalar_one()
    return IssuedKey(id=key_id, key=key, prefix=prefix, register_id=register_id, scopes=scopes)


def list_keys(conn: Connection, register_id: int | None = None) -> list[KeyInfo]:
    query = select(api_keys).order_by(api_keys.c.id)
    if register_id is not None:
        query = query.where(api_keys.c.register_id == register_id)
    return [
        KeyInfo(
            id=r.id,
            prefix=r.prefix,
            register_id=r.register_id,
            name=r.name,
            scopes=tuple(r.scopes.split()),
            created_at=r.created_at,
            last_used_at=r.last_used_at,
            expires_at=r.expires_at,
            revoked_at=r.revoked_at,
        )
        for r in conn.execute(query)
    ]


def _get_active(conn: Connection, key_id: int) -> KeyInfo:
    for info in list_keys(conn):
        if info.id == key_id:
            if info.revoked_at is not None:
                raise ValidationFailed.at(["key"], f"key {key_id} is revoked")
            return info
    raise NotFound(f"no API key with id {key_id}")


def revoke_key(conn: Connection, key_id: int) -> KeyInfo:
    info = _get_active(conn, key_id)
    conn.execute(update(api_keys).where(api_keys.c.id == key_id).values(revoked_at=now_ms()))
    return info


def rotate_key(conn: Connection, key_id: int, overlap_seconds: int) -> IssuedKey:
    """A new key with the same register and scopes; the old one stays valid for ``overlap_seconds``."""
    info = _get_active(conn, key_id)
    issued = create_key(conn, info.register_id, info.scopes, info.name)
    expires = now_ms() + overlap_seconds * 1000
    if info.expires_at is not None:
        expires = min(expires, info.expires_at)
    conn.execute(update(api_keys).where(api_keys.c.id == key_id).values(expires_at=expires, replaced_by=issued.id))
    return issued


class Authenticator:
    """Looks a presented key up by its hash; refreshes ``last_used_at`` lazily."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._touched: dict[int, int] = {}
        self._lock = threading.Lock()

    def authenticate(self, presented: str | None) -> Principal:
        if not presented:
            raise NotAuthenticated("Missing API key: send it in the X-API-KEY header")
        digest = hash_key(presented.strip())
        query = (
            select(
                api_keys.c.id,
                api_keys.c.prefix,
                api_keys.c.register_id,
                api_keys.c.scopes,
                api_keys.c.expires_at,
                api_keys.c.revoked_at,
                registers.c.entity_id,
            )
            .join(registers, registers.c.id == api_keys.c.register_id)
            .where(api_keys.c.key_hash == digest)
        )
        with self.db.read() as conn:
            row = conn.execute(query).first()
        now = now_ms()
        if row is None or row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
            raise NotAuthenticated("Invalid API key")
        self._touch(row.id, now)
        return Principal(
            key_id=row.id,
            prefix=row.prefix,
            register_id=row.register_id,
            entity_id=row.entity_id,
            scopes=frozenset(row.scopes.split()),
        )

    def _touch(self, key_id: int, now: int) -> None:
        with self._lock:
            last = self._touched.get(key_id, 0)
            if now - last < _TOUCH_INTERVAL_MS:
                return
            self._touched[key_id] = now
        with self.db.write() as conn:
            conn.execute(update(api_keys).where(api_keys.c.id == key_id).values(last_used_at=now))
