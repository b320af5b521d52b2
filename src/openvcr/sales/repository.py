"""SQL of sales and sale refunds: their detail rows, lines and refund reservations. Rows leave as ``models``.

Rules:
- Reads scoped to a register take its id; the kinds of ``sales.documents`` read by detail id (the engine has
  already scoped the document).
- A refund reserves its quantities and amounts on the sale's lines when it is drafted
  (``reserve_refund``) and gives them back if its document is dropped (``release_refund``): both are one
  relative ``UPDATE`` per line, never read-modify-write.
- ``refunded_tenders`` counts every refund of the sale whose document was not dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Row, bindparam, insert, select, update

from openvcr.catalog.models import OfferTitle
from openvcr.catalog.service import OfferSpec
from openvcr.core.receipt import Tenders
from openvcr.documents.models import DocumentState
from openvcr.documents.repository import with_document
from openvcr.sales.models import (
    DepartmentSnapshot,
    OfferSnapshot,
    Sale,
    SaleDocument,
    SaleLine,
    SaleRefund,
    SaleRefundLine,
    SaleRefundView,
)
from openvcr.store.schema.documents import documents
from openvcr.store.schema.sales import sale_items, sale_refund_items, sale_refunds, sales
from openvcr.store.types import money_sum, names_no_row

# ---- rows → models ---------------------------------------------------------------------------------------


def _offer_spec(data: dict[str, Any]) -> OfferSpec:
    return OfferSpec(
        type=data["type"],
        classifier_code=data["classifierCode"],
        title=OfferTitle.from_json(data["title"]),
        unit=data["unit"],
        department_id=int(data["departmentId"]),
        external_id=data["externalId"],
    )


def _offer_spec_json(spec: OfferSpec) -> dict[str, Any]:
    return {
        "externalId": spec.external_id,
        "type": spec.type,
        "classifierCode": spec.classifier_code,
        "unit": spec.unit,
        "departmentId": spec.department_id,
        "title": spec.title.to_json(),
    }


def _emarks(value: Any) -> tuple[str, ...] | None:
    return None if value is None else tuple(str(code) for code in value)


def _sale(row: Row[Any]) -> Sale:
    return Sale(
        id=row.id,
        document_id=row.document_id,
        register_id=row.register_id,
        entity_id=row.entity_id,
        buyer_tin=row.buyer_tin,
        customer_ref=row.customer_ref,
        comment=row.comment,
        currency=row.currency,
        exchange_rate=row.exchange_rate,
        total=row.total,
        vat=row.vat,
        cash=row.cash,
        non_cash=row.non_cash,
        prepayment=row.prepayment,
        compensation=row.compensation,
        change=row.change,
        offers_to_create=tuple(_offer_spec(spec) for spec in row.offers_to_create or []),
    )


def _sale_line(row: Row[Any]) -> SaleLine:
    return SaleLine(
        line_no=row.line_no,
        offer_id=row.offer_id,
        offer=OfferSnapshot.from_json(row.offer),
        department_id=row.department_id,
        department=DepartmentSnapshot.from_json(row.department),
        quantity=row.quantity,
        price=row.price,
        foreign_price=row.foreign_price,
        unit=row.unit,
        discount=row.discount,
        discount_type=row.discount_type,
        additional_discount=row.additional_discount,
        additional_discount_type=row.additional_discount_type,
        total=row.total,
        vat=row.vat,
        emarks=_emarks(row.emarks),
        refunded_quantity=row.refunded_quantity,
        refunded_amount=row.refunded_amount,
    )


def _refund(row: Row[Any]) -> SaleRefund:
    return SaleRefund(
        id=row.id,
        document_id=row.document_id,
        register_id=row.register_id,
        sale_id=row.sale_id,
        reason=row.reason,
        reason_note=row.reason_note,
        total=row.total,
        vat=row.vat,
        cash=row.cash,
        non_cash=row.non_cash,
        prepayment=row.prepayment,
        compensation=row.compensation,
    )


def _refund_line(row: Row[Any]) -> SaleRefundLine:
    return SaleRefundLine(
        line_no=row.line_no, quantity=row.quantity, amount=row.amount, vat=row.vat, emarks=_emarks(row.emarks)
    )


# ---- sales -------------------------------------------------------------------------------------------------

# Statements of the hot path, built once.
_INSERT_SALE = insert(sales).returning(sales.c.id)
_INSERT_ITEMS = insert(sale_items)
_GET_SALE = select(sales).where(sales.c.id == bindparam("p_id"))
_SALE_LINES = select(sale_items).where(sale_items.c.sale_id == bindparam("p_sale")).order_by(sale_items.c.line_no)


def insert_sale(
    conn: Connection,
    *,
    document_id: int,
    register_id: int,
    entity_id: int,
    buyer: dict[str, Any] | None,
    buyer_tin: str | None,
    customer_ref: str | None,
    comment: str | None,
    currency: str | None,
    exchange_rate: Decimal | None,
    total: Decimal,
    vat: Decimal,
    paid: Tenders,
    change: Decimal,
    offers_to_create: Sequence[OfferSpec],
    lines: Sequence[SaleLine],
) -> int:
    """Insert a sale's detail row and its lines; return the sale's id."""
    values: dict[str, Any] = {
        "document_id": document_id,
        "register_id": register_id,
        "entity_id": entity_id,
        "buyer": buyer,
        "buyer_tin": buyer_tin,
        "customer_ref": customer_ref,
        "comment": comment,
        "currency": currency,
        "exchange_rate": exchange_rate,
        "total": total,
        "vat": vat,
        "cash": paid.cash,
        "non_cash": paid.non_cash,
        "prepayment": paid.prepayment,
        "compensation": paid.compensation,
        "change": change,
        "offers_to_create": [_offer_spec_json(spec) for spec in offers_to_create],
    }
    sale_id = int(conn.execute(_INSERT_SALE, values).scalar_one())
    conn.execute(_INSERT_ITEMS, [_line_values(sale_id, register_id, line) for line in lines])
    return sale_id


def _line_values(sale_id: int, register_id: int, line: SaleLine) -> dict[str, Any]:
    return {
        "sale_id": sale_id,
        "register_id": register_id,
        "line_no": line.line_no,
        "offer_id": line.offer_id,
        "offer": line.offer.to_json(),
        "department_id": line.department_id,
        "department": line.department.to_json(),
        "quantity": line.quantity,
        "price": line.price,
        "foreign_price": line.foreign_price,
        "unit": line.unit,
        "discount": line.discount,
        "discount_type": line.discount_type,
        "additional_discount": line.additional_discount,
        "additional_discount_type": line.additional_discount_type,
        "total": line.total,
        "vat": line.vat,
        "emarks": None if line.emarks is None else list(line.emarks),
    }


def get_sale(conn: Connection, sale_id: int) -> Sale:
    """The sale with this id (it must exist)."""
    return _sale(conn.execute(_GET_SALE, {"p_id": sale_id}).one())


def find_sale(conn: Connection, register_id: int, sale_id: int, *, lock: bool = False) -> SaleDocument | None:
    """The register's sale with its document, or ``None``; ``lock`` locks the sale's row (PostgreSQL
    ``FOR UPDATE``; SQLite serializes writers)."""
    if names_no_row(sale_id):
        return None
    query = with_document(sales).where(sales.c.id == sale_id, sales.c.register_id == register_id)
    if lock:
        query = query.with_for_update(of=sales)
    row = conn.execute(query).first()
    if row is None:
        return None
    return SaleDocument(
        sale=_sale(row),
        state=DocumentState(row.state),
        cashier_id=row.cashier_id,
        receipt=row.receipt,
        created_at=row.created_at,
        url_id=row.url_id,
        receipt_language=row.receipt_language,
        receipt_phone=row.receipt_phone,
    )


def sale_lines(conn: Connection, sale_id: int) -> list[SaleLine]:
    """The sale's lines in ``line_no`` order."""
    rows = conn.execute(_SALE_LINES, {"p_sale": sale_id})
    return [_sale_line(row) for row in rows]


