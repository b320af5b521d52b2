"""Verifying a webhook delivery: ``verify_webhook(secret, header, body)``.

Rules:
- ``header`` is the ``OpenVCR-Signature`` header, ``t=<unix seconds>,v1=<hex>``; the delivery is genuine when
  one ``v1`` equals the HMAC-SHA256, under ``secret``, of ``b"<t>." + body`` (the raw body bytes, before any
  JSON parsing), compared in constant time.
- ``t`` must be within ``tolerance`` seconds of now (either way), so a captured delivery cannot be replayed
  later; ``tolerance=None`` skips the check.
- Anything else raises ``WebhookVerificationError``; nothing is returned for a body that did not verify.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from decimal import Decimal

from pydantic import ValidationError

from openvcr.client.errors import OpenVCRClientError
from openvcr.client.models import WebhookEvent

SIGNATURE_HEADER = "OpenVCR-Signature"
DEFAULT_TOLERANCE_SECONDS = 300


class WebhookVerificationError(OpenVCRClientError):
    """A webhook delivery whose signature is missing, malformed, wrong or too old."""


def verify_webhook(
    secret: str,
    header: str | None,
    body: bytes | str,
    tolerance: float | None = DEFAULT_TOLERANCE_SECONDS,
    *,
    now: float | None = None,
) -> WebhookEvent:
    """The event of a genuine delivery; ``WebhookVerificationError`` otherwise (see the module's rules)."""
    raw = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    if not header:
        raise WebhookVerificationError(f"no {SIGNATURE_HEADER} header")
    timestamp: str | None = None
    signatures: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t":
            timestamp = value
        elif name == "v1":
            signatures.append(value)
    if timestamp is None or not timestamp.isdigit() or not signatures:
        raise WebhookVerificationError(f"malformed {SIGNATURE_HEADER} header")
    expected = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + raw, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise WebhookVerificationError("the signature does not match")
    if tolerance is not None and abs((time.time() if now is None else now) - int(timestamp)) > tolerance:
        raise WebhookVerificationError("the signature's timestamp is outside the tolerance")
    try:
        return WebhookEvent.model_validate(json.loads(raw, parse_float=Decimal))
    except (ValueError, ValidationError) as exc:
        raise WebhookVerificationError(f"the body is not a webhook event: {exc}") from exc
