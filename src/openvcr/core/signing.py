"""Signing keys and signatures: ECDSA P-256 with SHA-256 behind a ``Signer`` protocol.

Rules:
- A signature is ECDSA over P-256 of SHA-256(data), encoded as ASN.1 DER (``SEQUENCE { r, s }``, 70–72 bytes),
  the form OpenSSL (``openssl dgst -sha256 -verify``) and most libraries read. Base64 wherever text is needed.
- A key is identified by ``key_id``: the lower-case hex SHA-256 of its DER SubjectPublicKeyInfo.
- Public keys travel as PEM (SubjectPublicKeyInfo).
- A private key at rest is its PKCS#8 DER, encrypted with AES-256-GCM under a key derived by HKDF-SHA256 from
  the master secret with a fresh random salt; the caller's ``context`` (e.g. ``b"register:7"``) is bound as
  associated data, so a blob moved to another register does not decrypt. Blob layout::

      b"OVK1" | salt (16) | nonce (12) | ciphertext+tag

- Verification never raises on a bad signature: ``verify_*`` returns ``False``.
- Pure: every secret is an argument; nothing here reads the environment.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from functools import lru_cache
from typing import Protocol, runtime_checkable

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

ALGORITHM = "ecdsa-p256-sha256"
_ECDSA = ec.ECDSA(hashes.SHA256())
_ECDSA_PREHASHED = ec.ECDSA(Prehashed(hashes.SHA256()))
_BLOB_MAGIC = b"OVK1"
_SALT_LEN = 16
_NONCE_LEN = 12
_HKDF_INFO = b"openvcr/signing-key-at-rest/v1"


class KeyDecryptionError(ValueError):
    """An encrypted private key that does not decrypt: wrong master key, wrong context, or damaged."""


@runtime_checkable
class Signer(Protocol):
    """Something that signs bytes with one private key (in memory, HSM, KMS …)."""

    @property
    def key_id(self) -> str:
        """The hex SHA-256 of the public key's DER SubjectPublicKeyInfo."""
        ...

    def public_key_pem(self) -> str:
        """The public key as PEM (SubjectPublicKeyInfo)."""
        ...

    def sign(self, data: bytes) -> bytes:
        """The signature of ``data`` (for ECDSA P-256: DER of SHA-256(data))."""
        ...


def key_id_of(public_key: ec.EllipticCurvePublicKey) -> str:
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


class EcdsaP256Signer:
    """A ``Signer`` holding an ECDSA P-256 private key in memory."""

    __slots__ = ("_key", "_key_id", "_public_pem")

    def __init__(self, private_key: ec.EllipticCurvePrivateKey) -> None:
        if not isinstance(private_key.curve, ec.SECP256R1):
            raise ValueError(f"an ECDSA P-256 key is required, not {private_key.curve.name}")
        self._key = private_key
        public = private_key.public_key()
        self._key_id = key_id_of(public)
        self._public_pem = public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode("ascii")

    @classmethod
    def generate(cls) -> EcdsaP256Signer:
        return cls(ec.generate_private_key(ec.SECP256R1()))

    @classmethod
    def from_pem(cls, pem: bytes | str, password: bytes | None = None) -> EcdsaP256Signer:
        """Load a PEM private key (PKCS#8 or SEC1)."""
        data = pem.encode("ascii") if isinstance(pem, str) else pem
        key = serialization.load_pem_private_key(data, password=password)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError("not an elliptic-curve private key")
        return cls(key)

    @property
    def key_id(self) -> str:
        return self._key_id

    def public_key_pem(self) -> str:
        return self._public_pem

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data, _ECDSA)

    def sign_digest(self, digest: bytes) -> bytes:
        """Sign an already computed SHA-256 digest (same signature as ``sign`` of the data)."""
        return self._key.sign(digest, _ECDSA_PREHASHED)

    def private_key_pem(self) -> str:
        """The private key as unencrypted PKCS#8 PEM (for tests and key export only)."""
        return self._key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode("ascii")

    def private_key_der(self) -> bytes:
        return self._key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def __repr__(self) -> str:
        return f"EcdsaP256Signer(key_id={self._key_id[:16]}…)"


