"""All tables, one module per domain, on one ``MetaData``.

Every fiscal table carries ``register_id`` (or ``entity_id``) in its key so that the data can be
distributed by register without cross-shard transactions.
"""

from openvcr.store.schema import authority, confirmations, documents, foundation, journal, outbox, sales, vsdc
from openvcr.store.schema.base import metadata

__all__ = ["authority", "confirmations", "documents", "foundation", "journal", "metadata", "outbox", "sales", "vsdc"]
