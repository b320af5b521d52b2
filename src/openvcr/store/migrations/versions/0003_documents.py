"""One fiscal document table: state, key, SRC request, receipt and stored response move to ``documents``.

Every row of ``sales``, ``sale_refunds``, ``prepayments`` and ``prepayment_refunds`` gets a ``documents``
row with its common columns (a completed row → ``completed``; a pending one → ``sent`` when its SRC request
was persisted, else ``pending``: recovery settles both) and keeps its own id; its SRC request is re-keyed
``document:<id>``. Idempotency keys move onto
their documents (request hash and stored response); ``idempotency_keys`` goes. Registers gain
``late_fiscalization`` (off). The journal is not touched.

Revision ID: 0003
Revises: 0002
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

KINDS = (
    ("sale", "sales"),
    ("sale_refund", "sale_refunds"),
    ("prepayment", "prepayments"),
    ("prepayment_refund", "prepayment_refunds"),
)
MOVED = (
    "url_id",
    "document_key",
    "state",
    "cashier_id",
    "receipt_email",
    "receipt_language",
    "src_request",
    "receipt",
    "created_at",
    "completed_at",
)


def _moved_columns() -> list[sa.Column[Any]]:
    return [
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
    ]


def _documents_table() -> sa.TableClause:
    return sa.table(
        "documents",
        sa.column("id", sa.Integer()),
        sa.column("register_id", sa.Integer()),
        sa.column("kind", sa.String()),
        sa.column("document_key", sa.String()),
        sa.column("request_hash", sa.String()),
        sa.column("state", sa.String()),
        sa.column("url_id", sa.String()),
        sa.column("cashier_id", sa.Integer()),
        sa.column("receipt_email", sa.String()),
        sa.column("receipt_language", sa.String()),
        sa.column("src_request", sa.JSON()),
        sa.column("receipt", sa.JSON()),
        sa.column("response", sa.Text()),
        sa.column("error", sa.Text()),
        sa.column("created_at", sa.BigInteger()),
        sa.column("updated_at", sa.BigInteger()),
        sa.column("completed_at", sa.BigInteger()),
    )


def _kind_table(name: str, *, with_moved: bool) -> sa.TableClause:
    columns = [
        sa.column("id", sa.Integer()),
        sa.column("register_id", sa.Integer()),
        sa.column("document_id", sa.Integer()),
    ]
    if with_moved:
        columns += [sa.column(c.name, c.type) for c in _moved_columns()]
    return sa.table(name, *columns)


def upgrade() -> None:
    op.add_column("registers", sa.Column("late_fiscalization", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "documents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("register_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("document_key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("url_id", sa.String(length=32), nullable=False),
        sa.Column("cashier_id", sa.Integer(), nullable=False),
        sa.Column("receipt_email", sa.String(length=320), nullable=True),
        sa.Column("receipt_language", sa.String(length=2), nullable=True),
        sa.Column("src_request", sa.JSON(), nullable=True),
        sa.Column("receipt", sa.JSON(), nullable=True),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("completed_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["register_id"], ["registers.id"], name=op.f("fk_documents_register_id_registers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        sa.UniqueConstraint("register_id", "document_key", name="uq_documents_register_key"),
        sa.UniqueConstraint("url_id", name=op.f("uq_documents_url_id")),
    )
    op.create_index("ix_documents_register_state", "documents", ["register_id", "state"], unique=False)
    op.create_index("ix_documents_created", "documents", ["created_at"], unique=False)
    for _kind, table in KINDS:
        op.add_column(table, sa.Column("document_id", sa.Integer(), nullable=True))

    bind = op.get_bind()
    documents = _documents_table()
    sent_keys = {
        row[0] for row in bind.execute(sa.text("SELECT document_key FROM src_requests WHERE document_key IS NOT NULL"))
    }
    for kind, name in KINDS:
        detail = _kind_table(name, with_moved=True)
        for row in bind.execute(sa.select(detail).order_by(detail.c.id)).all():
            state = row.state
            if state != "completed":
                state = "sent" if row.document_key in sent_keys else "pending"
            document_id = bind.execute(
                sa.insert(documents)
                .values(
                    register_id=row.register_id,
                    kind=kind,
                    document_key=row.document_key,
                    state=state,
                    url_id=row.url_id,
                    cashier_id=row.cashier_id,
                    receipt_email=row.receipt_email,
                    receipt_language=row.receipt_language,
                    src_request=row.src_request,
                    receipt=row.receipt,
                    created_at=row.created_at,
                    updated_at=row.completed_at or row.created_at,
                    completed_at=row.completed_at,
                )
                .returning(documents.c.id)
            ).scalar_one()
            bind.execute(sa.update(detail).where(detail.c.id == row.id).values(document_id=document_id))
            # The SRC request of a document is keyed by the document's id (its key may be released later).
            bind.execute(
                sa.text("UPDATE src_requests SET document_key = :new WHERE document_key = :old"),
                {"new": f"document:{document_id}", "old": row.document_key},
            )
    keys = sa.table(
        "idempotency_keys",
        sa.column("register_id", sa.Integer()),
        sa.column("key", sa.String()),
        sa.column("route", sa.String()),
        sa.column("request_hash", sa.String()),
        sa.column("state", sa.String()),
        sa.column("response", sa.Text()),
    )
    for key in bind.execute(sa.select(keys)).all():
        bind.execute(
            sa.update(documents)
            .where(
                documents.c.register_id == key.register_id,
                documents.c.document_key == f"{key.route}:{key.register_id}:key:{key.key}",
            )
            .values(request_hash=key.request_hash, response=key.response if key.state == "done" else None)
        )
    op.drop_index("ix_idempotency_keys_created", table_name="idempotency_keys")
    op.drop_table("idempotency_keys")

    op.drop_index("ix_sales_register_state", table_name="sales")
    op.create_index("ix_sales_register", "sales", ["register_id"], unique=False)
    for _kind, table in KINDS:
        with op.batch_alter_table(table) as batch:
            batch.alter_column("document_id", existing_type=sa.Integer(), nullable=False)
            batch.create_unique_constraint(op.f(f"uq_{table}_document_id"), ["document_id"])
            batch.create_foreign_key(op.f(f"fk_{table}_document_id_documents"), "documents", ["document_id"], ["id"])
            batch.drop_constraint(op.f(f"uq_{table}_document_key"), type_="unique")
            batch.drop_constraint(op.f(f"uq_{table}_url_id"), type_="unique")
            for column in MOVED:
                batch.drop_column(column)


def downgrade() -> None:
    bind = op.get_bind()
    for _kind, table in KINDS:
        with op.batch_alter_table(table) as batch:
            for column in _moved_columns():
                batch.add_column(sa.Column(column.name, column.type, nullable=True))
    documents = _documents_table()
    for _kind, name in KINDS:
        detail = _kind_table(name, with_moved=True)
        rows = bind.execute(
            sa.select(detail.c.id.label("detail_id"), documents).join(documents, documents.c.id == detail.c.document_id)
        ).all()
        for row in rows:
            state = row.state if row.state in ("completed", "pending") else "pending"
            bind.execute(
                sa.update(detail)
                .where(detail.c.id == row.detail_id)
                .values(
                    url_id=row.url_id,
                    document_key=row.document_key,
                    state=state,
                    cashier_id=row.cashier_id,
                    receipt_email=row.receipt_email,
                    receipt_language=row.receipt_language,
                    src_request=row.src_request or {},
                    receipt=row.receipt,
                    created_at=row.created_at,
                    completed_at=row.completed_at,
                )
            )
            bind.execute(
                sa.text("UPDATE src_requests SET document_key = :old WHERE document_key = :new"),
                {"new": f"document:{row.id}", "old": row.document_key},
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
    for _kind, table in KINDS:
        with op.batch_alter_table(table) as batch:
            for column in _moved_columns():
                if not column.nullable:
                    batch.alter_column(column.name, existing_type=column.type, nullable=False)
            batch.create_unique_constraint(op.f(f"uq_{table}_document_key"), ["document_key"])
            batch.create_unique_constraint(op.f(f"uq_{table}_url_id"), ["url_id"])
            batch.drop_constraint(op.f(f"fk_{table}_document_id_documents"), type_="foreignkey")
            batch.drop_constraint(op.f(f"uq_{table}_document_id"), type_="unique")
            batch.drop_column("document_id")
    op.drop_index("ix_sales_register", table_name="sales")
    op.create_index("ix_sales_register_state", "sales", ["register_id", "state"], unique=False)
    op.drop_index("ix_documents_created", table_name="documents")
    op.drop_index("ix_documents_register_state", table_name="documents")
    op.drop_table("documents")
    op.drop_column("registers", "late_fiscalization")
