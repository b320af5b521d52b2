"""Tables of the reports domain: one row per X or Z shift report (the detail of its ``documents`` row).

A report's statement — its shift, its totals — is its signed journal entry; the row repeats them so that
reports are listed and read without parsing the journal: ``totals`` is the plain JSON the entry's body holds
(amounts as decimal strings), ``journal_number`` the report's own entry, ``first_number`` / ``last_number``
the shift's first and last document entries (NULL on an empty shift).
"""

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Index, Integer, String, Table

from openvcr.store.schema.base import metadata

shift_reports = Table(
    "shift_reports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("document_id", Integer, ForeignKey("documents.id"), nullable=False, unique=True),
    Column("register_id", Integer, ForeignKey("registers.id"), nullable=False),
    Column("type", String(1), nullable=False),  # x | z
    Column("shift", Integer, nullable=False),
    Column("journal_number", BigInteger, nullable=False),
    Column("first_number", BigInteger, nullable=True),
    Column("last_number", BigInteger, nullable=True),
    Column("opened_at", BigInteger, nullable=True),
    Column("totals", JSON, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)
Index("ix_shift_reports_register_created", shift_reports.c.register_id, shift_reports.c.created_at)
