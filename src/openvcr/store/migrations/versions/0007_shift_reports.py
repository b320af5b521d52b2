"""X and Z shift reports (``openvcr.reports``): the ``shift_reports`` table, the detail of a report's
``documents`` row. Journals of an earlier release hold no report: their whole journal is the first shift.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shift_reports",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("document_id", sa.Integer(), sa.ForeignKey("documents.id"), nullable=False, unique=True),
        sa.Column("register_id", sa.Integer(), sa.ForeignKey("registers.id"), nullable=False),
        sa.Column("type", sa.String(1), nullable=False),
        sa.Column("shift", sa.Integer(), nullable=False),
        sa.Column("journal_number", sa.BigInteger(), nullable=False),
        sa.Column("first_number", sa.BigInteger(), nullable=True),
        sa.Column("last_number", sa.BigInteger(), nullable=True),
        sa.Column("opened_at", sa.BigInteger(), nullable=True),
        sa.Column("totals", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_shift_reports_register_created", "shift_reports", ["register_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_shift_reports_register_created", table_name="shift_reports")
    op.drop_table("shift_reports")
