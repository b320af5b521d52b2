"""Registers gain an SRC identity of their own (``register_identities``: key pair, CSR, certificate, expiry)
and can be disabled (``registers.disabled_at``); hosting operators get tokens for the operator API
(``operator_tokens``). Existing registers keep using the global
``OPENVCR_SRC_CERT`` identity: they have no row, nothing changes for them.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("registers", sa.Column("disabled_at", sa.BigInteger(), nullable=True))
    op.create_table(
        "register_identities",
        sa.Column("register_id", sa.Integer(), sa.ForeignKey("registers.id"), primary_key=True),
        sa.Column("key_enc", sa.LargeBinary(), nullable=False),
        sa.Column("csr_pem", sa.Text(), nullable=True),
        sa.Column("cert_pem", sa.Text(), nullable=True),
        sa.Column("cert_sha256", sa.String(64), nullable=True, unique=True),
        sa.Column("cert_serial", sa.String(64), nullable=True),
        sa.Column("cert_subject", sa.String(400), nullable=True),
        sa.Column("cert_issuer", sa.String(400), nullable=True),
        sa.Column("not_before", sa.BigInteger(), nullable=True),
        sa.Column("not_after", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("imported_at", sa.BigInteger(), nullable=True),
    )
    op.create_table(
        "operator_tokens",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(100), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("revoked_at", sa.BigInteger(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("operator_tokens")
    op.drop_table("register_identities")
    op.drop_column("registers", "disabled_at")
