"""Exact money at rest: every amount, quantity and rate column becomes a BIGINT count of its smallest unit.

Amounts (``NUMERIC(18, 2)``) become luma (× 100), quantities (``NUMERIC(18, 3)``) thousandths (× 1000), the CBA
rate (``NUMERIC(18, 4)``) ten-thousandths, a sale's exchange rate and the V-SDC tax rates (``NUMERIC(…, 6)``)
millionths. The data is converted in place: on PostgreSQL with ``ALTER COLUMN … TYPE BIGINT USING round(c * k)``
(exact: a ``numeric`` times ``k`` is already whole); on SQLite, where ``NUMERIC`` affinity kept the values as
REAL, with ``UPDATE … SET c = round(c * k)`` (exact for every value a REAL held to the cent, i.e. below
2**53 / k) and then a table rebuild (``batch_alter_table``) that declares the column ``BIGINT``. Server
defaults ``'0'`` stay valid. The downgrade converts back (``c / k``) to the ``NUMERIC`` columns of ``0001``.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# table → (column, precision of the 0001 NUMERIC, decimals (= its scale), nullable, server default "0")
COLUMNS: dict[str, tuple[tuple[str, int, int, bool, bool], ...]] = {
    "exchange_rates": (("rate", 18, 4, False, False),),
    "vsdc_taxpayers": (
        ("rate_a", 12, 6, False, False),
        ("rate_b", 12, 6, False, False),
        ("rate_c", 12, 6, False, False),
        ("rate_d", 12, 6, False, False),
    ),
    "vsdc_devices": (
        ("sales_total", 18, 2, False, True),
        ("refund_total", 18, 2, False, True),
        ("sales_tax_total", 18, 2, False, True),
        ("refund_tax_total", 18, 2, False, True),
    ),
    "sales": (
        ("exchange_rate", 18, 6, True, False),
        ("total", 18, 2, False, True),
        ("vat", 18, 2, False, True),
        ("cash", 18, 2, False, True),
        ("non_cash", 18, 2, False, True),
        ("prepayment", 18, 2, False, True),
        ("compensation", 18, 2, False, True),
        ("change", 18, 2, False, True),
    ),
    "sale_items": (
        ("quantity", 18, 3, False, False),
        ("price", 18, 2, False, False),
        ("foreign_price", 18, 2, True, False),
        ("discount", 18, 2, True, False),
        ("additional_discount", 18, 2, True, False),
        ("total", 18, 2, False, False),
        ("vat", 18, 2, False, False),
        ("refunded_quantity", 18, 3, False, True),
        ("refunded_amount", 18, 2, False, True),
    ),
    "sale_refunds": (
        ("total", 18, 2, False, True),
        ("vat", 18, 2, False, True),
        ("cash", 18, 2, False, True),
        ("non_cash", 18, 2, False, True),
        ("prepayment", 18, 2, False, True),
        ("compensation", 18, 2, False, True),
    ),
    "sale_refund_items": (
        ("quantity", 18, 3, False, False),
        ("amount", 18, 2, False, False),
        ("vat", 18, 2, False, False),
    ),
    "prepayments": (
        ("cash", 18, 2, False, True),
        ("non_cash", 18, 2, False, True),
        ("amount", 18, 2, False, True),
    ),
    "prepayment_usages": (("amount", 18, 2, False, False),),
    "prepayment_refunds": (
        ("cash", 18, 2, False, True),
        ("non_cash", 18, 2, False, True),
        ("amount", 18, 2, False, True),
    ),
}


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    for table, columns in COLUMNS.items():
        if _sqlite():
            for name, _precision, scale, _nullable, _default in columns:
                op.execute(f'UPDATE {table} SET "{name}" = round("{name}" * {10**scale})')
            with op.batch_alter_table(table) as batch:
                for name, precision, scale, nullable, default in columns:
                    batch.alter_column(
                        name,
                        type_=sa.BigInteger(),
                        existing_type=sa.Numeric(precision=precision, scale=scale),
                        existing_nullable=nullable,
                        existing_server_default="0" if default else None,
                    )
        else:
            for name, precision, scale, nullable, default in columns:
                op.alter_column(
                    table,
                    name,
                    type_=sa.BigInteger(),
                    existing_type=sa.Numeric(precision=precision, scale=scale),
                    existing_nullable=nullable,
                    existing_server_default="0" if default else None,
                    postgresql_using=f'round("{name}" * {10**scale})',
                )


def downgrade() -> None:
    for table, columns in reversed(COLUMNS.items()):
        if _sqlite():
            with op.batch_alter_table(table) as batch:
                for name, precision, scale, nullable, default in columns:
                    batch.alter_column(
                        name,
                        type_=sa.Numeric(precision=precision, scale=scale),
                        existing_type=sa.BigInteger(),
                        existing_nullable=nullable,
                        existing_server_default="0" if default else None,
                    )
            for name, _precision, scale, _nullable, _default in columns:
                op.execute(f'UPDATE {table} SET "{name}" = "{name}" / {10**scale}.0')
        else:
            for name, precision, scale, nullable, default in columns:
                op.alter_column(
                    table,
                    name,
                    type_=sa.Numeric(precision=precision, scale=scale),
                    existing_type=sa.BigInteger(),
                    existing_nullable=nullable,
                    existing_server_default="0" if default else None,
                    postgresql_using=f'"{name}"::numeric / {10**scale}',
                )
