"""API shapes of webhooks (VCR API v1): an endpoint in and out, its deliveries."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from openvcr.schemas import ApiModel, OutModel
from openvcr.webhooks.models import EVENTS, CreatedEndpoint, Delivery, Endpoint

MAX_URL_LENGTH = 2000
_BAD_URL_CHARACTERS = re.compile(r"[\x00-\x20\x7f]")


def check_url(value: str) -> str:
    """An absolute ``http``/``https`` URL with a host; no spaces, controls or fragment."""
    if _BAD_URL_CHARACTERS.search(value):
        raise ValueError("the URL must not contain spaces or control characters")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise ValueError(f"not a valid URL: {exc}") from exc
    if parts.scheme not in ("http", "https"):
        raise ValueError("the URL must start with http:// or https://")
    if not parts.hostname:
        raise ValueError("the URL must name a host")
    if parts.fragment:
        raise ValueError("the URL must not have a #fragment")
    return value


def check_events(value: list[str]) -> list[str]:
    unknown = [e for e in value if e not in EVENTS]
    if unknown:
        raise ValueError(f"unknown event {unknown[0]!r}; known: {', '.join(EVENTS)}")
    return list(dict.fromkeys(value))


class WebhookCreate(ApiModel):
    url: str = Field(min_length=1, max_length=MAX_URL_LENGTH, description="http:// or https:// URL")
    events: list[str] = Field(min_length=1, max_length=len(EVENTS) * 2, description=", ".join(EVENTS))

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return check_url(value)

    @field_validator("events")
    @classmethod
    def _events(cls, value: list[str]) -> list[str]:
        return check_events(value)


def _time(ms: int | None) -> str | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class WebhookOut(OutModel):
    id: int
    url: str
    events: list[str]
    status: Literal["active", "disabled", "deleted"]
    status_reason: str | None
    created_at: str

    @classmethod
    def of(cls, endpoint: Endpoint) -> WebhookOut:
        return cls(
            id=endpoint.id,
            url=endpoint.url,
            events=list(endpoint.events),
            status=endpoint.status,
            status_reason=endpoint.status_reason,
            created_at=_time(endpoint.created_at) or "",
        )


class WebhookCreated(OutModel):
    id: int
    secret: str = Field(description="The signing secret, shown this once")
    url: str
    events: list[str]

    @classmethod
    def of(cls, created: CreatedEndpoint) -> WebhookCreated:
        return cls(
            id=created.endpoint.id,
            secret=created.secret,
            url=created.endpoint.url,
            events=list(created.endpoint.events),
        )


class DeliveryOut(OutModel):
    id: int
    webhook_id: int
    event_id: str
    event_type: str
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    last_error: str | None
    created_at: str
    delivered_at: str | None

    @classmethod
    def of(cls, delivery: Delivery) -> DeliveryOut:
        return cls(
            id=delivery.id,
            webhook_id=delivery.endpoint_id,
            event_id=delivery.event_id,
            event_type=delivery.event_type,
            status=delivery.status,
            attempts=delivery.attempts,
            last_error=delivery.last_error,
            created_at=_time(delivery.created_at) or "",
            delivered_at=_time(delivery.delivered_at),
        )
