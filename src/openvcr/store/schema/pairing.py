"""Pairing (``openvcr.console.pairing``): a shop's connect requests, approved or denied in the console, and
the one-time codes a shop exchanges for an API key.

Nothing secret is stored: the request id and the code only as their SHA-256 digests, the PKCE challenge (a
digest of the shop's verifier) as sent. Times are integer milliseconds since the Unix epoch (UTC).
"""

from sqlalchemy import BigInteger, Column, ForeignKey, Integer, String, Table

from openvcr.store.schema.base import metadata

connect_requests = Table(
    "connect_requests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_hash", String(64), nullable=False, unique=True),  # SHA-256 of the requestId
    Column("redirect_uri", String(2000), nullable=False),
    Column("store_name", String(100), nullable=False),
    Column("state", String(500), nullable=False),
    Column("code_challenge", String(43), nullable=False),  # base64url SHA-256 of the verifier, unpadded
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),  # the request's own expiry (approve before it)
    Column("status", String(16), nullable=False),  # pending | approved | denied | exchanged | burnt
    Column("decided_at", BigInteger, nullable=True),
    Column("user_id", Integer, ForeignKey("console_users.id"), nullable=True),  # who approved or denied
    Column("register_id", Integer, ForeignKey("registers.id"), nullable=True),  # approved for this register
    Column("code_hash", String(64), nullable=True, unique=True),  # SHA-256 of the code, once approved
    Column("code_expires_at", BigInteger, nullable=True),
    Column("key_id", Integer, ForeignKey("api_keys.id"), nullable=True),  # the key the code was exchanged for
    Column("exchanged_at", BigInteger, nullable=True),
)
