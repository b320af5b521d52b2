"""Tables of the vsdc domain.

- ``vsdc_ca``: the V-SDC certificate authority (one row; its key encrypted under the master key).
- ``vsdc_taxpayers``: the V-SDC configuration of a business entity (rates of slots A/B/C/D, invoice total).
- ``vsdc_devices``: a V-SDC device (MCR) = one ``registers`` row of kind ``vsdc`` (whose journal key is also
  the device's invoice signing key): its client certificate, counter key, counters and chain head.
  Counters are moved only by ``UPDATE … RETURNING``.
- ``vsdc_invoices``: every signed invoice (unique per device and ``ino``) with its signed bytes and the
  response given, for idempotent replay and the verification page.

The outbox that delivers its devices and invoices to aTAX after commit has its tables in ``outbox``.
"""

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from openvcr.store.schema.base import metadata
from openvcr.store.types import Money, Scaled

TAX_RATE = Scaled(6)  # percent, up to 6 decimals

vsdc_ca = Table(
    "vsdc_ca",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("cert_pem", Text, nullable=False),
    Column("key_enc", LargeBinary, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

vsdc_taxpayers = Table(
    "vsdc_taxpayers",
    metadata,
    Column("entity_id", Integer, ForeignKey("business_entities.id"), primary_key=True),
    Column("rate_a", TAX_RATE, nullable=False),
    Column("rate_b", TAX_RATE, nullable=False),
    Column("rate_c", TAX_RATE, nullable=False),
    Column("rate_d", TAX_RATE, nullable=False),
    Column("total_invoices", BigInteger, nullable=False, server_default="0"),
    Column("created_at", BigInteger, nullable=False),
)

vsdc_devices = Table(
    "vsdc_devices",
    metadata,
    Column("register_id", Integer, ForeignKey("registers.id"), primary_key=True),
    Column("entity_id", Integer, ForeignKey("business_entities.id"), nullable=False),
    Column("mcr", String(32), nullable=False, unique=True),
    Column("cert_serial", String(64), nullable=False, unique=True),  # lower-case hex
    Column("cert_pem", Text, nullable=False),
    # The signing key is the register's journal key (registers.signing_key_enc / public_key_pem).
    Column("counter_key_enc", LargeBinary, nullable=False),
    Column("revoked_at", BigInteger, nullable=True),
    # Counters after the last signed invoice.
    Column("invoice_count", BigInteger, nullable=False, server_default="0"),
    Column("count_ns", BigInteger, nullable=False, server_default="0"),
    Column("count_nr", BigInteger, nullable=False, server_default="0"),
    Column("count_ps", BigInteger, nullable=False, server_default="0"),
    Column("count_pr", BigInteger, nullable=False, server_default="0"),
    Column("count_ts", BigInteger, nullable=False, server_default="0"),
    Column("count_tr", BigInteger, nullable=False, server_default="0"),
    Column("sales_total", Money(), nullable=False, server_default="0"),
    Column("refund_total", Money(), nullable=False, server_default="0"),
    Column("sales_tax_total", Money(), nullable=False, server_default="0"),
    Column("refund_tax_total", Money(), nullable=False, server_default="0"),
    # SHA-256 (hex) of the last invoice's signature: the chain head ('' before the first invoice).
    Column("chain_head", String(64), nullable=False, server_default=""),
    Column("created_at", BigInteger, nullable=False),
)

vsdc_invoices = Table(
    "vsdc_invoices",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("register_id", Integer, ForeignKey("registers.id"), nullable=False),
    Column("entity_id", Integer, ForeignKey("business_entities.id"), nullable=False),
    Column("ino", String(32), nullable=False),
    Column("invoice_count", BigInteger, nullable=False),
    Column("request_digest", String(64), nullable=False),  # SHA-256 hex of the normalized request
    Column("signed_bytes", LargeBinary, nullable=False),
    Column("signature", Text, nullable=False),  # Base64
    Column("internal_data", Text, nullable=False),  # Base64
    Column("response", Text, nullable=False),  # the JSON response given (for replay)
    Column("created_at", BigInteger, nullable=False),
    UniqueConstraint("register_id", "ino", name="uq_vsdc_invoices_register_ino"),
)
