"""The V-SDC's cryptography: its CA, device and server certificates, secrets at rest, internal data.

Rules:
- The CA key, device signing keys and device counter keys are stored encrypted under the master key:
  private keys with ``openvcr.core.signing.encrypt_private_key`` (HKDF-SHA256 → AES-256-GCM), the raw
  32-byte counter keys with the same construction under their own HKDF label; each blob is bound to its
  owner by associated data (``vsdc:ca``, ``vsdc:device:<mcr>``).
- Certificates are ECDSA P-256 / SHA-256. Device certificates are client certificates (``clientAuth``) with
  a random 128-bit serial that identifies the device; the server certificate is issued for the listener's
  names at start-up.
- ``internalData`` = Base64(nonce ‖ AES-256-GCM(counter key, packed counters, aad = ``mcr|ino``)): only a
  holder of the counter key (the V-SDC and the tax authority) can read it, and it cannot be moved to another
  invoice.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import os

from cryptography import x509
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from openvcr.core.signing import EcdsaP256Signer, decrypt_private_key, encrypt_private_key
from openvcr.vsdc.models import Counters

_SECRET_MAGIC = b"OVS1"
_SECRET_INFO = b"openvcr/vsdc-secret-at-rest/v1"
CA_CONTEXT = b"vsdc:ca"


class InternalDataError(ValueError):
    """Internal data that does not decrypt under the device's counter key (tampered or foreign)."""


def device_context(mcr: str) -> bytes:
    return b"vsdc:device:" + mcr.encode("utf-8")


def _derive(master_key: str, salt: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=_SECRET_INFO).derive(master_key.encode("utf-8"))


def seal_secret(secret: bytes, master_key: str, context: bytes) -> bytes:
    """A raw secret encrypted at rest: ``OVS1 | salt (16) | nonce (12) | ciphertext+tag``."""
    salt, nonce = os.urandom(16), os.urandom(12)
    return _SECRET_MAGIC + salt + nonce + AESGCM(_derive(master_key, salt)).encrypt(nonce, secret, context)


def open_secret(blob: bytes, master_key: str, context: bytes) -> bytes:
    if not blob.startswith(_SECRET_MAGIC) or len(blob) <= 32:
        raise ValueError("not an encrypted OpenVCR secret")
    salt, nonce = blob[4:20], blob[20:32]
    try:
        return AESGCM(_derive(master_key, salt)).decrypt(nonce, blob[32:], context)
    except InvalidTag as exc:
        raise ValueError("the secret does not decrypt: wrong master key or context") from exc


def seal_key(signer: EcdsaP256Signer, master_key: str, context: bytes) -> bytes:
    return encrypt_private_key(signer, master_key, context)


def open_key(blob: bytes, master_key: str, context: bytes) -> EcdsaP256Signer:
    return decrypt_private_key(blob, master_key, context)


def _private_key(signer: EcdsaP256Signer) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_der_private_key(signer.private_key_der(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key


# --- internal data ---------------------------------------------------------------------------------------


def new_counter_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def encrypt_counters(counters: Counters, counter_key: bytes, mcr: str, ino: str) -> str:
    nonce = os.urandom(12)
    sealed = AESGCM(counter_key).encrypt(nonce, counters.pack(), f"{mcr}|{ino}".encode())
    return base64.b64encode(nonce + sealed).decode("ascii")


def decrypt_counters(internal_data: str, counter_key: bytes, mcr: str, ino: str) -> Counters:
    """The counters inside ``internal_data``; ``InternalDataError`` when it does not open."""
    try:
        raw = base64.b64decode(internal_data, validate=True)
        plain = AESGCM(counter_key).decrypt(raw[:12], raw[12:], f"{mcr}|{ino}".encode())
        return Counters.unpack(plain)
    except (ValueError, InvalidTag) as exc:
        raise InternalDataError("internal data does not decrypt under the device's counter key") from exc


# --- certificates ----------------------------------------------------------------------------------------


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def create_ca(common_name: str = "OpenVCR V-SDC CA") -> tuple[str, EcdsaP256Signer]:
    """A self-signed CA certificate (PEM) and its key, valid 20 years."""
    signer = EcdsaP256Signer.generate()
    key = _private_key(signer)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "OpenVCR"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=365 * 20))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii"), signer


def _leaf(
    ca_cert_pem: str,
    ca_signer: EcdsaP256Signer,
    subject: x509.Name,
    usage: x509.ObjectIdentifier,
    days: int,
    sans: list[x509.GeneralName] | None = None,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    ca_cert = x509.load_pem_x509_certificate(ca_cert_pem.encode("ascii"))
    ca_key = _private_key(ca_signer)
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(ca_key, hashes.SHA256()), key


def issue_device_certificate(
    ca_cert_pem: str, ca_signer: EcdsaP256Signer, *, tin: str, mcr: str, days: int = 365 * 5
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A client certificate for device ``mcr`` of taxpayer ``tin``; its serial identifies the device."""
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, tin),
            x509.NameAttribute(NameOID.COMMON_NAME, mcr),
        ]
    )
    return _leaf(ca_cert_pem, ca_signer, subject, ExtendedKeyUsageOID.CLIENT_AUTH, days)


def issue_server_certificate(
    ca_cert_pem: str, ca_signer: EcdsaP256Signer, names: list[str], days: int = 365
) -> tuple[str, str]:
    """A server certificate (PEM) and its unencrypted key (PEM) for the given DNS names / IP addresses."""
    sans: list[x509.GeneralName] = []
    for name in dict.fromkeys(names):
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            sans.append(x509.DNSName(name))
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0] if names else "localhost")])
    cert, key = _leaf(ca_cert_pem, ca_signer, subject, ExtendedKeyUsageOID.SERVER_AUTH, days, sans)
    return (
        cert.public_bytes(serialization.Encoding.PEM).decode("ascii"),
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode("ascii"),
    )


def serial_hex(cert: x509.Certificate) -> str:
    return format(cert.serial_number, "x")


def cert_pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def key_pem(key: ec.EllipticCurvePrivateKey, passphrase: str | None) -> bytes:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase.encode("utf-8"))
        if passphrase
        else serialization.NoEncryption()
    )
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def pkcs12_bundle(
    cert: x509.Certificate,
    key: ec.EllipticCurvePrivateKey,
    ca_cert_pem: str,
    passphrase: str | None,
    name: str,
) -> bytes:
    ca_cert = x509.load_pem_x509_certificate(ca_cert_pem.encode("ascii"))
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase.encode("utf-8"))
        if passphrase
        else serialization.NoEncryption()
    )
    return pkcs12.serialize_key_and_certificates(name.encode("utf-8"), key, cert, [ca_cert], encryption)


def verify_issued_by(cert: x509.Certificate, ca_cert_pem: str, at: dt.datetime | None = None) -> bool:
    """True when ``cert`` is signed by the CA and valid at ``at`` (for certificates forwarded by a proxy)."""
    ca_cert = x509.load_pem_x509_certificate(ca_cert_pem.encode("ascii"))
    if cert.issuer != ca_cert.subject:
        return False
    try:
        cert.verify_directly_issued_by(ca_cert)
    except (ValueError, TypeError, InvalidSignature):
        return False
    moment = at or _now()
    return cert.not_valid_before_utc <= moment <= cert.not_valid_after_utc
