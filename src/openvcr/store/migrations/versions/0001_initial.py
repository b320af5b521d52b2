"""Initial schema: foundation, SRC requests, journal, sales and prepayments, V-SDC and the outbox.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "business_entities",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tin", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_business_entities")),
        sa.UniqueConstraint("tin", name=op.f("uq_business_entities_tin")),
    )
    op.create_table(
        "exchange_rates",
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("rate_date", sa.String(length=10), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("rate", sa.Numeric(precision=18, scale=4), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("imported_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("currency", "rate_date", name="pk_exchange_rates"),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("register_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("route", sa.String(length=100), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("register_id", "key", name="pk_idempotency_keys"),
    )
    op.create_index("ix_idempotency_keys_created", "idempotency_keys", ["created_at"], unique=False)
    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.BigInteger(), nullable=False),
        sa.Column("locked_until", sa.BigInteger(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("delivered_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_messages")),
        sa.UniqueConstraint("key", name=op.f("uq_outbox_messages_key")),
    )
    op.create_index("ix_outbox_messages_status_next", "outbox_messages", ["status", "next_attempt_at"], unique=False)
    op.create_table(
        "vsdc_ca",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("cert_pem", sa.Text(), nullable=False),
        sa.Column("key_enc", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vsdc_ca")),
    )
    op.create_table(
        "outbox_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.BigInteger(), nullable=False),
        sa.Column("finished_at", sa.BigInteger(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["message_id"], ["outbox_messages.id"], name=op.f("fk_outbox_attempts_message_id_outbox_messages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_attempts")),
        sa.UniqueConstraint("message_id", "attempt", name="uq_outbox_attempts_message_attempt"),
    )
    op.create_table(
        "registers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), server_default="ehdm", nullable=False),
        sa.Column("crn", sa.String(length=32), nullable=True),
        sa.Column("sn", sa.String(length=32), nullable=True),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("trading_platform_name", sa.String(length=200), nullable=False),
        sa.Column("authority_status", sa.String(length=16), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("taxpayer_name", sa.String(length=200), nullable=True),
        sa.Column("src_seq", sa.BigInteger(), nullable=True),
        sa.Column("signing_key_enc", sa.LargeBinary(), nullable=True),
        sa.Column("public_key_pem", sa.Text(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entity_id"], ["business_entities.id"], name=op.f("fk_registers_entity_id_business_entities")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registers")),
        sa.UniqueConstraint("crn", name=op.f("uq_registers_crn")),
    )
    op.create_table(
        "vsdc_taxpayers",
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("rate_a", sa.Numeric(precision=12, scale=6), nullable=False),
        sa.Column("rate_b", sa.Numeric(precision=12, scale=6), nullable=False),
        sa.Column("rate_c", sa.Numeric(precision=12, scale=6), nullable=False),
        sa.Column("rate_d", sa.Numeric(precision=12, scale=6), nullable=False),
        sa.Column("total_invoices", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entity_id"], ["business_entities.id"], name=op.f("fk_vsdc_taxpayers_entity_id_business_entities")
        ),
        sa.PrimaryKeyConstraint("entity_id", name=op.f("pk_vsdc_taxpayers")),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("register_id", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=True),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("last_used_at", sa.BigInteger(), nullable=True),
        sa.Column("expires_at", sa.BigInteger(), nullable=True),
        sa.Column("revoked_at", sa.BigInteger(), nullable=True),
        sa.Column("replaced_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["register_id"], ["registers.id"], name=op.f("fk_api_keys_register_id_registers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )
    op.create_table(
        "cashiers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("register_id", sa.Integer(), nullable=False),
        sa.Column("desk_id", sa.String(length=32), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("pin_hash", sa.String(length=200), nullable=False),
        sa.Column("name", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["register_id"], ["registers.id"], name=op.f("fk_cashiers_register_id_registers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cashiers")),
        sa.UniqueConstraint("desk_id", name=op.f("uq_cashiers_desk_id")),
        sa.UniqueConstraint("register_id", "number", name="uq_cashiers_register_number"),
    )
    op.create_table(
        "departments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("register_id", sa.Integer(), nullable=False),
        sa.Column("dep", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=True),
        sa.Column("tax_regime", sa.String(length=20), nullable=False),
        sa.Column("title", sa.JSON(), nullable=False),
        sa.Column("confirmed_at", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["register_id"], ["registers.id"], name=op.f("fk_departments_register_id_registers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_departments")),
        sa.UniqueConstraint("register_id", "dep", name="uq_departments_register_dep"),
        sa.UniqueConstraint("register_id", "external_id", name="uq_departments_register_external_id"),
    )
    op.create_table(
        "journal_entries",
        sa.Column("register_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.Column("doc_type", sa.String(length=32), nullable=False),
        sa.Column("doc_ref", sa.String(length=100), nullable=False),
        sa.Column("time_ms", sa.BigInteger(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("counters", sa.Text(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["register_id"], ["registers.id"], name=op.f("fk_journal_entries_register_id_registers")
        ),
        sa.PrimaryKeyConstraint("register_id", "number", name="pk_journal_entries"),
        sa.UniqueConstraint("register_id", "doc_type", "doc_ref", name="uq_journal_entries_register_document"),
    )
    op.create_index("ix_journal_entries_document", "journal_entries", ["doc_type", "doc_ref"], unique=False)
    op.create_table(
        "journal_heads",
        sa.Column("register_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("counters", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["register_id"], ["registers.id"], name=op.f("fk_journal_heads_register_id_registers")),
        sa.PrimaryKeyConstraint("register_id", name=op.f("pk_journal_heads")),
    )
    op.create_table(
        "prepayments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("register_id", sa.Integer(), nullable=False),
        sa.Column("url_id", sa.String(length=32), nullable=False),
        sa.Column("document_key", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("cashier_id", sa.Integer(), nullable=False),
        sa.Column("receipt_email", sa.String(length=320), nullable=True),
        sa.Column("receipt_language", sa.String(length=2), nullable=True),
        sa.Column("src_request", sa.JSON(), nullable=False),
        sa.Column("receipt", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("completed_at", sa.BigInteger(), nullable=True),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("buyer", sa.JSON(), nullable=False),
        sa.Column("buyer_tin", sa.String(length=16), nullable=True),
        sa.Column("customer_ref", sa.String(length=320), nullable=False),
        sa.Column("cash", sa.Numeric(precision=18, scale=2), server_default="0", nullable=False),
        sa.Column("non_cash", sa.Numeric(precision=18, scale=2), server_default="0", nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(["register_id"], ["registers.id"], name=op.f("fk_prepayments_register_id_registers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prepayments")),
        sa.UniqueConstraint("document_key", name=op.f("uq_prepayments_document_key")),
        sa.UniqueConstraint("url_id", name=op.f("uq_prepayments_url_id")),
    )
    op.create_index("ix_prepayments_entity_customer", "prepayments", ["entity_id", "customer_ref"], unique=False)
    op.create_table(
        "sales",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("register_id", sa.Integer(), nullable=False),
        sa.Column("url_id", sa.String(length=32), nullable=False),
        sa.Column("document_key", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("cashier_id", sa.Integer(), nullable=False),
        sa.Column("receipt_email", sa.String(length=320), nullable=True),
        sa.Column("receipt_language", sa.String(length=2), nullable=True),
        sa.Column("src_request", sa.JSON(), nullable=False),
        sa.Column("receipt", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("completed_at", sa.BigInteger(), nullable=True),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("buyer", sa.JSON(), nullable=True),
        sa.Column("buyer_tin", sa.String(length=16), nullable=True),
        sa.Column("customer_ref", sa.String(length=320), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("exchange_rate", sa.Numeric(precision=18, scale=6), nullable=True),
        sa.Column("total", sa.Numeric(precision=18, scale=2), server_default="0", nullable=False),
        sa.Column("vat", sa.Numeric(precision=18, scale=2), server_default="0", nullable=False),
        sa.Column("cash", sa.Numeric(precision=18, scale=2), server_default="0", nullable=False),
        sa.Column("non_cash", sa.Numeric(precision=18, scale=2), server_default="0", nullable=False),
        sa.Column("prepayment", sa.Numeric(precision=18, scale=2), server_default="0", nullable=False),
        sa.Column("compensation", sa.Numeric(precision=18, scale=2), server_default="0", nullable=False),
        sa.Column("change", sa.Numeric(precision=18, scale=2), server_default="0", nullable=False),
        sa.Column("offers_to_create", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["register_id"], ["registers.id"], name=op.f("fk_sales_register_id_registers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales")),
        sa.UniqueConstraint("document_key", name=op.f("uq_sales_document_key")),
        sa.UniqueConstraint("url_id", name=op.f("uq_sales_url_id")),
    )
    op.create_index("ix_sales_register_state", "sales", ["register_id", "state"], unique=False)
    op.create_table(
        "src_requests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("register_id", sa.Integer(), nullable=False),
        sa.Column("document_key", sa.String(length=200), nullable=True),
        sa.Column("method", sa.String(length=40), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="1", nullable=False),
        sa.Column("receipt_id", sa.BigInteger(), nullable=True),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("sent_at", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["register_id"], ["registers.id"], name=op.f("fk_src_requests_register_id_registers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_src_requests")),
        sa.UniqueConstraint("document_key", name=op.f("uq_src_requests_document_key")),
    )
    op.create_index("ix_src_requests_register_receipt", "src_requests", ["register_id", "receipt_id"], unique=False)
    op.create_index("ix_src_requests_register_state", "src_requests", ["register_id", "state"], unique=False)
    op.create_table(
        "vsdc_devices",
        sa.Column("register_id", sa.Integer(), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("mcr", sa.String(length=32), nullable=False),
        sa.Column("cert_serial", sa.String(length=64), nullable=False),
        sa.Column("cert_pem", sa.Text(), nullable=False),
        sa.Column("counter_key_enc", sa.LargeBinary(), nullable=False),
        sa.Column("revoked_at", sa.BigInteger(), nullable=True),
        sa.Column("invoice_count", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("count_ns", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("count_nr", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("count_ps", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("count_pr", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("count_ts", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("count_tr", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("sales_total", sa.Numeric(precision=18, scale=2), server_default="0", nullable=False),
        sa.Column("refund_total", sa.Numeric(precision=18, scale=2), server_default="0", nullable=False),
        sa.Column("sales_tax_total", sa.Numeric(precision=18, scale=2), server_default="0", nullable=False),
        sa.Column("refund_tax_total", sa.Numeric(precision=18, scale=2), server_default="0", nullable=False),
        sa.Column("chain_head", sa.String(length=64), server_default="", nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entity_id"], ["business_entities.id"], name=op.f("fk_vsdc_devices_entity_id_business_entities")
        ),
        sa.ForeignKeyConstraint(["register_id"], ["registers.id"], name=op.f("fk_vsdc_devices_register_id_registers")),
        sa.PrimaryKeyConstraint("register_id", name=op.f("pk_vsdc_devices")),
        sa.UniqueConstraint("cert_serial", name=op.f("uq_vsdc_devices_cert_serial")),
        sa.UniqueConstraint("mcr", name=op.f("uq_vsdc_devices_mcr")),
    )
    op.create_table(
        "vsdc_invoices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("register_id", sa.Integer(), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("ino", sa.String(length=32), nullable=False),
        sa.Column("invoice_count", sa.BigInteger(), nullable=False),
        sa.Column("request_digest", sa.String(length=64), nullable=False),
        sa.Column("signed_bytes", sa.LargeBinary(), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("internal_data", sa.Text(), nullable=False),
        sa.Column("response", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entity_id"], ["business_entities.id"], name=op.f("fk_vsdc_invoices_entity_id_business_entities")
        ),
        sa.ForeignKeyConstraint(["register_id"], ["registers.id"], name=op.f("fk_vsdc_invoices_register_id_registers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vsdc_invoices")),
        sa.UniqueConstraint("register_id", "ino", name="uq_vsdc_invoices_register_ino"),
    )
    op.create_table(
        "offers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("register_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=True),
        sa.Column("type", sa.String(length=10), nullable=False),
        sa.Column("classifier_code", sa.String(length=32), nullable=False),
        sa.Column("default_measure_unit", sa.String(length=10), nullable=False),
        sa.Column("default_department_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.JSON(), nullable=False),
        sa.Column("archived_at", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["default_department_id"], ["departments.id"], name=op.f("fk_offers_default_department_id_departments")
        ),
        sa.ForeignKeyConstraint(["register_id"], ["registers.id"], name=op.f("fk_offers_register_id_registers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offers")),
        sa.UniqueConstraint("register_id", "external_id", name="uq_offers_register_external_id"),
    )
    op.create_index("ix_offers_register_type", "offers", ["register_id", "type"], unique=False)
    op.create_table(
        "prepayment_refunds",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("register_id", sa.Integer(), nullable=False),
        sa.Column("url_id", sa.String(length=32), nullable=False),
        sa.Column("document_key", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("cashier_id", sa.Integer(), nullable=False),
        sa.Column("receipt_email", sa.String(length=320), nullable=True),
        sa.Column("receipt_language", sa.String(length=2), nullable=True),
        sa.Column("src_request", sa.JSON(), nullable=False),
        sa.Column("receipt", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("completed_at", sa.BigInteger(), nullable=True),
        sa.Column("prepayment_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("reason_note", sa.String(length=500), nullable=True),
        sa.Column("cash", sa.Numeric(precision=18, scale=2), server_default="0", nullable=False),
        sa.Column("non_cash", sa.Numeric(precision=18, scale=2), server_default="0", nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["prepayment_id"], ["prepayments.id"], name=op.f("fk_prepayment_refunds_prepayment_id_prepayments")
        ),
        sa.ForeignKeyConstraint(
            ["register_id"], ["registers.id"], name=op.f("fk_prepayment_refunds_register_id_registers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prepayment_refunds")),
        sa.UniqueConstraint("document_key", name=op.f("uq_prepayment_refunds_document_key")),
        sa.UniqueConstraint("url_id", name=op.f("uq_prepayment_refunds_url_id")),
    )
    op.create_index("ix_prepayment_refunds_prepayment", "prepayment_refunds", ["prepayment_id"], unique=False)
    op.create_table(
        "prepayment_usages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("prepayment_id", sa.Integer(), nullable=False),
        sa.Column("sale_id", sa.Integer(), nullable=False),
        sa.Column("refund_id", sa.Integer(), nullable=True),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["prepayment_id"], ["prepayments.id"], name=op.f("fk_prepayment_usages_prepayment_id_prepayments")
        ),
        sa.ForeignKeyConstraint(
            ["sale_id"], ["sales.id"], name=op.f("fk_prepayment_usages_sale_id_sales"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prepayment_usages")),
    )
    op.create_index("ix_prepayment_usages_prepayment", "prepayment_usages", ["prepayment_id"], unique=False)
    op.create_table(
        "sale_items",
        sa.Column("sale_id", sa.Integer(), nullable=False),
        sa.Column("register_id", sa.Integer(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=True),
        sa.Column("offer", sa.JSON(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("department", sa.JSON(), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=18, scale=3), nullable=False),
        sa.Column("price", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("foreign_price", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("unit", sa.String(length=10), nullable=False),
        sa.Column("discount", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("discount_type", sa.String(length=8), nullable=True),
        sa.Column("additional_discount", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("additional_discount_type", sa.String(length=8), nullable=True),
        sa.Column("total", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("vat", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("emarks", sa.JSON(), nullable=True),
        sa.Column("refunded_quantity", sa.Numeric(precision=18, scale=3), server_default="0", nullable=False),
        sa.Column("refunded_amount", sa.Numeric(precision=18, scale=2), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["sale_id"], ["sales.id"], name=op.f("fk_sale_items_sale_id_sales"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("sale_id", "line_no", name="pk_sale_items"),
    )
    op.create_table(
        "sale_refunds",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("register_id", sa.Integer(), nullable=False),
        sa.Column("url_id", sa.String(length=32), nullable=False),
        sa.Column("document_key", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("cashier_id", sa.Integer(), nullable=False),
        sa.Column("receipt_email", sa.String(length=320), nullable=True),
        sa.Column("receipt_language", sa.String(length=2), nullable=True),
        sa.Column("src_request", sa.JSON(), nullable=False),
        sa.Column("receipt", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("completed_at", sa.BigInteger(), nullable=True),
        sa.Column("sale_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("reason_note", sa.String(length=500), nullable=True),
        sa.Column("total", sa.Numeric(precision=18, scale=2), server_default="0", nullable=False),
        sa.Column("vat", sa.Numeric(precision=18, scale=2), server_default="0", nullable=False),
        sa.Column("cash", sa.Numeric(precision=18, scale=2), server_default="0", nullable=False),
        sa.Column("non_cash", sa.Numeric(precision=18, scale=2), server_default="0", nullable=False),
        sa.Column("prepayment", sa.Numeric(precision=18, scale=2), server_default="0", nullable=False),
        sa.Column("compensation", sa.Numeric(precision=18, scale=2), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(["register_id"], ["registers.id"], name=op.f("fk_sale_refunds_register_id_registers")),
        sa.ForeignKeyConstraint(["sale_id"], ["sales.id"], name=op.f("fk_sale_refunds_sale_id_sales")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sale_refunds")),
        sa.UniqueConstraint("document_key", name=op.f("uq_sale_refunds_document_key")),
        sa.UniqueConstraint("url_id", name=op.f("uq_sale_refunds_url_id")),
    )
    op.create_index("ix_sale_refunds_sale", "sale_refunds", ["sale_id"], unique=False)
    op.create_table(
        "sale_refund_items",
        sa.Column("refund_id", sa.Integer(), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=18, scale=3), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("vat", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("emarks", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["refund_id"],
            ["sale_refunds.id"],
            name=op.f("fk_sale_refund_items_refund_id_sale_refunds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("refund_id", "line_no", name="pk_sale_refund_items"),
    )


def downgrade() -> None:
    op.drop_table("sale_refund_items")
    op.drop_index("ix_sale_refunds_sale", table_name="sale_refunds")
    op.drop_table("sale_refunds")
    op.drop_table("sale_items")
    op.drop_index("ix_prepayment_usages_prepayment", table_name="prepayment_usages")
    op.drop_table("prepayment_usages")
    op.drop_index("ix_prepayment_refunds_prepayment", table_name="prepayment_refunds")
    op.drop_table("prepayment_refunds")
    op.drop_index("ix_offers_register_type", table_name="offers")
    op.drop_table("offers")
    op.drop_table("vsdc_invoices")
    op.drop_table("vsdc_devices")
    op.drop_index("ix_src_requests_register_state", table_name="src_requests")
    op.drop_index("ix_src_requests_register_receipt", table_name="src_requests")
    op.drop_table("src_requests")
    op.drop_index("ix_sales_register_state", table_name="sales")
    op.drop_table("sales")
    op.drop_index("ix_prepayments_entity_customer", table_name="prepayments")
    op.drop_table("prepayments")
    op.drop_table("journal_heads")
    op.drop_index("ix_journal_entries_document", table_name="journal_entries")
    op.drop_table("journal_entries")
    op.drop_table("departments")
    op.drop_table("cashiers")
    op.drop_table("api_keys")
    op.drop_table("vsdc_taxpayers")
    op.drop_table("registers")
    op.drop_table("outbox_attempts")
    op.drop_table("vsdc_ca")
    op.drop_index("ix_outbox_messages_status_next", table_name="outbox_messages")
    op.drop_table("outbox_messages")
    op.drop_index("ix_idempotency_keys_created", table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
    op.drop_table("exchange_rates")
    op.drop_table("business_entities")
