"""Pairing (``openvcr.console.pairing``): connect requests and their one-time codes. A new table only;
nothing existing is touched.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def _fk(column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=op.f(f"fk_connect_requests_{column}_{target}"))


def upgrade() -> None:
    op.create_table(
        "connect_requests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("redirect_uri", sa.String(length=2000), nullable=False),
        sa.Column("store_name", sa.String(length=100), nullable=False),
        sa.Column("state", sa.String(length=500), nullable=False),
        sa.Column("code_challenge", sa.String(length=43), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_at", sa.BigInteger(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("register_id", sa.Integer(), nullable=True),
        sa.Column("code_hash", sa.String(length=64), nullable=True),
        sa.Column("code_expires_at", sa.BigInteger(), nullable=True),
        sa.Column("key_id", sa.Integer(), nullable=True),
        sa.Column("exchanged_at", sa.BigInteger(), nullable=True),
        _fk("user_id", "console_users"),
        _fk("register_id", "registers"),
        _fk("key_id", "api_keys"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connect_requests")),
        sa.UniqueConstraint("request_hash", name=op.f("uq_connect_requests_request_hash")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_connect_requests_code_hash")),
    )


def downgrade() -> None:
    op.drop_table("connect_requests")
