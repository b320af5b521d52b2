"""The outbox's types: a message being delivered, a deliverer, the two ways a delivery fails, a status row."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

PENDING = "pending"
DELIVERED = "delivered"
FAILED = "failed"

# Outcomes of an attempt (``outbox_attempts.outcome``) before it ends as delivered, retry or failed.
STARTED = "started"
HANDED_OVER = "handed_over"  # the deliverer passed its point of no return (``repository.mark_handed_over``)


class DeliveryRetryable(Exception):
    """The delivery did not succeed this time; try again later."""


class DeliveryRejected(Exception):
    """The receiver refused the message for good; it will not be tried again."""


@dataclass(frozen=True)
class OutboxMessage:
    id: int
    kind: str
    key: str
    payload: dict[str, Any]
    attempt: int  # the number of this attempt (1 for the first)


Deliverer = Callable[[OutboxMessage], None]
"""Delivers one message; raises ``DeliveryRetryable`` or ``DeliveryRejected`` when it does not succeed."""


@dataclass(frozen=True)
class KindStatus:
    kind: str
    pending: int
    delivered: int
    failed: int
    oldest_pending_at: int | None


@dataclass(frozen=True)
class MessageInfo:
    """One message as ``openvcr outbox list`` shows it."""

    id: int
    kind: str
    key: str
    status: str
    attempts: int
    next_attempt_at: int
    last_error: str | None
    created_at: int
    delivered_at: int | None
