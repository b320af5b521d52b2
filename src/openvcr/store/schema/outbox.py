"""Tables of the transactional outbox (``openvcr.outbox``): generic, used by every domain that delivers after
commit.

- ``outbox_messages``: one row per message to deliver (unique idempotency key ``key``), with its status, the
  number of attempts, when it is next due and its lease (``locked_until``).
- ``outbox_attempts``: one row per delivery attempt, written before the delivery starts and completed after it.
"""

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint

from openvcr.store.schema.base import metadata

outbox_messages = Table(
    "outbox_messages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(64), nullable=False),
    Column("key", String(200), nullable=False, unique=True),  # the idempotency key sent to the receiver
    Column("payload", Text, nullable=False),  # JSON
    Column("status", String(16), nullable=False),  # pending | delivered | failed
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", BigInteger, nullable=False),
    Column("locked_until", BigInteger, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("delivered_at", BigInteger, nullable=True),
)
Index("ix_outbox_messages_status_next", outbox_messages.c.status, outbox_messages.c.next_attempt_at)

outbox_attempts = Table(
    "outbox_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("message_id", Integer, ForeignKey("outbox_messages.id"), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("started_at", BigInteger, nullable=False),
    Column("finished_at", BigInteger, nullable=True),
    Column("outcome", String(16), nullable=False),  # started | handed_over | delivered | retry | failed
    Column("error", Text, nullable=True),
    UniqueConstraint("message_id", "attempt", name="uq_outbox_attempts_message_attempt"),
)
