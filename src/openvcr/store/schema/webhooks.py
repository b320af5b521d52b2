"""Tables of signed webhooks (``openvcr.webhooks``).

- ``webhook_endpoints``: one row per endpoint of a business entity: its URL, the events it takes (space
  separated), its signing secret encrypted under the master key (AES-256-GCM, bound to the endpoint's id), and
  whether it is active, disabled (the receiver answered 410) or deleted. Deliveries are outbox messages of kind
  ``webhook`` (``outbox_messages``/``outbox_attempts``); the endpoint's id is in their payload.
"""

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, LargeBinary, String, Table, Text

from openvcr.store.schema.base import metadata

webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("entity_id", Integer, ForeignKey("business_entities.id"), nullable=False),
    Column("url", String(2000), nullable=False),
    Column("events", Text, nullable=False),  # space-separated event types
    Column("secret_enc", LargeBinary, nullable=True),  # set in the transaction that inserts the row
    Column("status", String(16), nullable=False),  # active | disabled | deleted
    Column("status_reason", Text, nullable=True),
    Column("created_by_key", Integer, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("changed_at", BigInteger, nullable=True),
)
Index("ix_webhook_endpoints_entity_status", webhook_endpoints.c.entity_id, webhook_endpoints.c.status)
