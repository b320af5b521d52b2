"""SQL of shift reports and of the document lists.

Rules:
- ``lock_journal`` takes the register's journal head row ``FOR UPDATE`` (PostgreSQL; SQLite's writer holds
  the whole database): a report's totals are read and its entry appended with no other entry in between, and
  two reports of one register are made one after the other.
- A report's ``documents`` row is inserted ``completed`` (it is never sent to SRC); a duplicate document key
  raises ``IntegrityError`` like any document's.
- Lists read one register's rows, newest first by ``(documents.created_at, id)``, strictly after the cursor.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Select, Table, and_, func, insert, or_, select, update

from openvcr.core.canonical import parse
from openvcr.core.shift import Z_REPORT
from openvcr.documents.models import DocumentState, FiscalStatus, RequestKey
from openvcr.documents.repository import new_url_id
from openvcr.reports.models import Cursor, ListedDocument, ListKind, Period, ReportType, ShiftReport
from openvcr.store.db import now_ms
from openvcr.store.schema.documents import documents
from openvcr.store.schema.journal import journal_entries, journal_heads
from openvcr.store.schema.reports import shift_reports
from openvcr.store.schema.sales import prepayment_refunds, sale_refunds, sales

NO_CASHIER = 0
"""``documents.cashier_id`` of a report taken without naming a cashier."""


def lock_journal(conn: Connection, register_id: int) -> int:
    """Lock the register's journal head until commit; return how many Z reports its journal holds."""
    row = conn.execute(
        select(journal_heads.c.counters).where(journal_heads.c.register_id == register_id).with_for_update()
    ).first()
    if row is None:
        return 0
    by_type = parse(row.counters).get("by_type", {})
    return int(by_type.get(Z_REPORT, 0))


def last_z_number(conn: Connection, register_id: int) -> int:
    """The journal number of the register's last Z report (0: none yet)."""
    number = conn.execute(
        select(func.max(journal_entries.c.number)).where(
            journal_entries.c.register_id == register_id, journal_entries.c.doc_type == Z_REPORT
        )
    ).scalar()
    return 0 if number is None else int(number)


def insert_document(conn: Connection, register_id: int, kind: str, key: RequestKey, cashier_id: int | None) -> int:
    """A report's ``completed`` document row; its id."""
    now = now_ms()
    return int(
        conn.execute(
            insert(documents)
            .values(
                register_id=register_id,
                kind=kind,
                document_key=key.document_key,
                request_hash=key.request_hash,
                state=DocumentState.COMPLETED.value,
                url_id=new_url_id(),
                cashier_id=NO_CASHIER if cashier_id is None else cashier_id,
                created_at=now,
                updated_at=now,
                completed_at=now,
            )
            .returning(documents.c.id)
        ).scalar_one()
    )


def insert_report(
    conn: Connection,
    register_id: int,
    document_id: int,
    report_type: ReportType,
    shift: int,
    next_number: int,
    first_number: int | None,
    last_number: int | None,
    opened_at: int | None,
    created_at: int,
) -> int:
    """The report's row (its totals are set by ``set_totals`` once its id is in them); its id."""
    return int(
        conn.execute(
            insert(shift_reports)
            .values(
                document_id=document_id,
                register_id=register_id,
                type=report_type,
                shift=shift,
                journal_number=next_number,
                first_number=first_number,
                last_number=last_number,
                opened_at=opened_at,
                totals={},
                created_at=created_at,
            )
            .returning(shift_reports.c.id)
        ).scalar_one()
    )


def finish_report(
    conn: Connection, report_id: int, document_id: int, journal_number: int, totals: dict[str, Any], response: bytes
) -> None:
    """Record the report's journal entry number and totals, and its document's stored response."""
    conn.execute(
        update(shift_reports)
        .where(shift_reports.c.id == report_id)
        .values(journal_number=journal_number, totals=totals)
    )
    conn.execute(update(documents).where(documents.c.id == document_id).values(response=response.decode("utf-8")))


