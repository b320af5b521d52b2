"""PKCE (RFC 7636) for pairing: the shop keeps the verifier and sends only its S256 challenge."""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import NamedTuple


class PkcePair(NamedTuple):
    verifier: str
    """64 characters of ``[A-Za-z0-9-_]`` (48 random bytes): kept by the shop until the exchange."""
    challenge: str
    """The S256 challenge: unpadded base64url of the verifier's SHA-256, sent with the connect request."""


def pkce_challenge(verifier: str) -> str:
    """The S256 challenge of a verifier."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).decode("ascii").rstrip("=")


def pkce_pair() -> PkcePair:
    """A fresh verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(48)
    return PkcePair(verifier, pkce_challenge(verifier))
