"""Registers' journal signing keys: generated once, stored encrypted, loaded once per process.

Rules:
- Each register has one ECDSA P-256 key, generated at ``init`` (``ensure_register_key``) and stored in
  ``registers.signing_key_enc`` (PKCS#8, AES-256-GCM under a key derived from the master key, bound to the
  register by ``b"register:<id>"``) with its public key in ``registers.public_key_pem``.
- ``ensure_register_key`` never replaces an existing key (an atomic ``UPDATE … WHERE signing_key_enc IS NULL``).
- ``signer_for`` decrypts a key once per process and database and caches the signer; a wrong master key is a
  clear error, never a silently different key.
"""

from __future__ import annotations

import hashlib
import threading
import weakref

from sqlalchemy import Connection, Engine, select, update

from openvcr.core.errors import NotFound, OpenVCRError
from openvcr.core.signing import (
    EcdsaP256Signer,
    KeyDecryptionError,
    Signer,
    decrypt_private_key,
    encrypt_private_key,
)
from openvcr.store.db import Database
from openvcr.store.schema.foundation import registers

__all__ = ["SigningKeyError", "clear_signer_cache", "ensure_register_key", "public_key_pem", "signer_for"]


class SigningKeyError(OpenVCRError):
    """A register's signing key is missing or cannot be opened with the configured master key."""

    code = "signing_key_error"


def _context(register_id: int) -> bytes:
    return f"register:{register_id}".encode("ascii")


def ensure_register_key(conn: Connection, register_id: int, master_key: str) -> str:
    """Give the register a signing key unless it has one; return its public key (PEM)."""
    row = conn.execute(
        select(registers.c.public_key_pem, registers.c.signing_key_enc).where(registers.c.id == register_id)
    ).first()
    if row is None:
        raise NotFound(f"no register with id {register_id}")
    if row.signing_key_enc is not None and row.public_key_pem is not None:
        return str(row.public_key_pem)
    signer = EcdsaP256Signer.generate()
    result = conn.execute(
        update(registers)
        .where(registers.c.id == register_id, registers.c.signing_key_enc.is_(None))
        .values(
            signing_key_enc=encrypt_private_key(signer, master_key, _context(register_id)),
            public_key_pem=signer.public_key_pem(),
        )
    )
    if result.rowcount == 1:
        return signer.public_key_pem()
    return public_key_pem(conn, register_id)  # another transaction generated it first


def public_key_pem(conn: Connection, register_id: int) -> str:
    """The register's public key (PEM); ``SigningKeyError`` when it has none."""
    pem = conn.execute(select(registers.c.public_key_pem).where(registers.c.id == register_id)).scalar()
    if pem is None:
        raise SigningKeyError(f"register {register_id} has no signing key (run `openvcr init`)")
    return str(pem)


_cache: weakref.WeakKeyDictionary[Engine, dict[tuple[int, bytes], EcdsaP256Signer]] = weakref.WeakKeyDictionary()
_cache_lock = threading.Lock()


def _load(conn: Connection, register_id: int, master_key: str) -> EcdsaP256Signer:
    row = conn.execute(
        select(registers.c.signing_key_enc, registers.c.public_key_pem).where(registers.c.id == register_id)
    ).first()
    if row is None:
        raise NotFound(f"no register with id {register_id}")
    if row.signing_key_enc is None:
        raise SigningKeyError(f"register {register_id} has no signing key (run `openvcr init`)")
    try:
        signer = decrypt_private_key(bytes(row.signing_key_enc), master_key, _context(register_id))
    except KeyDecryptionError as exc:
        raise SigningKeyError(
            f"the signing key of register {register_id} does not open with the configured master key"
        ) from exc
    if signer.public_key_pem() != row.public_key_pem:
        raise SigningKeyError(f"register {register_id}: the private key does not match the stored public key")
    return signer


def signer_for(db_or_conn: Database | Connection, register_id: int, master_key: str) -> Signer:
    """The register's signer, decrypted once per process and database (cached)."""
    engine = db_or_conn.engine
    slot = (register_id, hashlib.sha256(master_key.encode("utf-8")).digest())
    with _cache_lock:
        signers = _cache.setdefault(engine, {})
        cached = signers.get(slot)
    if cached is not None:
        return cached
    if isinstance(db_or_conn, Database):
        with db_or_conn.read() as conn:
            signer = _load(conn, register_id, master_key)
    else:
        signer = _load(db_or_conn, register_id, master_key)
    with _cache_lock:
        return _cache.setdefault(engine, {}).setdefault(slot, signer)


def clear_signer_cache() -> None:
    """Forget every cached signer (after a key change, and in tests)."""
    with _cache_lock:
        _cache.clear()
