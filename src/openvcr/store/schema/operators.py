"""Operator tokens: the credentials of the operator API (``/api/operator/v1``) of a hosting operator.

Only the SHA-256 of a token is stored; the token itself is shown once, by ``openvcr operator token create``.
A register's API key is never an operator token (different table, different prefix).
"""

from sqlalchemy import BigInteger, Column, Integer, String, Table

from openvcr.store.schema.base import metadata

operator_tokens = Table(
    "operator_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("prefix", String(16), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("name", String(100), nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("revoked_at", BigInteger, nullable=True),
)
