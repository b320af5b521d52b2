"""Moved to ``openvcr.outbox``; this re-export keeps the importers not yet switched over working.

To be deleted once nothing imports ``openvcr.authority.outbox`` (``sales/documents.py`` is the last one).
"""

from openvcr.outbox.models import (
    DELIVERED,
    FAILED,
    PENDING,
    Deliverer,
    DeliveryRejected,
    DeliveryRetryable,
    KindStatus,
    OutboxMessage,
)
from openvcr.outbox.repository import enqueue, message_status, status
from openvcr.outbox.worker import OutboxWorker, backoff_ms

__all__ = [
    "DELIVERED",
    "FAILED",
    "PENDING",
    "Deliverer",
    "DeliveryRejected",
    "DeliveryRetryable",
    "KindStatus",
    "OutboxMessage",
    "OutboxWorker",
    "backoff_ms",
    "enqueue",
    "message_status",
    "status",
]