def set_line_offer(conn: Connection, sale_id: int, line_no: int, offer_id: int) -> None:
    """Point a line sold as a new offer at the offer created for it."""
    conn.execute(
        update(sale_items)
        .where(sale_items.c.sale_id == sale_id, sale_items.c.line_no == line_no)
        .values(offer_id=offer_id)
    )


# ---- refunds -----------------------------------------------------------------------------------------------


def insert_refund(
    conn: Connection,
    *,
    document_id: int,
    register_id: int,
    sale_id: int,
    reason: str | None,
    reason_note: str | None,
    total: Decimal,
    vat: Decimal,
    split: Tenders,
    lines: Sequence[SaleRefundLine],
) -> int:
    """Insert a sale refund's detail row and its lines; return the refund's id."""
    refund_id = int(
        conn.execute(
            insert(sale_refunds)
            .values(
                document_id=document_id,
                register_id=register_id,
                sale_id=sale_id,
                reason=reason,
                reason_note=reason_note,
                total=total,
                vat=vat,
                cash=split.cash,
                non_cash=split.non_cash,
                prepayment=split.prepayment,
                compensation=split.compensation,
            )
            .returning(sale_refunds.c.id)
        ).scalar_one()
    )
    conn.execute(
        insert(sale_refund_items),
        [
            {
                "refund_id": refund_id,
                "line_no": line.line_no,
                "quantity": line.quantity,
                "amount": line.amount,
                "vat": line.vat,
                "emarks": None if line.emarks is None else list(line.emarks),
            }
            for line in lines
        ],
    )
    return refund_id


