"""API shapes of pairing (VCR API v1, "Pairing"): a connect request, and the exchange of its code."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, StringConstraints, field_validator

from openvcr.console.pairing import CHALLENGE, CreatedRequest, Exchanged
from openvcr.schemas import ApiModel, OutModel, Text, iso_ms

MAX_URL_LENGTH = 2000
Exact = Annotated[str, StringConstraints(strip_whitespace=False)]
"""A string taken as sent (request models strip white space otherwise)."""
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_BAD_URL_CHARACTERS = re.compile(r"[\x00-\x20\x7f\"<>\\^`{|}]")


def _loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_redirect_uri(value: str) -> str:
    """Absolute ``https``, or plain ``http`` on a loopback host; no fragment, no credentials, no spaces."""
    if _BAD_URL_CHARACTERS.search(value):
        raise ValueError("the URL must not contain spaces, quotes or control characters")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise ValueError(f"not a valid URL: {exc}") from exc
    if not parts.hostname:
        raise ValueError("the URL must be absolute and name a host")
    if parts.scheme == "http":
        if not _loopback(parts.hostname):
            raise ValueError("plain http is allowed on a loopback host only (127.0.0.1, ::1, localhost); use https")
    elif parts.scheme != "https":
        raise ValueError("the URL must start with https://")
    if "#" in value:
        raise ValueError("the URL must not have a #fragment")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise ValueError("the URL must not carry credentials")
    return value


class ConnectRequestCreate(ApiModel):
    redirect_uri: str = Field(alias="redirectUri", min_length=1, max_length=MAX_URL_LENGTH)
    store_name: Text = Field(alias="storeName", min_length=1, max_length=100)
    state: Exact = Field(min_length=1, max_length=500)
    """Given back unchanged (white space included) with the code or the denial."""
    code_challenge: str = Field(alias="codeChallenge", description="PKCE S256: unpadded base64url of SHA-256")

    @field_validator("redirect_uri")
    @classmethod
    def _redirect(cls, value: str) -> str:
        return check_redirect_uri(value)

    @field_validator("state")
    @classmethod
    def _state(cls, value: str) -> str:
        if _CONTROL.search(value):
            raise ValueError("control characters (NUL, line breaks, escapes …) are not allowed here")
        return value

    @field_validator("code_challenge")
    @classmethod
    def _challenge(cls, value: str) -> str:
        if not CHALLENGE.fullmatch(value):
            raise ValueError("must be the S256 challenge: 43 characters of unpadded base64url")
        return value


class ConnectRequestCreated(OutModel):
    request_id: str
    connect_url: str
    expires_at: str

    @classmethod
    def of(cls, created: CreatedRequest) -> ConnectRequestCreated:
        return cls(
            request_id=created.request_id, connect_url=created.connect_url, expires_at=iso_ms(created.expires_at)
        )


class ConnectExchange(ApiModel):
    """Any string is taken: a code or verifier of the wrong shape gets the same answer as an unknown code."""

    code: Exact
    code_verifier: Exact = Field(alias="codeVerifier")


class ConnectExchanged(OutModel):
    api_key: str
    expires_at: str | None = Field(description="null: the key does not expire (it is revoked in the console)")
    vcr_id: int
    crn: str | None
    register_name: str

    @classmethod
    def of(cls, done: Exchanged) -> ConnectExchanged:
        return cls(api_key=done.api_key, expires_at=None, vcr_id=done.vcr_id, crn=done.crn,
                   register_name=done.register_name)  # fmt: skip
