"""Tables of sales, sale refunds, prepayments (the per-entity ledger) and exchange rates.

Each fiscal row details one row of ``documents`` (``document_id``), which alone holds the document's state,
url id, cashier, SRC request and receipt. Money is exact at rest (``store.types``): amounts are ``Money``
(integer luma), quantities ``Quantity`` (integer thousandths), rates ``Scaled`` integers with their own scale.
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
    Text,
)

from openvcr.store.schema.base import metadata
from openvcr.store.types import Money, Quantity, Scaled

MONEY = Money()
QTY = Quantity()
EXCHANGE_RATE = Scaled(6)  # AMD per one unit of the sale's currency
CBA_RATE = Scaled(4)  # AMD per ``amount`` units, as the CBA publishes it


def _money(name: str) -> Column[object]:
    return Column(name, MONEY, nullable=False, server_default="0")


def _document_columns() -> list[Column[object]]:
    """Columns every fiscal document's detail row shares: its own id and the document it details."""
    return [
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("document_id", Integer, ForeignKey("documents.id"), nullable=False, unique=True),
        Column("register_id", Integer, ForeignKey("registers.id"), nullable=False),
    ]


sales = Table(
    "sales",
    metadata,
    *_document_columns(),
    Column("entity_id", Integer, nullable=False),
    Column("buyer", JSON, nullable=True),
    Column("buyer_tin", String(16), nullable=True),
    Column("customer_ref", String(320), nullable=True),
    Column("comment", Text, nullable=True),
    Column("currency", String(3), nullable=True),
    Column("exchange_rate", EXCHANGE_RATE, nullable=True),
    _money("total"),
    _money("vat"),
    _money("cash"),
    _money("non_cash"),
    _money("prepayment"),
    _money("compensation"),
    _money("change"),
    Column("offers_to_create", JSON, nullable=True),
)
Index("ix_sales_register", sales.c.register_id)

sale_items = Table(
    "sale_items",
    metadata,
    Column("sale_id", Integer, ForeignKey("sales.id", ondelete="CASCADE"), nullable=False),
    Column("register_id", Integer, nullable=False),
    Column("line_no", Integer, nullable=False),  # SRC receiptProductId (0-based)
    Column("offer_id", Integer, nullable=True),
    Column("offer", JSON, nullable=False),  # snapshot: type, classifierCode, title texts, externalId
    Column("department_id", Integer, nullable=False),
    Column("department", JSON, nullable=False),  # snapshot: dep, taxRegime, title texts
    Column("quantity", QTY, nullable=False),
    Column("price", MONEY, nullable=False),  # AMD
    Column("foreign_price", MONEY, nullable=True),
    Column("unit", String(10), nullable=False),
    Column("discount", MONEY, nullable=True),
    Column("discount_type", String(8), nullable=True),
    Column("additional_discount", MONEY, nullable=True),
    Column("additional_discount_type", String(8), nullable=True),
    Column("total", MONEY, nullable=False),
    Column("vat", MONEY, nullable=False),
    Column("emarks", JSON, nullable=True),
    Column("refunded_quantity", QTY, nullable=False, server_default="0"),
    Column("refunded_amount", MONEY, nullable=False, server_default="0"),
    PrimaryKeyConstraint("sale_id", "line_no", name="pk_sale_items"),
)

sale_refunds = Table(
    "sale_refunds",
    metadata,
    *_document_columns(),
    Column("sale_id", Integer, ForeignKey("sales.id"), nullable=False),
    Column("reason", String(32), nullable=True),
    Column("reason_note", String(500), nullable=True),
    _money("total"),
    _money("vat"),
    _money("cash"),
    _money("non_cash"),
    _money("prepayment"),
    _money("compensation"),
)
Index("ix_sale_refunds_sale", sale_refunds.c.sale_id)

sale_refund_items = Table(
    "sale_refund_items",
    metadata,
    Column("refund_id", Integer, ForeignKey("sale_refunds.id", ondelete="CASCADE"), nullable=False),
    Column("line_no", Integer, nullable=False),
    Column("quantity", QTY, nullable=False),
    Column("amount", MONEY, nullable=False),
    Column("vat", MONEY, nullable=False),
    Column("emarks", JSON, nullable=True),
    PrimaryKeyConstraint("refund_id", "line_no", name="pk_sale_refund_items"),
)

prepayments = Table(
    "prepayments",
    metadata,
    *_document_columns(),
    Column("entity_id", Integer, nullable=False),
    Column("buyer", JSON, nullable=False),
    Column("buyer_tin", String(16), nullable=True),
    Column("customer_ref", String(320), nullable=False),
    _money("cash"),
    _money("non_cash"),
    _money("amount"),
)
Index("ix_prepayments_entity_customer", prepayments.c.entity_id, prepayments.c.customer_ref)

prepayment_usages = Table(
    "prepayment_usages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("entity_id", Integer, nullable=False),
    Column("prepayment_id", Integer, ForeignKey("prepayments.id"), nullable=False),
    Column("sale_id", Integer, ForeignKey("sales.id", ondelete="CASCADE"), nullable=False),
    # a sale refund gives consumed prepayment back: a negative usage tied to the refund
    Column("refund_id", Integer, nullable=True),
    Column("amount", MONEY, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)
Index("ix_prepayment_usages_prepayment", prepayment_usages.c.prepayment_id)

prepayment_refunds = Table(
    "prepayment_refunds",
    metadata,
    *_document_columns(),
    Column("prepayment_id", Integer, ForeignKey("prepayments.id"), nullable=False),
    Column("reason", String(32), nullable=True),
    Column("reason_note", String(500), nullable=True),
    _money("cash"),
    _money("non_cash"),
    _money("amount"),
)
Index("ix_prepayment_refunds_prepayment", prepayment_refunds.c.prepayment_id)

exchange_rates = Table(
    "exchange_rates",
    metadata,
    Column("currency", String(3), nullable=False),
    Column("rate_date", String(10), nullable=False),  # YYYY-MM-DD (the CBA's publication date)
    Column("amount", Integer, nullable=False),  # units of the currency the rate is for (1, 10, 100…)
    Column("rate", CBA_RATE, nullable=False),  # AMD for ``amount`` units
    Column("source", String(16), nullable=False),
    Column("imported_at", BigInteger, nullable=False),
    PrimaryKeyConstraint("currency", "rate_date", name="pk_exchange_rates"),
)