class PublicKey:
    """A loaded P-256 public key, ready to verify many signatures (load once, verify often)."""

    __slots__ = ("_key", "key_id", "pem")

    def __init__(self, pem: str) -> None:
        key = serialization.load_pem_public_key(pem.encode("ascii"))
        if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
            raise ValueError("an ECDSA P-256 public key (PEM SubjectPublicKeyInfo) is required")
        self._key = key
        self.pem = pem
        self.key_id = key_id_of(key)

    def verify(self, data: bytes, signature: bytes) -> bool:
        try:
            self._key.verify(signature, data, _ECDSA)
        except InvalidSignature:
            return False
        return True

    def verify_digest(self, digest: bytes, signature: bytes) -> bool:
        """Verify a signature against the SHA-256 digest of the signed data."""
        try:
            self._key.verify(signature, digest, _ECDSA_PREHASHED)
        except InvalidSignature:
            return False
        return True


@lru_cache(maxsize=256)
def load_public_key(pem: str) -> PublicKey:
    """A cached ``PublicKey`` for a PEM text (raises ``ValueError`` when it is not a P-256 public key)."""
    return PublicKey(pem)


def first_invalid_signature(public_key_pem: str, checks: Sequence[tuple[int, bytes, bytes]]) -> int | None:
    """The number of the first ``(number, digest, signature)`` of ``checks`` whose signature does not verify
    against the SHA-256 ``digest`` with that key (``PublicKey.verify_digest``); None when every one does.

    Plain arguments and a module-level function, so a worker process can run it: it needs nothing but this
    module, which imports nothing but ``cryptography``."""
    verify = load_public_key(public_key_pem).verify_digest
    for number, digest, signature in checks:
        if not verify(digest, signature):
            return number
    return None


def verify_signature(public_key_pem: str, data: bytes, signature: bytes) -> bool:
    """True when ``signature`` is a valid ECDSA P-256/SHA-256 DER signature of ``data`` by that key."""
    try:
        key = load_public_key(public_key_pem)
    except ValueError:
        return False
    return key.verify(data, signature)


def _derive(master_key: str | bytes, salt: bytes) -> bytes:
    secret = master_key.encode("utf-8") if isinstance(master_key, str) else master_key
    if not secret:
        raise ValueError("the master key must not be empty")
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=_HKDF_INFO).derive(secret)


def encrypt_private_key(signer: EcdsaP256Signer, master_key: str | bytes, context: bytes = b"") -> bytes:
    """The signer's PKCS#8 private key encrypted at rest (layout in the module docstring)."""
    salt = os.urandom(_SALT_LEN)
    nonce = os.urandom(_NONCE_LEN)
    sealed = AESGCM(_derive(master_key, salt)).encrypt(nonce, signer.private_key_der(), context)
    return _BLOB_MAGIC + salt + nonce + sealed


def decrypt_private_key(blob: bytes, master_key: str | bytes, context: bytes = b"") -> EcdsaP256Signer:
    """The signer from an ``encrypt_private_key`` blob; ``KeyDecryptionError`` when it does not open."""
    head = len(_BLOB_MAGIC) + _SALT_LEN + _NONCE_LEN
    if len(blob) <= head or not blob.startswith(_BLOB_MAGIC):
        raise KeyDecryptionError("not an encrypted OpenVCR signing key")
    salt = blob[len(_BLOB_MAGIC) : len(_BLOB_MAGIC) + _SALT_LEN]
    nonce = blob[len(_BLOB_MAGIC) + _SALT_LEN : head]
    try:
        der = AESGCM(_derive(master_key, salt)).decrypt(nonce, blob[head:], context)
    except InvalidTag as exc:
        raise KeyDecryptionError("the signing key does not decrypt: wrong master key or context") from exc
    key = serialization.load_der_private_key(der, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise KeyDecryptionError("the decrypted key is not an elliptic-curve key")
    return EcdsaP256Signer(key)
