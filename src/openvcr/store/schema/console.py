"""Tables of the merchant console (``openvcr.console``): people, their roles in business entities, their
server-side sessions, one-time login links, failed sign-ins (throttling) and the audit log.

Secrets are never stored: passwords as scrypt hashes, session tokens and login-link tokens as SHA-256 digests.
Times are integer milliseconds since the Unix epoch (UTC).
"""

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
)

from openvcr.store.schema.base import metadata

console_users = Table(
    "console_users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("email", String(320), nullable=False, unique=True),  # lower-cased
    Column("password_hash", String(200), nullable=True),  # None: signs in only by a one-time link
    Column("totp_secret", String(64), nullable=True),  # base32; None: no second factor
    Column("disabled_at", BigInteger, nullable=True),
    Column("created_at", BigInteger, nullable=False),
)

console_memberships = Table(
    "console_memberships",
    metadata,
    Column("user_id", Integer, ForeignKey("console_users.id"), nullable=False),
    Column("entity_id", Integer, ForeignKey("business_entities.id"), nullable=False),
    Column("role", String(16), nullable=False),  # owner | accountant | developer
    Column("created_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("user_id", "entity_id", name="pk_console_memberships"),
)
Index("ix_console_memberships_entity", console_memberships.c.entity_id)

console_sessions = Table(
    "console_sessions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("user_id", Integer, ForeignKey("console_users.id"), nullable=False),
    Column("entity_id", Integer, ForeignKey("business_entities.id"), nullable=False),  # the business shown
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("ended_at", BigInteger, nullable=True),
)
Index("ix_console_sessions_user", console_sessions.c.user_id)

console_login_links = Table(
    "console_login_links",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("user_id", Integer, ForeignKey("console_users.id"), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("used_at", BigInteger, nullable=True),
)

console_login_failures = Table(
    "console_login_failures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("email", String(320), nullable=False),
    Column("ip", String(64), nullable=False),
    Column("at", BigInteger, nullable=False),
)
Index("ix_console_login_failures_email_ip", console_login_failures.c.email, console_login_failures.c.ip)

console_audit = Table(
    "console_audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("entity_id", Integer, ForeignKey("business_entities.id"), nullable=True),
    Column("user_id", Integer, ForeignKey("console_users.id"), nullable=True),  # None: an operator command
    Column("actor", String(320), nullable=False),  # the user's e-mail, or "operator"
    Column("action", String(64), nullable=False),
    Column("target", String(200), nullable=True),
    Column("detail", JSON, nullable=True),
    Column("at", BigInteger, nullable=False),
)
Index("ix_console_audit_entity_at", console_audit.c.entity_id, console_audit.c.at)
