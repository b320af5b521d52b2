"""Registers gain their sane limits (``openvcr.core.limits``): a line's quantity, a unit price, a sale's
total, the change and a prepayment. Each is NULL — the default — until an operator sets it
(``openvcr registers update ID --max-unit-price …``). Money columns are BIGINT luma, the quantity BIGINT
thousandths, like every exact column.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

COLUMNS = ("max_quantity", "max_unit_price", "max_sale_total", "max_change", "max_prepayment")


def upgrade() -> None:
    for name in COLUMNS:
        op.add_column("registers", sa.Column(name, sa.BigInteger(), nullable=True))


def downgrade() -> None:
    for name in reversed(COLUMNS):
        op.drop_column("registers", name)
