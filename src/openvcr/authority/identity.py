"""A register's own SRC client identity: key pair, certificate signing request, signed certificate.

Rules:
- SRC binds each e-HDM client certificate to one CRN (403 "Invalid Certificate serial number" otherwise), so
  each register that talks to SRC under its own identity has its own key pair and certificate.
- The key pair is RSA-2048 (what SRC's CA issues for), generated here; the CSR names the taxpayer
  (``O``), the TIN (``CN``) and the CRN (``serialNumber``). SRC decides what it signs; nothing here relies on
  the subject of the certificate it returns.
- The private key at rest is PKCS#8 DER sealed with AES-256-GCM under a key derived (HKDF-SHA256, fresh salt)
  from the master key, with ``b"src-identity:<register id>"`` as associated data: a blob copied to another
  register does not open. Layout: ``b"OVI1" | salt (16) | nonce (12) | ciphertext+tag``.
- A certificate is accepted (``check_certificate``) only when its public key is the register's key, it has
  not expired, it is already valid, and — when the issuing CA is given — that CA signed it.
- Times are integer milliseconds since the Unix epoch (UTC), like every stored time.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from openvcr.core.errors import ValidationFailed

_MAGIC = b"OVI1"
_SALT = 16
_NONCE = 12
_INFO = b"openvcr/src-identity-at-rest/v1"
RSA_BITS = 2048
MS_PER_DAY = 86_400_000
NOT_BEFORE_SKEW_MS = 5 * 60 * 1000  # a certificate valid from a few minutes ahead is a clock difference


class IdentityError(ValidationFailed):
    """A certificate, key or bundle that cannot serve as the register's SRC identity."""

    code = "identity_invalid"

    def __init__(self, message: str, field: str = "certificate") -> None:
        super().__init__(message)
        self.issues = (ValidationFailed.at([field], message).issues[0],)


@dataclass(frozen=True)
class NewIdentity:
    """A freshly generated key pair (sealed) and its CSR."""

    key_enc: bytes
    csr_pem: str


@dataclass(frozen=True)
class CheckedCertificate:
    """A certificate accepted for a register: the PEM to store (leaf first) and what is shown of it."""

    cert_pem: str
    sha256: str
    serial: str
    subject: str
    issuer: str
    not_before: int
    not_after: int
    key_enc: bytes | None = None  # a new sealed key (a PKCS#12 import brings its own)


def _context(register_id: int) -> bytes:
    return f"src-identity:{register_id}".encode("ascii")


def _derive(master_key: str, salt: bytes) -> bytes:
    secret = master_key.encode("utf-8")
    if not secret:
        raise ValueError("the master key must not be empty")
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=_INFO).derive(secret)


def seal_key(key: PrivateKeyTypes, master_key: str, register_id: int) -> bytes:
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    salt, nonce = os.urandom(_SALT), os.urandom(_NONCE)
    return _MAGIC + salt + nonce + AESGCM(_derive(master_key, salt)).encrypt(nonce, der, _context(register_id))


def open_key(blob: bytes, master_key: str, register_id: int) -> PrivateKeyTypes:
    """The private key of a sealed blob; ``ValueError`` with a clear text when it does not open."""
    head = len(_MAGIC) + _SALT + _NONCE
    if len(blob) <= head or not blob.startswith(_MAGIC):
        raise ValueError(f"register {register_id}: the stored SRC key is not an OpenVCR sealed key")
    salt, nonce = blob[len(_MAGIC) : len(_MAGIC) + _SALT], blob[len(_MAGIC) + _SALT : head]
    try:
        der = AESGCM(_derive(master_key, salt)).decrypt(nonce, blob[head:], _context(register_id))
    except InvalidTag as exc:
        raise ValueError(f"register {register_id}: the SRC key does not open with the configured master key") from exc
    return serialization.load_der_private_key(der, password=None)


