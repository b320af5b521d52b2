"""All tables, one module per domain, on one ``MetaData``.

Every fiscal table carries ``register_id`` (or ``entity_id``) in its key so that the data can be
distributed by register without cross-shard transactions.
"""

from openvcr.store.schema import authority, documents, foundation, journal, outbox, reports, sales, vsdc
from openvcr.store.schema.base import metadata

__all__ = ["authority", "documents", "foundation", "journal", "metadata", "outbox", "reports", "sales", "vsdc"]
