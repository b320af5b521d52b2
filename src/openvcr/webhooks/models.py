"""Types of signed webhooks: the event names, an endpoint, a delivery."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

WEBHOOK: Final = "webhook"
"""The outbox kind of a webhook delivery (one message per event and endpoint)."""

SALE_COMPLETED: Final = "sale.completed"
SALE_REFUND_COMPLETED: Final = "saleRefund.completed"
PREPAYMENT_COMPLETED: Final = "prepayment.completed"
PREPAYMENT_REFUND_COMPLETED: Final = "prepaymentRefund.completed"
DOCUMENT_DEFERRED: Final = "document.deferred"
DOCUMENT_FISCALIZED: Final = "document.fiscalized"
DOCUMENT_DROPPED: Final = "document.dropped"
RECEIPT_EMAIL_DELIVERED: Final = "receiptEmail.delivered"
RECEIPT_EMAIL_FAILED: Final = "receiptEmail.failed"
REPORT_Z: Final = "report.z"
CERTIFICATE_EXPIRING: Final = "certificate.expiring"

EVENTS: tuple[str, ...] = (
    SALE_COMPLETED,
    SALE_REFUND_COMPLETED,
    PREPAYMENT_COMPLETED,
    PREPAYMENT_REFUND_COMPLETED,
    DOCUMENT_DEFERRED,
    DOCUMENT_FISCALIZED,
    DOCUMENT_DROPPED,
    RECEIPT_EMAIL_DELIVERED,
    RECEIPT_EMAIL_FAILED,
    REPORT_Z,
    CERTIFICATE_EXPIRING,
)

ACTIVE: Final = "active"
DISABLED: Final = "disabled"  # the receiver answered 410 Gone
DELETED: Final = "deleted"


@dataclass(frozen=True)
class Endpoint:
    id: int
    entity_id: int
    url: str
    events: tuple[str, ...]
    status: str
    status_reason: str | None
    created_at: int


@dataclass(frozen=True)
class CreatedEndpoint:
    """A new endpoint with its secret: the only moment the secret is shown."""

    endpoint: Endpoint
    secret: str


@dataclass(frozen=True)
class Delivery:
    """One event to one endpoint (an outbox message of kind ``webhook``)."""

    id: int
    endpoint_id: int
    event_id: str
    event_type: str
    status: str  # pending | delivered | failed
    attempts: int
    last_error: str | None
    created_at: int
    delivered_at: int | None
