"""Delivery of V-SDC devices and signed invoices to aTAX, as outbox deliverers.

Rules:
- The outbox payload names the document only (``mcr``, ``ino``); the deliverer reads the signed invoice (or the
  device's public key and counter key) from the database at delivery time, so no secret is copied into the
  outbox.
- Transport: HTTP to ``settings.atax_url`` when set, else the in-process sandbox on ``atax_state_path``.
- Classification: connection errors, timeouts, HTTP 5xx, 408, 409 and 429 are retryable; any other 4xx is a
  permanent rejection; 2xx is delivered (``duplicate`` included: the authority already has it).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from openvcr.config import Settings
from openvcr.outbox.models import Deliverer, DeliveryRejected, DeliveryRetryable, OutboxMessage
from openvcr.store.db import Database
from openvcr.vsdc import repository, service
from openvcr.vsdc.atax.sandbox import AtaxSandbox

RETRYABLE_STATUS = frozenset({408, 409, 425, 429})

Transport = Callable[[str, str, dict[str, Any]], tuple[int, dict[str, Any]]]
"""(path, idempotency key, payload) → (HTTP status, body)."""


def atax_state_path(settings: Settings) -> Path:
    """Where the in-process aTAX sandbox keeps its state (next to a SQLite database by default)."""
    return settings.atax_state_dir if settings.atax_state_dir is not None else settings.beside_database("atax")


def http_transport(base_url: str, timeout: float) -> Transport:
    def send(path: str, key: str, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        try:
            response = httpx.post(
                base_url.rstrip("/") + path, json=payload, headers={"Idempotency-Key": key}, timeout=timeout
            )
        except httpx.HTTPError as exc:
            raise DeliveryRetryable(f"aTAX unreachable: {type(exc).__name__}: {exc}") from exc
        try:
            body = response.json()
        except ValueError:
            body = {"error": response.text[:200]}
        return response.status_code, body if isinstance(body, dict) else {"body": body}

    return send


def sandbox_transport(state_dir: Path) -> Transport:
    sandbox = AtaxSandbox(state_dir)

    def send(path: str, key: str, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if path.endswith("/devices"):
            return sandbox.receive_device(key, payload)
        return sandbox.receive_invoice(key, payload)

    return send


def _classify(status: int, body: dict[str, Any]) -> None:
    if 200 <= status < 300:
        return
    message = f"aTAX answered {status}: {body.get('error') or body}"
    if status >= 500 or status in RETRYABLE_STATUS:
        raise DeliveryRetryable(message)
    raise DeliveryRejected(message)


def deliverers(settings: Settings, db: Database, transport: Transport | None = None) -> dict[str, Deliverer]:
    """The outbox deliverers of the V-SDC kinds."""
    send = transport or (
        http_transport(settings.atax_url, settings.atax_timeout_seconds)
        if settings.atax_url
        else sandbox_transport(atax_state_path(settings))
    )

    def deliver_device(message: OutboxMessage) -> None:
        mcr = str(message.payload["mcr"])
        with db.read() as conn:
            device = repository.device_by_mcr(conn, mcr)
        if device is None or device.public_key_pem is None:
            raise DeliveryRejected(f"device {mcr} does not exist")
        payload = {
            "tin": device.tin,
            "mcr": mcr,
            "publicKey": device.public_key_pem,
            "counterKey": base64.b64encode(service.counter_key(device, settings)).decode("ascii"),
        }
        _classify(*send("/api/v1/devices", message.key, payload))

    def deliver_invoice(message: OutboxMessage) -> None:
        mcr, ino = str(message.payload["mcr"]), str(message.payload["ino"])
        with db.read() as conn:
            device = repository.device_by_mcr(conn, mcr)
            stored = None if device is None else repository.invoice_by_ino(conn, device.register_id, ino)
        if device is None or stored is None:
            raise DeliveryRejected(f"invoice {mcr}/{ino} does not exist")
        payload = {
            "tin": device.tin,
            "mcr": mcr,
            "ino": ino,
            "document": base64.b64encode(stored.signed_bytes).decode("ascii"),
            "signature": stored.signature,
            "internalData": stored.internal_data,
        }
        _classify(*send("/api/v1/invoices", message.key, payload))

    return {service.ATAX_DEVICE: deliver_device, service.ATAX_INVOICE: deliver_invoice}
