"""All tables, one module per domain, on one ``MetaData``.

Every fiscal table carries ``register_id`` (or ``entity_id``) in its key so that the data can be
distributed by register without cross-shard transactions.
"""

from openvcr.store.schema import (
    authority,
    confirmations,
    console,
    documents,
    foundation,
    identity,
    journal,
    operators,
    outbox,
    pairing,
    reports,
    sales,
    vsdc,
    webhooks,
)
from openvcr.store.schema.base import metadata

__all__ = [
    "authority",
    "confirmations",
    "console",
    "documents",
    "foundation",
    "identity",
    "journal",
    "metadata",
    "operators",
    "outbox",
    "pairing",
    "reports",
    "sales",
    "vsdc",
    "webhooks",
]
