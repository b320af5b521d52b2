"""Tables of the journal domain: one head row per register, one row per entry.

``journal_heads`` holds the last allocated number, the last entry's hash and the counters after it; the
atomic ``UPDATE … SET number = number + 1 … RETURNING`` on it allocates the next number and locks the row for
the rest of the transaction. ``journal_entries`` keeps the content bytes exactly as they were signed.
"""

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from openvcr.store.schema.base import metadata

journal_heads = Table(
    "journal_heads",
    metadata,
    Column("register_id", Integer, ForeignKey("registers.id"), primary_key=True, autoincrement=False),
    Column("number", BigInteger, nullable=False),  # the last allocated entry number (0: empty journal)
    Column("last_hash", String(64), nullable=False),
    Column("counters", Text, nullable=False),  # canonical JSON of the counters after the last entry
    Column("updated_at", BigInteger, nullable=False),
)

journal_entries = Table(
    "journal_entries",
    metadata,
    Column("register_id", Integer, ForeignKey("registers.id"), nullable=False),
    Column("number", BigInteger, nullable=False),
    Column("doc_type", String(32), nullable=False),
    Column("doc_ref", String(100), nullable=False),
    Column("time_ms", BigInteger, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("key_id", String(64), nullable=False),
    Column("counters", Text, nullable=False),  # canonical JSON (also inside content; kept for queries)
    Column("content", LargeBinary, nullable=False),  # the canonical bytes that were signed
    Column("signature", LargeBinary, nullable=False),  # ECDSA P-256 / SHA-256, DER
    PrimaryKeyConstraint("register_id", "number", name="pk_journal_entries"),
    UniqueConstraint("register_id", "doc_type", "doc_ref", name="uq_journal_entries_register_document"),
)
Index("ix_journal_entries_document", journal_entries.c.doc_type, journal_entries.c.doc_ref)
