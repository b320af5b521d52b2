"""Sending an SMS through a provider's HTTP API (for providers without SMPP), failures classified for the outbox.

Rules:
- ``OPENVCR_SMS_HTTP_URL``: one ``POST`` per SMS to that address (https, or http to a local relay), with the
  number (E.164), the whole text (the provider splits it), the sender and the outbox key; as JSON, or as a form
  with ``OPENVCR_SMS_HTTP_FORM=true``. ``OPENVCR_SMS_HTTP_FIELDS`` names the provider's fields
  (``to=to,text=text,from=from,reference=reference``; a name left out is not sent). ``OPENVCR_SMS_HTTP_TOKEN``
  goes as ``Authorization: Bearer …``. Every request carries ``Idempotency-Key: <outbox key>`` and has a
  timeout (``OPENVCR_SMPP_TIMEOUT_SECONDS``).
- Any 2xx answer: delivered (the gateway sends no delivery receipts back to OpenVCR).
- Retryable: the gateway cannot be reached (nothing was sent), 429, 5xx. Rejected for good: any other answer
  (400 invalid number, 401/403 credentials the provider refused for this message, 3xx — redirects are not
  followed).
- The point of no return is the request itself: ``handover`` is called before it; a request sent and
  unanswered (timeout, connection lost) is *in doubt* (``MessageInDoubt``), not sent again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import urlsplit

import httpx

from openvcr.core.phone import mask
from openvcr.outbox.models import DeliveryRejected, DeliveryRetryable
from openvcr.receipts.smtp import MessageInDoubt

DEFAULT_FIELDS: Final = {"to": "to", "text": "text", "from": "from", "reference": "reference"}


def parse_fields(spec: str) -> dict[str, str]:
    """``to=msisdn,text=message`` → our name → the provider's name (``ValueError`` for an unknown name)."""
    fields: dict[str, str] = {}
    for item in spec.split(","):
        if not item.strip():
            continue
        ours, _, theirs = item.partition("=")
        ours, theirs = ours.strip(), (theirs or ours).strip()
        if ours not in DEFAULT_FIELDS or not theirs:
            raise ValueError(f"OPENVCR_SMS_HTTP_FIELDS: {item!r}: the names are {', '.join(DEFAULT_FIELDS)}")
        fields[ours] = theirs
    if "to" not in fields or "text" not in fields:
        raise ValueError("OPENVCR_SMS_HTTP_FIELDS must name the 'to' and 'text' fields")
    return fields


@dataclass
class HttpSmsGateway:
    """Where and how to POST: from the settings."""

    url: str
    token: str | None = None
    form: bool = False
    fields: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_FIELDS))
    sender: str = "OpenVCR"
    timeout: float = 10.0
    transport: httpx.BaseTransport | None = None

    def describe(self) -> str:
        """The address without its query (which may hold a key) or credentials."""
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}{parts.path}"

    def send(self, phone: str, text: str, reference: str, handover: Callable[[], None]) -> None:
        """POST one SMS; see the module rules for failures."""
        values = {"to": phone, "text": text, "from": self.sender, "reference": reference}
        body = {self.fields[name]: values[name] for name in DEFAULT_FIELDS if name in self.fields}
        headers = {"Idempotency-Key": reference}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        with httpx.Client(timeout=self.timeout, transport=self.transport, follow_redirects=False) as client:
            if self.form:
                request = client.build_request("POST", self.url, headers=headers, data=body)
            else:
                request = client.build_request("POST", self.url, headers=headers, json=body)
            handover()
            try:
                response = client.send(request)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                raise DeliveryRetryable(f"cannot reach the SMS gateway {self.describe()}: {exc}") from exc
            except httpx.HTTPError as exc:
                raise MessageInDoubt(
                    f"in doubt: the SMS to {mask(phone)} was sent to the gateway and no answer came ({exc}); "
                    "it may have been delivered and is not sent again"
                ) from exc
        if response.is_success:
            return
        said = response.text[:200].replace(phone, mask(phone)).replace(phone[1:], mask(phone))
        reason = f"the SMS gateway answered {response.status_code} for {mask(phone)}: {said}"
        if response.status_code == 429 or response.status_code >= 500:
            raise DeliveryRetryable(reason)
        raise DeliveryRejected(reason)