_REPORT_COLUMNS = (
    *shift_reports.c,
    documents.c.url_id,
    documents.c.cashier_id,
)


def _report(row: Any) -> ShiftReport:
    return ShiftReport(
        id=int(row.id),
        register_id=int(row.register_id),
        type=row.type,
        shift=int(row.shift),
        url_id=row.url_id,
        cashier_id=None if int(row.cashier_id) == NO_CASHIER else int(row.cashier_id),
        journal_number=int(row.journal_number),
        first_number=None if row.first_number is None else int(row.first_number),
        last_number=None if row.last_number is None else int(row.last_number),
        opened_at=None if row.opened_at is None else int(row.opened_at),
        totals=dict(row.totals),
        created_at=int(row.created_at),
    )


def _reports() -> Select[Any]:
    return select(*_REPORT_COLUMNS).select_from(
        shift_reports.join(documents, documents.c.id == shift_reports.c.document_id)
    )


def get_report(conn: Connection, register_id: int, report_id: int) -> ShiftReport | None:
    row = conn.execute(
        _reports().where(shift_reports.c.id == report_id, shift_reports.c.register_id == register_id)
    ).first()
    return None if row is None else _report(row)


def report_of_document(conn: Connection, document_id: int) -> ShiftReport | None:
    row = conn.execute(_reports().where(shift_reports.c.document_id == document_id)).first()
    return None if row is None else _report(row)


def _window(query: Select[Any], created: Any, ident: Any, period: Period, after: Cursor | None) -> Select[Any]:
    if period.from_ms is not None:
        query = query.where(created >= period.from_ms)
    if period.to_ms is not None:
        query = query.where(created < period.to_ms)
    if after is not None:
        query = query.where(or_(created < after.created_at, and_(created == after.created_at, ident < after.id)))
    return query.order_by(created.desc(), ident.desc())


def list_reports(
    conn: Connection,
    register_id: int,
    report_type: ReportType | None,
    period: Period,
    after: Cursor | None,
    limit: int,
) -> list[ShiftReport]:
    """Up to ``limit`` reports of the register, newest first, after ``after``."""
    query = _reports().where(shift_reports.c.register_id == register_id)
    if report_type is not None:
        query = query.where(shift_reports.c.type == report_type)
    query = _window(query, shift_reports.c.created_at, shift_reports.c.id, period, after)
    return [_report(row) for row in conn.execute(query.limit(limit))]


_LISTS: dict[str, tuple[Table, str, str | None]] = {
    "sale": (sales, "total", None),
    "sale_refund": (sale_refunds, "total", "sale_id"),
    "prepayment_refund": (prepayment_refunds, "amount", "prepayment_id"),
}


def list_documents(
    conn: Connection,
    register_id: int,
    kind: ListKind,
    states: Sequence[FiscalStatus] | None,
    period: Period,
    after: Cursor | None,
    limit: int,
) -> list[ListedDocument]:
    """Up to ``limit`` documents of ``kind`` of the register (in ``states``), newest first, after ``after``."""
    table, total, parent = _LISTS[kind]
    columns = [table.c.id, table.c[total].label("total")]
    if parent is not None:
        columns.append(table.c[parent].label("parent_id"))
    query = (
        select(
            *columns,
            documents.c.url_id,
            documents.c.state,
            documents.c.created_at,
            documents.c.receipt,
            documents.c.receipt_language,
        )
        .select_from(table.join(documents, documents.c.id == table.c.document_id))
        .where(table.c.register_id == register_id)
    )
    if states is not None:
        query = query.where(documents.c.state.in_(list(states)))
    query = _window(query, documents.c.created_at, table.c.id, period, after)
    return [
        ListedDocument(
            id=int(row.id),
            kind=kind,
            url_id=row.url_id,
            state=row.state,
            total=Decimal(row.total),
            created_at=int(row.created_at),
            receipt=row.receipt,
            receipt_language=row.receipt_language,
            parent_id=int(row.parent_id) if parent is not None else None,
        )
        for row in conn.execute(query.limit(limit))
    ]
