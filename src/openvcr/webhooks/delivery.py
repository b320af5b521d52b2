"""Webhook deliveries through the outbox: the ``webhook`` deliverer and the worker that runs it.

Rules:
- A delivery POSTs the event's body (fixed at emission) to the endpoint's URL with ``Content-Type:
  application/json``, ``OpenVCR-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`` (signed at each attempt),
  ``OpenVCR-Event-Id`` and ``OpenVCR-Event-Type``. Redirects are not followed.
- A 2xx answer delivers it. A 410 disables the endpoint (its other deliveries then fail as well). Any other
  answer, a timeout or a connection failure is retried with the worker's backoff
  (``OPENVCR_WEBHOOK_RETRY_BASE_SECONDS`` × 2^(attempt−1), at most ``OPENVCR_WEBHOOK_RETRY_MAX_SECONDS``)
  until ``OPENVCR_WEBHOOK_RETRY_HOURS`` after the event (or its replay): a failure after that fails it.
- At least once: the receiver deduplicates on the event id (``OpenVCR-Event-Id``, also the body's ``id``). An
  attempt whose answer was lost (timeout, a worker that died) is repeated; every attempt is an
  ``outbox_attempts`` row.
- A deleted or disabled endpoint gets nothing more: its pending deliveries fail on their next attempt.
- Every ``openvcr serve`` worker process runs one webhook worker; the outbox's lease keeps two processes from
  delivering the same message at the same time (the lease outlives an attempt: at least 3 × the timeout).
"""

from __future__ import annotations

import logging
import time
from typing import Final

import httpx

from openvcr import __version__
from openvcr.config import Settings
from openvcr.core.webhooks import (
    EVENT_ID_HEADER,
    EVENT_TYPE_HEADER,
    SIGNATURE_HEADER,
    SecretDecryptionError,
    open_secret,
    signature_header,
)
from openvcr.outbox.models import DeliveryRejected, DeliveryRetryable, OutboxMessage
from openvcr.outbox.worker import OutboxWorker
from openvcr.store.db import Database, now_ms
from openvcr.webhooks import repository as repo
from openvcr.webhooks.models import ACTIVE, DISABLED, WEBHOOK
from openvcr.webhooks.service import secret_context

log = logging.getLogger("openvcr.webhooks")

MIN_LEASE_SECONDS: Final = 60.0


class WebhookDeliverer:
    """The ``webhook`` deliverer."""

    def __init__(self, settings: Settings, db: Database, client: httpx.Client | None = None) -> None:
        self.db = db
        self.master_key = settings.master_key.get_secret_value()
        self.window_ms = int(settings.webhook_retry_hours * 3_600_000)
        self.client = client or httpx.Client(
            timeout=settings.webhook_timeout_seconds,
            follow_redirects=False,
            headers={"User-Agent": f"OpenVCR-Webhooks/{__version__}"},
        )

    def _again(self, message: OutboxMessage, why: str) -> DeliveryRetryable | DeliveryRejected:
        first = int(message.payload.get("firstAt") or 0)
        if now_ms() - first >= self.window_ms:
            return DeliveryRejected(f"gave up after {self.window_ms / 3_600_000:g} h: {why}")
        return DeliveryRetryable(why)

    def __call__(self, message: OutboxMessage) -> None:
        endpoint_id = int(message.payload["endpointId"])
        with self.db.read() as conn:
            endpoint = repo.endpoint(conn, endpoint_id)
            sealed = repo.sealed_secret(conn, endpoint_id)
        if endpoint is None or endpoint.status != ACTIVE or sealed is None:
            raise DeliveryRejected(f"webhook endpoint {endpoint_id} is {endpoint.status if endpoint else 'gone'}")
        try:
            secret = open_secret(sealed, self.master_key, secret_context(endpoint_id))
        except SecretDecryptionError as exc:  # a wrong master key is fixed by configuration: keep the message
            raise self._again(message, str(exc)) from exc
        body = str(message.payload["body"]).encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature_header(secret, int(time.time()), body),
            EVENT_ID_HEADER: str(message.payload["eventId"]),
            EVENT_TYPE_HEADER: str(message.payload["type"]),
        }
        try:
            # streamed and closed unread: only the status counts, whatever the receiver sends with it
            with self.client.stream("POST", endpoint.url, content=body, headers=headers) as response:
                status = response.status_code
        except httpx.HTTPError as exc:
            raise self._again(message, f"{type(exc).__name__}: {exc}"[:500]) from exc
        if 200 <= status < 300:
            log.info("webhook %s %s delivered to endpoint %s", message.payload["type"], message.key, endpoint_id)
            return
        if status == 410:
            with self.db.write() as conn:
                repo.set_status(conn, endpoint_id, DISABLED, "the receiver answered 410 Gone", only_if=(ACTIVE,))
            log.warning("webhook endpoint %s answered 410 Gone: disabled", endpoint_id)
            raise DeliveryRejected("HTTP 410 Gone: the endpoint is disabled")
        raise self._again(message, f"HTTP {status}")

    def close(self) -> None:
        self.client.close()


def webhook_worker(settings: Settings, db: Database) -> OutboxWorker:
    """The outbox worker delivering webhooks (every ``openvcr serve`` process runs one)."""
    return OutboxWorker(
        db,
        {WEBHOOK: WebhookDeliverer(settings, db)},
        base_delay_seconds=settings.webhook_retry_base_seconds,
        max_delay_seconds=settings.webhook_retry_max_seconds,
        lease_seconds=max(MIN_LEASE_SECONDS, 3 * settings.webhook_timeout_seconds),
    )
