"""Receipt SMS: registers gain ``sms_receipts`` (off), documents the buyer's ``receipt_phone`` (E.164), and the
outbox the table of receivers' later confirmations (``outbox_confirmations``: an SMSC's message ids and their
delivery receipts). Existing rows keep their data: every new column is NULL or off.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("registers", sa.Column("sms_receipts", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("documents", sa.Column("receipt_phone", sa.String(length=16), nullable=True))
    op.create_table(
        "outbox_confirmations",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("message_id", sa.Integer(), sa.ForeignKey("outbox_messages.id"), nullable=False),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.Column("remote_id", sa.String(length=100), nullable=False),
        sa.Column("accepted_at", sa.BigInteger(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("confirmed_at", sa.BigInteger(), nullable=True),
        sa.UniqueConstraint("message_id", "part", name="uq_outbox_confirmations_message_part"),
    )
    op.create_index("ix_outbox_confirmations_remote", "outbox_confirmations", ["remote_id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_confirmations_remote", table_name="outbox_confirmations")
    op.drop_table("outbox_confirmations")
    op.drop_column("documents", "receipt_phone")
    op.drop_column("registers", "sms_receipts")
