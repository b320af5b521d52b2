"""The fiscal document table: one row per document of every kind, the only place its state lives.

A document is keyed by ``(register_id, document_key)``. ``document_key`` is derived from the request's
``Idempotency-Key`` (scoped by endpoint) or is a fresh random key when the request carries none; a dropped
document and a key older than the retention period release it (the key is rewritten to a unique tombstone).

States (``openvcr.documents.models.DocumentState``): ``pending`` (drafted, SRC request not reserved yet) →
``sent`` (its SRC request is reserved with a seq and may be on the wire) → ``completed`` (SRC's receipt,
the journal entry, the outbox messages and the stored response, in one transaction); ``in_doubt`` (SRC's
answer was lost), ``deferred`` (late fiscalization: SRC unreachable, kept to be sent later), ``dropped``
(SRC certainly registered nothing; never fiscalized or refunded later).

The per-kind detail rows (``sales``, ``sale_refunds``, ``prepayments``, ``prepayment_refunds``) point at
their document with ``document_id``. The SRC attempts of a document are its ``src_requests`` rows (by
``document_key``).
"""

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from openvcr.store.schema.base import metadata

documents = Table(
    "documents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("register_id", Integer, ForeignKey("registers.id"), nullable=False),
    Column("kind", String(24), nullable=False),  # sale | sale_refund | prepayment | prepayment_refund
    Column("document_key", String(200), nullable=False),
    Column("request_hash", String(64), nullable=True),  # of endpoint + body, when keyed by Idempotency-Key
    Column("state", String(12), nullable=False),
    Column("url_id", String(32), nullable=False, unique=True),
    Column("cashier_id", Integer, nullable=False),
    Column("receipt_email", String(320), nullable=True),
    Column("receipt_language", String(2), nullable=True),
    Column("receipt_phone", String(16), nullable=True),  # E.164: a receipt SMS goes there on completion
    Column("src_request", JSON, nullable=True),  # what is (to be) sent to SRC, to finish after a crash
    Column("receipt", JSON, nullable=True),  # SRC's receipt once registered
    Column("response", Text, nullable=True),  # the exact response body, replayed for the same key
    Column("error", Text, nullable=True),  # why it was dropped, deferred or is in doubt
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("completed_at", BigInteger, nullable=True),
    UniqueConstraint("register_id", "document_key", name="uq_documents_register_key"),
)
Index("ix_documents_register_state", documents.c.register_id, documents.c.state)
Index("ix_documents_created", documents.c.created_at)
