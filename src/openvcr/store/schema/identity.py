"""Registers' own SRC client identities (mutual TLS): the key pair, the CSR and the certificate SRC signed.

One row per register that has an identity of its own; a register without one uses the process's global
identity (``OPENVCR_SRC_CERT`` / ``_KEY`` / ``_P12``). The private key is PKCS#8 DER sealed with AES-256-GCM
under a key derived from the master key, bound to the register (``openvcr.authority.identity``).
"""

from sqlalchemy import BigInteger, Column, ForeignKey, Integer, LargeBinary, String, Table, Text

from openvcr.store.schema.base import metadata

register_identities = Table(
    "register_identities",
    metadata,
    Column("register_id", Integer, ForeignKey("registers.id"), primary_key=True),
    Column("key_enc", LargeBinary, nullable=False),
    Column("csr_pem", Text, nullable=True),  # the request written by ``registers add`` (None: imported as PKCS#12)
    Column("cert_pem", Text, nullable=True),  # the signed certificate, then any intermediates (None: not yet)
    Column("cert_sha256", String(64), nullable=True, unique=True),
    Column("cert_serial", String(64), nullable=True),
    Column("cert_subject", String(400), nullable=True),
    Column("cert_issuer", String(400), nullable=True),
    Column("not_before", BigInteger, nullable=True),
    Column("not_after", BigInteger, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("imported_at", BigInteger, nullable=True),
)
