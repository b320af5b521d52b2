"""The outbox's types: a message being delivered, a deliverer, the two ways a delivery fails, a status row."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

PENDING = "pending"
DELIVERED = "delivered"
FAILED = "failed"
SENT = "sent"  # accepted by a receiver that confirms later (an SMSC): delivered or failed on its receipt

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


AWAITING_CONFIRMATION = "awaiting_confirmation"
"""What a deliverer returns when the receiver accepted the message and confirms it later (the message is
``sent`` until ``repository.confirm`` settles it)."""

Deliverer = Callable[[OutboxMessage], object]
"""Delivers one message; raises ``DeliveryRetryable`` or ``DeliveryRejected`` when it does not succeed. It
returns None (delivered) or ``AWAITING_CONFIRMATION`` (sent; the receiver's receipt settles it later)."""


@dataclass(frozen=True)
class KindStatus:
    kind: str
    pending: int
    delivered: int
    failed: int
    oldest_pending_at: int | None
    sent: int = 0  # accepted, waiting for the receiver's confirmation


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
    remote_ids: tuple[str, ...] = ()  # the receiver's ids of its parts (an SMSC's message ids), in part order
