"""The two document kinds of this package for ``openvcr.documents``: ``sale`` and ``sale_refund``.

Rules:
- A sale's completion creates the new offers it declared (or reuses one created meanwhile under the same
  ``externalId``) and journals the sale (counters: sales total and VAT).
- A sale refund's completion gives prepayment it returns back to the ledger and journals the refund.
- Dropping undoes the draft's effects: a sale's prepayment holds are released; a refund's reserved
  quantities and amounts go back to the sale's lines. The detail rows stay, under their dropped document.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Connection, delete, select, update

from openvcr.authority.gateway import Receipt
from openvcr.catalog import repository as catalog_repo
from openvcr.catalog.models import OfferTitle
from openvcr.catalog.service import OfferSpec, create_offer_in
from openvcr.core.journal import CountersDelta
from openvcr.documents.engine import src_summary
from openvcr.documents.models import Document, JournalBody
from openvcr.prepayments.ledger import return_prepayment
from openvcr.sales.schemas import SaleCreated, SaleRefundCreated
from openvcr.store.schema.sales import prepayment_usages, sale_items, sale_refund_items, sale_refunds, sales


class SaleKind:
    name = "sale"
    api_type = "sale"
    status_path = "/api/v1/sales/{id}"
    table = sales

    def complete(self, conn: Connection, document: Document, detail_id: int, receipt: Receipt) -> JournalBody:
        row = conn.execute(select(sales).where(sales.c.id == detail_id)).one()
        created: dict[str, int] = {}
        for spec in row.offers_to_create or []:
            existing = catalog_repo.find_offer(conn, row.register_id, external_id=spec["externalId"])
            offer = existing or create_offer_in(
                conn,
                row.register_id,
                OfferSpec(
                    type=spec["type"],
                    classifier_code=spec["classifierCode"],
                    title=OfferTitle.from_json(spec["title"]),
                    unit=spec["unit"],
                    department_id=int(spec["departmentId"]),
                    external_id=spec["externalId"],
                ),
            )
            created[spec["externalId"]] = offer.id
        items = conn.execute(
            select(sale_items).where(sale_items.c.sale_id == detail_id).order_by(sale_items.c.line_no)
        ).all()
        for item in items:
            if item.offer_id is None and item.offer.get("externalId") in created:
                conn.execute(
                    update(sale_items)
                    .where(sale_items.c.sale_id == detail_id, sale_items.c.line_no == item.line_no)
                    .values(offer_id=created[item.offer["externalId"]])
                )
        assert document.receipt is not None
        body = {
            "sale": detail_id,
            "urlId": document.url_id,
            "cashier": document.cashier_id,
            "buyerTin": row.buyer_tin,
            "currency": row.currency,
            "exchangeRate": row.exchange_rate,
            "total": row.total,
            "vat": row.vat,
            "cash": row.cash,
            "nonCash": row.non_cash,
            "prepayment": row.prepayment,
            "compensation": row.compensation,
            "change": row.change,
            "items": [
                {
                    "srcId": i.line_no,
                    "classifierCode": i.offer["classifierCode"],
                    "dep": i.department["dep"],
                    "quantity": i.quantity,
                    "price": i.price,
                    "unit": i.unit,
                    "discount": i.discount,
                    "discountType": i.discount_type,
                    "additionalDiscount": i.additional_discount,
                    "additionalDiscountType": i.additional_discount_type,
                    "total": i.total,
                    "vat": i.vat,
                }
                for i in items
            ],
            "src": src_summary(document.receipt),
        }
        return JournalBody(str(detail_id), body, CountersDelta.sale(Decimal(row.total), Decimal(row.vat)))

    def drop(self, conn: Connection, document: Document, detail_id: int) -> None:
        conn.execute(delete(prepayment_usages).where(prepayment_usages.c.sale_id == detail_id))

    def created(self, conn: Connection, document: Document, detail_id: int) -> SaleCreated:
        receipt = document.receipt
        assert receipt is not None
        return SaleCreated(
            url_id=document.url_id,
            sale_id=detail_id,
            crn=receipt["crn"],
            src_receipt_id=int(receipt["srcId"]),
            fiscal=receipt.get("fiscal") or "",
        )


class SaleRefundKind:
    name = "sale_refund"
    api_type = "saleRefund"
    status_path = "/api/v1/sales/refunds/{id}"
    table = sale_refunds

    def complete(self, conn: Connection, document: Document, detail_id: int, receipt: Receipt) -> JournalBody:
        row = conn.execute(select(sale_refunds).where(sale_refunds.c.id == detail_id)).one()
        if Decimal(row.prepayment) > 0:
            return_prepayment(conn, row.sale_id, detail_id, Decimal(row.prepayment))
        lines = conn.execute(
            select(sale_refund_items)
            .where(sale_refund_items.c.refund_id == detail_id)
            .order_by(sale_refund_items.c.line_no)
        ).all()
        assert document.receipt is not None
        body = {
            "refund": detail_id,
            "sale": row.sale_id,
            "urlId": document.url_id,
            "cashier": document.cashier_id,
            "reason": row.reason,
            "total": row.total,
            "vat": row.vat,
            "cash": row.cash,
            "nonCash": row.non_cash,
            "prepayment": row.prepayment,
            "compensation": row.compensation,
            "items": [{"srcId": i.line_no, "quantity": i.quantity, "amount": i.amount, "vat": i.vat} for i in lines],
            "src": src_summary(document.receipt),
        }
        return JournalBody(str(detail_id), body, CountersDelta.sale_refund(Decimal(row.total), Decimal(row.vat)))

    def drop(self, conn: Connection, document: Document, detail_id: int) -> None:
        refund = conn.execute(select(sale_refunds).where(sale_refunds.c.id == detail_id)).one()
        for line in conn.execute(select(sale_refund_items).where(sale_refund_items.c.refund_id == detail_id)):
            conn.execute(
                update(sale_items)
                .where(sale_items.c.sale_id == refund.sale_id, sale_items.c.line_no == line.line_no)
                .values(
                    refunded_quantity=sale_items.c.refunded_quantity - line.quantity,
                    refunded_amount=sale_items.c.refunded_amount - line.amount,
                )
            )

    def created(self, conn: Connection, document: Document, detail_id: int) -> SaleRefundCreated:
        receipt = document.receipt
        assert receipt is not None
        return SaleRefundCreated(
            url_id=document.url_id,
            sale_refund_id=detail_id,
            crn=receipt.get("crn"),
            receipt_id=int(receipt["srcId"]),
            fiscal=receipt.get("fiscal"),
        )


SALE = SaleKind()
SALE_REFUND = SaleRefundKind()
