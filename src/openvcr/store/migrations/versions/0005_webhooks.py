"""Signed webhooks: ``webhook_endpoints`` (per business entity; deliveries are outbox messages of kind
``webhook``). A new table only: nothing existing changes, and existing API keys keep their scopes (the
``webhooks`` scope is granted explicitly, see ``docs/webhooks.md``).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhook_endpoints",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("events", sa.Text(), nullable=False),
        sa.Column("secret_enc", sa.LargeBinary(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("created_by_key", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("changed_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["entity_id"], ["business_entities.id"], name=op.f("fk_webhook_endpoints_entity_id_business_entities")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_endpoints")),
    )
    op.create_index("ix_webhook_endpoints_entity_status", "webhook_endpoints", ["entity_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_webhook_endpoints_entity_status", table_name="webhook_endpoints")
    op.drop_table("webhook_endpoints")
