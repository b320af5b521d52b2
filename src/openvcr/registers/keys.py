"""API keys: generation, storage and authentication.

Rules:
- A key is ``ovcr_`` + 43 URL-safe characters (32 random bytes). It is shown once and stored only as its
  SHA-256 hex digest; the first 12 characters are kept as the visible prefix.
- A key is valid when it exists, is not revoked and, after a rotation, its overlap has not expired.
- ``last_used_at`` is refreshed at most once a minute per key and process (no write on every request), off
  the request's thread.
- Workers cache what they read of a key for ``OPENVCR_KEY_CACHE_SECONDS`` (``Authenticator``): a revocation,
  or a new ``expires_at`` (a rotation), reaches every worker within that delay; an ``expires_at`` a worker
  knows is checked against the clock on every request.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import Connection, insert, select, update

from openvcr.core.errors import NotAuthenticated, NotFound, ValidationFailed
from openvcr.registers.models import DEFAULT_SCOPES, SCOPES, IssuedKey, KeyInfo, Principal, Register
from openvcr.registers.repository import get_register
from openvcr.store.db import Database, now_ms
from openvcr.store.schema.foundation import api_keys

KEY_PREFIX = "ovcr_"
VISIBLE_PREFIX_LENGTH = 12
_TOUCH_INTERVAL_MS = 60_000
_CACHE_ENTRIES = 10_000  # keys (and registers) a worker keeps at most

_K = TypeVar("_K")
_V = TypeVar("_V")

log = logging.getLogger("openvcr.keys")


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def check_scopes(scopes: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        raise ValidationFailed.at(["scope"], f"unknown scope {unknown[0]!r}; known: {', '.join(SCOPES)}")
    return tuple(dict.fromkeys(scopes)) if scopes else DEFAULT_SCOPES


def create_key(
    conn: Connection, register_id: int, scopes: tuple[str, ...] = DEFAULT_SCOPES, name: str | None = None
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


@dataclass(frozen=True)
class _Known:
    """What a worker knows of one key: read from the database at ``loaded`` (monotonic seconds)."""

    principal: Principal
    expires_at: int | None
    revoked: bool
    loaded: float


class Authenticator:
    """Looks a presented key up by its hash, through a small per-worker cache.

    Rules:
    - A key read from the database is kept ``cache_seconds`` (the revocation delay), keyed by its hash, with its
      register; after that it is read again. So a revoked or rotated-out key stops working in every worker
      within ``cache_seconds``. ``cache_seconds=0`` reads the database on every request.
    - Expiry (``expires_at``) is checked against the clock on every request, cached or not.
    - An unknown key is never cached: a key created a moment ago works at once. A revoked or expired key is
      cached like any other (neither state is ever undone).
    - ``cached()`` does no I/O (the event loop may call it); ``authenticate()`` and ``load_register()`` may
      read the database (call them off the event loop).
    - ``last_used_at`` is refreshed at most once a minute per key and worker, by a background thread, never
      on the request's thread. ``close()`` writes what is left.
    """

    def __init__(self, db: Database, cache_seconds: float = 2.0, *, clock: Callable[[], float] = time.monotonic):
        self.db = db
        self.cache_seconds = cache_seconds
        self._clock = clock
        self._keys: dict[str, _Known] = {}
        self._registers: dict[int, tuple[Register, float]] = {}
        self._lock = threading.Lock()
        self._touched: dict[int, int] = {}
        self._unwritten: dict[int, int] = {}
        self._writing = False
        self._closed = False
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="openvcr-key-use")

    def cached(self, presented: str | None) -> Principal | None:
        """The caller from this worker's cache, without I/O; ``None`` when the database must be asked.

        Raises ``NotAuthenticated`` for a missing key and for a cached key that is revoked or expired."""
        known = self._fresh(_digest(presented))
        return None if known is None else self._admit(known)

    def authenticate(self, presented: str | None) -> Principal:
        """The caller, from the cache or else the database; ``NotAuthenticated`` when the key is not valid."""
        digest = _digest(presented)
        known = self._fresh(digest) or self._load(digest)
        if known is None:
            raise NotAuthenticated("Invalid API key")
        return self._admit(known)

    def cached_register(self, register_id: int) -> Register | None:
        """The register as this worker read it at most ``cache_seconds`` ago, or ``None`` (no I/O)."""
        found = self._registers.get(register_id)
        if found is None or self._clock() - found[1] >= self.cache_seconds:
            return None
        return found[0]

    def load_register(self, register_id: int) -> Register:
        """The register, from the cache or else the database."""
        register = self.cached_register(register_id)
        if register is None:
            loaded = self._clock()
            with self.db.read() as conn:
                register = get_register(conn, register_id)
            self._remember_register(register, loaded)
        return register

    def close(self) -> None:
        """Write the last ``last_used_at`` refreshes and stop the background writer."""
        with self._lock:
            self._closed = True
        self._writer.shutdown(wait=True)
        self._write_uses()

    def _fresh(self, digest: str) -> _Known | None:
        known = self._keys.get(digest)
        if known is None or self._clock() - known.loaded >= self.cache_seconds:
            return None
        return known

    def _load(self, digest: str) -> _Known | None:
        query = select(
            api_keys.c.id,
            api_keys.c.prefix,
            api_keys.c.register_id,
            api_keys.c.scopes,
            api_keys.c.expires_at,
            api_keys.c.revoked_at,
        ).where(api_keys.c.key_hash == digest)
        loaded = self._clock()  # before the read: the entry is never younger than the data in it
        with self.db.read() as conn:
            row = conn.execute(query).first()
            if row is None:
                return None
            register = get_register(conn, row.register_id)
        known = _Known(
            principal=Principal(
                key_id=row.id,
                prefix=row.prefix,
                register_id=row.register_id,
                entity_id=register.entity_id,
                scopes=frozenset(row.scopes.split()),
            ),
            expires_at=row.expires_at,
            revoked=row.revoked_at is not None,
            loaded=loaded,
        )
        if self.cache_seconds > 0:
            with self._lock:
                if len(self._keys) >= _CACHE_ENTRIES:
                    _evict(self._keys, lambda k: k.loaded, loaded - self.cache_seconds)
                self._keys[digest] = known
        self._remember_register(register, loaded)
        return known

    def _remember_register(self, register: Register, loaded: float) -> None:
        if self.cache_seconds <= 0:
            return
        with self._lock:
            if len(self._registers) >= _CACHE_ENTRIES:
                _evict(self._registers, lambda r: r[1], loaded - self.cache_seconds)
            self._registers[register.id] = (register, loaded)

    def _admit(self, known: _Known) -> Principal:
        now = now_ms()
        if known.revoked or (known.expires_at is not None and known.expires_at <= now):
            raise NotAuthenticated("Invalid API key")
        self._note_use(known.principal.key_id, now)
        return known.principal

    def _note_use(self, key_id: int, now: int) -> None:
        if now - self._touched.get(key_id, 0) < _TOUCH_INTERVAL_MS:  # the common case, without the lock
            return
        with self._lock:
            if now - self._touched.get(key_id, 0) < _TOUCH_INTERVAL_MS or self._closed:
                return
            self._touched[key_id] = now
            self._unwritten[key_id] = now
            if not self._writing:
                self._writing = True
                self._writer.submit(self._write_uses)  # under the lock: never after close() shut it down

    def _write_uses(self) -> None:
        with self._lock:
            uses, self._unwritten = self._unwritten, {}
            self._writing = False
        if not uses:
            return
        try:
            with self.db.write() as conn:
                for key_id, at in sorted(uses.items()):
                    conn.execute(update(api_keys).where(api_keys.c.id == key_id).values(last_used_at=at))
        except Exception:  # a lost refresh is harmless; the next use a minute later writes it again
            log.warning("could not record the last use of API keys %s", sorted(uses), exc_info=True)


def _digest(presented: str | None) -> str:
    if not presented:
        raise NotAuthenticated("Missing API key: send it in the X-API-KEY header")
    return hash_key(presented.strip())


def _evict(cache: dict[_K, _V], loaded: Callable[[_V], float], stale_before: float) -> None:
    """Make room in a full cache: drop the stale entries, else the oldest half."""
    stale = [k for k, v in cache.items() if loaded(v) < stale_before]
    if not stale:
        stale = list(itertools.islice(cache, len(cache) // 2 + 1))
    for k in stale:
        del cache[k]
