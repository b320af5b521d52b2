"""Business entities, registers, API keys, cashiers, departments, offers.

Times are integer milliseconds since the Unix epoch (UTC). Localized texts are JSON objects keyed by
language (``{"hy": "...", "ru": "...", "en": "..."}``; ``{"multi": "..."}`` for one text in every language).
"""

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

from openvcr.store.schema.base import metadata
from openvcr.store.types import Money, Quantity

business_entities = Table(
    "business_entities",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tin", String(16), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("address", String(300), nullable=True),
    Column("created_at", BigInteger, nullable=False),
)

registers = Table(
    "registers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("entity_id", Integer, ForeignKey("business_entities.id"), nullable=False),
    # 'ehdm': a VCR registering with SRC e-HDM; 'vsdc': a V-SDC device (sn = MCR).
    Column("kind", String(8), nullable=False, server_default="ehdm"),
    Column("crn", String(32), nullable=True, unique=True),
    Column("sn", String(32), nullable=True),
    Column("mode", String(16), nullable=False),  # sandbox | production
    Column("trading_platform_name", String(200), nullable=False),
    # pending | current | operating | blocked (the tax authority's view of the register)
    Column("authority_status", String(16), nullable=False),
    Column("address", String(300), nullable=True),
    Column("taxpayer_name", String(200), nullable=True),
    # Last seq sent to SRC (None: none sent yet).
    Column("src_seq", BigInteger, nullable=True),
    # Late fiscalization: documents SRC could not take are kept (``deferred``) and sent later, in order.
    Column("late_fiscalization", Boolean, nullable=False, server_default=false()),
    # Receipt SMS: a document whose buyer gave a phone is texted to it (``openvcr.receipts.sms_delivery``).
    Column("sms_receipts", Boolean, nullable=False, server_default=false()),
    # Sane limits of its documents (``openvcr.core.limits``); NULL: the default.
    Column("max_quantity", Quantity(), nullable=True),
    Column("max_unit_price", Money(), nullable=True),
    Column("max_sale_total", Money(), nullable=True),
    Column("max_change", Money(), nullable=True),
    Column("max_prepayment", Money(), nullable=True),
    # The register's journal signing key: PKCS#8 encrypted under the master key, and its public key (PEM).
    Column("signing_key_enc", LargeBinary, nullable=True),
    Column("public_key_pem", Text, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    # Set by ``openvcr registers disable``: its keys are revoked and nothing more is sent to SRC for it.
    Column("disabled_at", BigInteger, nullable=True),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("register_id", Integer, ForeignKey("registers.id"), nullable=False),
    Column("prefix", String(16), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("name", String(100), nullable=True),
    Column("scopes", Text, nullable=False),  # space-separated
    Column("created_at", BigInteger, nullable=False),
    Column("last_used_at", BigInteger, nullable=True),
    Column("expires_at", BigInteger, nullable=True),
    Column("revoked_at", BigInteger, nullable=True),
    Column("replaced_by", Integer, nullable=True),
)

cashiers = Table(
    "cashiers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("register_id", Integer, ForeignKey("registers.id"), nullable=False),
    Column("desk_id", String(32), nullable=False, unique=True),
    Column("number", Integer, nullable=False),  # the cashierId sent to SRC
    Column("pin_hash", String(200), nullable=False),
    Column("name", JSON, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    UniqueConstraint("register_id", "number", name="uq_cashiers_register_number"),
)

departments = Table(
    "departments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("register_id", Integer, ForeignKey("registers.id"), nullable=False),
    Column("dep", Integer, nullable=False),  # the SRC department number
    Column("external_id", String(100), nullable=True),
    Column("tax_regime", String(20), nullable=False),
    Column("title", JSON, nullable=False),
    Column("confirmed_at", BigInteger, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    UniqueConstraint("register_id", "dep", name="uq_departments_register_dep"),
    UniqueConstraint("register_id", "external_id", name="uq_departments_register_external_id"),
)

offers = Table(
    "offers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("register_id", Integer, ForeignKey("registers.id"), nullable=False),
    Column("external_id", String(100), nullable=True),
    Column("type", String(10), nullable=False),
    Column("classifier_code", String(32), nullable=False),
    Column("default_measure_unit", String(10), nullable=False),
    Column("default_department_id", Integer, ForeignKey("departments.id"), nullable=False),
    Column("title", JSON, nullable=False),
    Column("archived_at", BigInteger, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    UniqueConstraint("register_id", "external_id", name="uq_offers_register_external_id"),
)
Index("ix_offers_register_type", offers.c.register_id, offers.c.type)