def _spki(key: PrivateKeyTypes | x509.Certificate) -> bytes:
    public = key.public_key()
    return public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def new_identity(register_id: int, master_key: str, *, tin: str, crn: str, taxpayer: str) -> NewIdentity:
    """Generate the register's key pair and the CSR to hand to SRC."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "AM"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, taxpayer[:64] or tin),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, crn),
            x509.NameAttribute(NameOID.COMMON_NAME, tin),
        ]
    )
    csr = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
    return NewIdentity(seal_key(key, master_key, register_id), csr.public_bytes(serialization.Encoding.PEM).decode())


def _ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


def _load_certificates(data: bytes, field: str) -> list[x509.Certificate]:
    try:
        if b"-----BEGIN" in data:
            found = x509.load_pem_x509_certificates(data)
        else:
            found = [x509.load_der_x509_certificate(data)]
    except ValueError as exc:
        raise IdentityError(f"not a certificate (PEM or DER): {exc}", field) from exc
    if not found:
        raise IdentityError("the file holds no certificate", field)
    return found


def _accept(
    chain: list[x509.Certificate], key_spki: bytes, ca: bytes | None, now_ms: int, field: str
) -> CheckedCertificate:
    leaf = chain[0]
    if _spki(leaf) != key_spki:
        raise IdentityError(
            "the certificate does not match the register's key: it was issued for another request (CSR)", field
        )
    not_before, not_after = _ms(leaf.not_valid_before_utc), _ms(leaf.not_valid_after_utc)
    if not_after <= now_ms:
        raise IdentityError(f"the certificate expired on {iso_date(not_after)}", field)
    if not_before > now_ms + NOT_BEFORE_SKEW_MS:
        raise IdentityError(f"the certificate is not valid before {iso_date(not_before)}", field)
    if ca is not None:
        issuers = _load_certificates(ca, "ca")
        if not any(_issued_by(leaf, issuer) for issuer in [*issuers, *chain[1:]]):
            raise IdentityError("the certificate was not signed by the given CA", "ca")
    pem = "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in chain)
    return CheckedCertificate(
        cert_pem=pem,
        sha256=leaf.fingerprint(hashes.SHA256()).hex(),
        serial=format(leaf.serial_number, "x"),
        subject=leaf.subject.rfc4514_string()[:400],
        issuer=leaf.issuer.rfc4514_string()[:400],
        not_before=not_before,
        not_after=not_after,
    )


def _issued_by(leaf: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        leaf.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def check_certificate(
    cert: bytes, *, key_enc: bytes, master_key: str, register_id: int, ca: bytes | None, now_ms: int
) -> CheckedCertificate:
    """Accept a signed certificate (PEM, optionally followed by its chain, or DER) for the register's key."""
    chain = _load_certificates(cert, "certificate")
    key = open_key(key_enc, master_key, register_id)
    return _accept(chain, _spki(key), ca, now_ms, "certificate")


def check_pkcs12(
    bundle: bytes, passphrase: str | None, *, master_key: str, register_id: int, ca: bytes | None, now_ms: int
) -> CheckedCertificate:
    """Accept a PKCS#12 bundle (key + certificate + chain): its key becomes the register's key."""
    try:
        key, leaf, extra = pkcs12.load_key_and_certificates(bundle, passphrase.encode() if passphrase else None)
    except ValueError as exc:
        raise IdentityError(f"the PKCS#12 bundle does not open: {exc}", "p12") from exc
    if key is None or leaf is None:
        raise IdentityError("the PKCS#12 bundle has no private key or no certificate", "p12")
    checked = _accept([leaf, *(extra or ())], _spki(key), ca, now_ms, "p12")
    return CheckedCertificate(**{**checked.__dict__, "key_enc": seal_key(key, master_key, register_id)})


def iso_date(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def days_left(not_after: int, now_ms: int) -> int:
    """Whole days until ``not_after`` (negative once expired; 0 on its last day)."""
    return (not_after - now_ms) // MS_PER_DAY
