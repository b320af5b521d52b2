"""Receivers that confirm later (``openvcr.outbox``): an SMSC accepts a message part with an id of its own and
reports, in a delivery receipt, whether it reached the phone.

- ``outbox_confirmations``: one row per id a receiver gave for a part of an outbox message (``remote_id``,
  looked up with the message's ``kind``), written when the receiver accepted the part; ``outcome`` is NULL until the
  receipt arrives, then ``delivered`` or ``failed`` (with the receiver's ``detail``).
"""

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint

from openvcr.store.schema.base import metadata

outbox_confirmations = Table(
    "outbox_confirmations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("message_id", Integer, ForeignKey("outbox_messages.id"), nullable=False),
    Column("part", Integer, nullable=False),  # 1 … n: the part of the message the receiver accepted
    Column("remote_id", String(100), nullable=False),  # the receiver's id (an SMSC's message_id)
    Column("accepted_at", BigInteger, nullable=False),
    Column("outcome", String(16), nullable=True),  # NULL (waiting) | delivered | failed
    Column("detail", Text, nullable=True),
    Column("confirmed_at", BigInteger, nullable=True),
    UniqueConstraint("message_id", "part", name="uq_outbox_confirmations_message_part"),
)
Index("ix_outbox_confirmations_remote", outbox_confirmations.c.remote_id)
