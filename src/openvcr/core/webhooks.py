"""Webhook signatures and webhook secrets at rest.

Rules:
- A delivery carries ``OpenVCR-Signature: t=<unix seconds>,v1=<hex>``, where ``<hex>`` is the lower-case hex
  HMAC-SHA256, keyed by the endpoint's secret (its UTF-8 bytes), of ``b"<t>." + body`` — the exact body bytes
  sent. Every attempt signs again with its own ``t``; the body (and the event id in it) never changes.
- A secret is ``whsec_`` + 43 URL-safe characters (32 random bytes), shown once when the endpoint is created.
- At rest a secret is AES-256-GCM under a key derived by HKDF-SHA256 from the master key with a fresh random
  salt, the caller's ``context`` (``b"webhook-endpoint:<id>"``) bound as associated data. Blob layout::

      b"OVW1" | salt (16) | nonce (12) | ciphertext+tag

- Pure: every secret is an argument; nothing here reads the environment.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SIGNATURE_HEADER = "OpenVCR-Signature"
EVENT_ID_HEADER = "OpenVCR-Event-Id"
EVENT_TYPE_HEADER = "OpenVCR-Event-Type"
SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret

_BLOB_MAGIC = b"OVW1"
_SALT_LEN = 16
_NONCE_LEN = 12
_HKDF_INFO = b"openvcr/webhook-secret-at-rest/v1"


class SecretDecryptionError(Exception):
    """A stored webhook secret does not open: wrong master key, wrong context, or damaged."""


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``b"<timestamp>." + body`` under ``secret``."""
    return hmac.new(secret.encode("utf-8"), str(timestamp).encode("ascii") + b"." + body, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    """The ``OpenVCR-Signature`` header's value: ``t=<timestamp>,v1=<hex>``."""
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def _derive(master_key: str, salt: bytes) -> bytes:
    secret = master_key.encode("utf-8")
    if not secret:
        raise ValueError("the master key must not be empty")
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=_HKDF_INFO).derive(secret)


def seal_secret(secret: str, master_key: str, context: bytes) -> bytes:
    """``secret`` encrypted at rest (layout in the module docstring)."""
    salt = os.urandom(_SALT_LEN)
    nonce = os.urandom(_NONCE_LEN)
    return _BLOB_MAGIC + salt + nonce + AESGCM(_derive(master_key, salt)).encrypt(nonce, secret.encode(), context)


def open_secret(blob: bytes, master_key: str, context: bytes) -> str:
    """The secret of a ``seal_secret`` blob; ``SecretDecryptionError`` when it does not open."""
    head = len(_BLOB_MAGIC) + _SALT_LEN + _NONCE_LEN
    if len(blob) <= head or not blob.startswith(_BLOB_MAGIC):
        raise SecretDecryptionError("not an encrypted OpenVCR webhook secret")
    salt = blob[len(_BLOB_MAGIC) : len(_BLOB_MAGIC) + _SALT_LEN]
    nonce = blob[len(_BLOB_MAGIC) + _SALT_LEN : head]
    try:
        return AESGCM(_derive(master_key, salt)).decrypt(nonce, blob[head:], context).decode("utf-8")
    except InvalidTag as exc:
        raise SecretDecryptionError("the webhook secret does not decrypt: wrong master key or context") from exc