def reserve_refund(conn: Connection, sale_id: int, lines: Sequence[SaleRefundLine]) -> None:
    """Add a refund's quantities and amounts to the sale's lines (so concurrent refunds cannot over-refund)."""
    for line in lines:
        conn.execute(
            update(sale_items)
            .where(sale_items.c.sale_id == sale_id, sale_items.c.line_no == line.line_no)
            .values(
                refunded_quantity=sale_items.c.refunded_quantity + line.quantity,
                refunded_amount=sale_items.c.refunded_amount + line.amount,
            )
        )


def release_refund(conn: Connection, sale_id: int, lines: Sequence[SaleRefundLine]) -> None:
    """Give a dropped refund's quantities and amounts back to the sale's lines."""
    for line in lines:
        conn.execute(
            update(sale_items)
            .where(sale_items.c.sale_id == sale_id, sale_items.c.line_no == line.line_no)
            .values(
                refunded_quantity=sale_items.c.refunded_quantity - line.quantity,
                refunded_amount=sale_items.c.refunded_amount - line.amount,
            )
        )


def get_refund(conn: Connection, refund_id: int) -> SaleRefund:
    """The sale refund with this id (it must exist)."""
    return _refund(conn.execute(select(sale_refunds).where(sale_refunds.c.id == refund_id)).one())


def refund_lines(conn: Connection, refund_id: int) -> list[SaleRefundLine]:
    """The refund's lines in ``line_no`` order."""
    rows = conn.execute(
        select(sale_refund_items)
        .where(sale_refund_items.c.refund_id == refund_id)
        .order_by(sale_refund_items.c.line_no)
    )
    return [_refund_line(row) for row in rows]


def _refund_view(conn: Connection, row: Row[Any]) -> SaleRefundView:
    return SaleRefundView(
        refund=_refund(row),
        state=DocumentState(row.state),
        receipt=row.receipt,
        lines=tuple(refund_lines(conn, row.id)),
        url_id=row.url_id,
        receipt_language=row.receipt_language,
    )


def find_refund(conn: Connection, register_id: int, refund_id: int) -> SaleRefundView | None:
    """The register's sale refund with its document's state and receipt (any state), or ``None``."""
    if names_no_row(refund_id):
        return None
    row = conn.execute(
        with_document(sale_refunds).where(sale_refunds.c.id == refund_id, sale_refunds.c.register_id == register_id)
    ).first()
    return None if row is None else _refund_view(conn, row)


def completed_refunds(conn: Connection, sale_id: int) -> list[SaleRefundView]:
    """The sale's completed refunds with their lines, oldest first."""
    rows = conn.execute(
        with_document(sale_refunds)
        .where(sale_refunds.c.sale_id == sale_id, documents.c.state == DocumentState.COMPLETED)
        .order_by(sale_refunds.c.id)
    ).all()
    return [_refund_view(conn, row) for row in rows]


def refunded_tenders(conn: Connection, sale_id: int) -> Tenders:
    """What the sale's refunds (all but dropped ones) gave back, per tender."""
    row = conn.execute(
        select(
            money_sum(sale_refunds.c.cash),
            money_sum(sale_refunds.c.non_cash),
            money_sum(sale_refunds.c.prepayment),
            money_sum(sale_refunds.c.compensation),
        )
        .select_from(sale_refunds.join(documents, documents.c.id == sale_refunds.c.document_id))
        .where(sale_refunds.c.sale_id == sale_id, documents.c.state != DocumentState.DROPPED)
    ).one()
    return Tenders(row[0], row[1], row[2], row[3])
