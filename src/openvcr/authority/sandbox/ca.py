"""The sandbox's own certificate authority (like SRC's, it signs the e-HDM client certificates).

Rules:
- ``init_ca(dir)`` creates ``ca.pem``/``ca.key`` and a server certificate ``server.pem``/``server.key`` for
  ``localhost``, ``127.0.0.1`` and any extra names; an existing CA is kept.
- ``issue_client_certificate`` signs a client certificate (CN = TIN, file names ``{TIN}_{CRN}``, as SRC's)
  and binds its serial number to the CRN and TIN in the sandbox state: the simulator answers
  403 UNAUTHORIZED_CONNECTION when a certificate is used for another CRN or TIN. Without a CRN the
  certificate is valid for every CRN (a development convenience SRC does not offer).
- ``sign_request`` signs a register's certificate signing request (what SRC does with the CSR an operator
  submits) and binds the certificate to the CRN and TIN SRC has on record for it — never to what the CSR says.
- Keys are EC P-256; a client key can be encrypted with a passphrase, or written as PKCS#12.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from openvcr.authority.sandbox.state import SandboxState

CA_DIR = "ca"


@dataclass(frozen=True)
class CaFiles:
    ca_cert: Path
    ca_key: Path
    server_cert: Path
    server_key: Path


@dataclass(frozen=True)
class ClientFiles:
    cert: Path
    key: Path
    p12: Path | None
    serial: str


def ca_files(directory: Path) -> CaFiles:
    base = Path(directory) / CA_DIR
    return CaFiles(base / "ca.pem", base / "ca.key", base / "server.pem", base / "server.key")


def _name(**parts: str) -> x509.Name:
    oids = {"cn": NameOID.COMMON_NAME, "o": NameOID.ORGANIZATION_NAME, "c": NameOID.COUNTRY_NAME}
    return x509.Name([x509.NameAttribute(oids[k], v) for k, v in parts.items()])


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey, passphrase: str | None = None) -> None:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase.encode()) if passphrase else serialization.NoEncryption()
    )
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption))
    path.chmod(0o600)


def _load(files: CaFiles) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    cert = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    key = serialization.load_pem_private_key(files.ca_key.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError("the sandbox CA key is not an EC key")
    return cert, key


def init_ca(directory: Path, server_names: tuple[str, ...] = ()) -> CaFiles:
    """Create the CA (once) and a fresh server certificate."""
    files = ca_files(directory)
    files.ca_cert.parent.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    if not files.ca_cert.exists():
        key = ec.generate_private_key(ec.SECP256R1())
        name = _name(c="AM", o="OpenVCR SRC sandbox", cn="OpenVCR SRC sandbox CA")
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True)
            .sign(key, hashes.SHA256())
        )
        _write_key(files.ca_key, key)
        files.ca_cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    ca_cert, ca_key = _load(files)
    names: list[x509.GeneralName] = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    for extra in server_names:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(extra)))
        except ValueError:
            names.append(x509.DNSName(extra))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(c="AM", o="OpenVCR SRC sandbox", cn="localhost"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=825))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    _write_key(files.server_key, key)
    files.server_cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return files


def issue_client_certificate(
    directory: Path,
    state: SandboxState,
    *,
    crn: str | None,
    tin: str | None,
    out_dir: Path,
    passphrase: str | None = None,
    p12: bool = False,
) -> ClientFiles:
    """Sign a client certificate with the sandbox CA and bind it to ``crn``/``tin``."""
    files = ca_files(directory)
    if not files.ca_cert.exists():
        init_ca(directory)
    ca_cert, ca_key = _load(files)
    now = dt.datetime.now(dt.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = _name(c="AM", o=tin or "any", cn=f"{tin or 'any'} {crn or 'any'}")
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=825))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{tin or 'any'}_{crn or 'any'}"
    cert_path, key_path = out_dir / f"{stem}.crt", out_dir / f"{stem}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _write_key(key_path, key, passphrase)
    p12_path = None
    if p12:
        p12_path = out_dir / f"{stem}.p12"
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(passphrase.encode()) if passphrase else serialization.NoEncryption()
        )
        p12_path.write_bytes(pkcs12.serialize_key_and_certificates(stem.encode(), key, cert, [ca_cert], encryption))
    serial = format(cert.serial_number, "x")
    state.bind_certificate(serial, crn, tin, subject.rfc4514_string())
    return ClientFiles(cert_path, key_path, p12_path, serial)


def sign_request(
    directory: Path,
    state: SandboxState,
    csr_pem: bytes,
    *,
    crn: str,
    tin: str,
    days: int = 825,
    not_before: dt.datetime | None = None,
) -> tuple[bytes, str]:
    """Sign a CSR with the sandbox CA for ``crn``/``tin``; returns (certificate PEM, serial hex).
    ``not_before`` (default: a day ago) and ``days`` set its validity."""
    files = ca_files(directory)
    if not files.ca_cert.exists():
        init_ca(directory)
    ca_cert, ca_key = _load(files)
    csr = x509.load_pem_x509_csr(csr_pem)
    if not csr.is_signature_valid:
        raise ValueError("the certificate request's signature does not verify")
    start = not_before or dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    subject = _name(c="AM", o=tin, cn=f"{tin} {crn}")
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject)
        .public_key(csr.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=days))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    serial = format(cert.serial_number, "x")
    state.bind_certificate(serial, crn, tin, subject.rfc4514_string())
    return cert.public_bytes(serialization.Encoding.PEM), serial
