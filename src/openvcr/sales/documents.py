"""The two document kinds of this package for ``openvcr.documents``: ``sale`` and ``sale_refund``.

Rules:
- Journal bodies name each line's tax regime (``taxRegime``, a refund's from its sale line), so that shift
  reports (``openvcr.core.shift``) add up from the journal alone.
- A sale's completion creates the new offers it declared (or reuses one created meanwhile under the same
  ``externalId``) and journals the sale (counters: sales total and VAT).
- A sale refund's completion gives prepayment it returns back to the ledger and journals the refund.
- Dropping undoes the draft's effects: a sale's prepayment holds are released; a refund's reserved
  quantities and amounts go back to the sale's lines. The detail rows stay, under their dropped document.
"""

from __future__ import annotations

from sqlalchemy import Connection

from openvcr.authority.gateway import Receipt
from openvcr.catalog.service import ensure_offer_in
from openvcr.core.journal import CountersDelta
from openvcr.documents.engine import created_fields, src_summary
from openvcr.documents.models import Document, JournalBody
from openvcr.prepayments.ledger import release_holds, return_prepayment
from openvcr.sales import repository as repo
from openvcr.sales.schemas import SaleCreated, SaleRefundCreated
from openvcr.store.schema.sales import sale_refunds, sales


class SaleKind:
    name = "sale"
    api_type = "sale"
    status_path = "/api/v1/sales/{id}"
    table = sales

    def complete(self, conn: Connection, document: Document, detail_id: int, receipt: Receipt) -> JournalBody:
        sale = repo.get_sale(conn, detail_id)
        created: dict[str | None, int] = {}
        for spec in sale.offers_to_create:
            offer = ensure_offer_in(conn, sale.register_id, spec)
            created[spec.external_id] = offer.id
        items = repo.sale_lines(conn, detail_id)
        for item in items:
            if item.offer_id is None and item.offer.external_id in created:
                repo.set_line_offer(conn, detail_id, item.line_no, created[item.offer.external_id])
        assert document.receipt is not None
        body = {
            "sale": detail_id,
            "urlId": document.url_id,
            "cashier": document.cashier_id,
            "buyerTin": sale.buyer_tin,
            "currency": sale.currency,
            "exchangeRate": sale.exchange_rate,
            "total": sale.total,
            "vat": sale.vat,
            "cash": sale.cash,
            "nonCash": sale.non_cash,
            "prepayment": sale.prepayment,
            "compensation": sale.compensation,
            "change": sale.change,
            "items": [
                {
                    "srcId": i.line_no,
                    "classifierCode": i.offer.classifier_code,
                    "dep": i.department.dep,
                    "taxRegime": i.department.tax_regime,
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
        return JournalBody(str(detail_id), body, CountersDelta.sale(sale.total, sale.vat))

    def drop(self, conn: Connection, document: Document, detail_id: int) -> None:
        release_holds(conn, detail_id)

    def created(self, conn: Connection, document: Document, detail_id: int, receipt_url: str | None) -> SaleCreated:
        receipt = document.receipt
        assert receipt is not None
        return SaleCreated(
            url_id=document.url_id,
            sale_id=detail_id,
            crn=receipt["crn"],
            src_receipt_id=int(receipt["srcId"]),
            fiscal=receipt.get("fiscal") or "",
            receipt_url=receipt_url,
        )


class SaleRefundKind:
    name = "sale_refund"
    api_type = "saleRefund"
    status_path = "/api/v1/sales/refunds/{id}"
    table = sale_refunds

    def complete(self, conn: Connection, document: Document, detail_id: int, receipt: Receipt) -> JournalBody:
        refund = repo.get_refund(conn, detail_id)
        if refund.prepayment > 0:
            return_prepayment(conn, refund.sale_id, detail_id, refund.prepayment)
        lines = repo.refund_lines(conn, detail_id)
        regimes = {line.line_no: line.department.tax_regime for line in repo.sale_lines(conn, refund.sale_id)}
        assert document.receipt is not None
        body = {
            "refund": detail_id,
            "sale": refund.sale_id,
            "urlId": document.url_id,
            "cashier": document.cashier_id,
            "reason": refund.reason,
            "total": refund.total,
            "vat": refund.vat,
            "cash": refund.cash,
            "nonCash": refund.non_cash,
            "prepayment": refund.prepayment,
            "compensation": refund.compensation,
            "items": [
                {
                    "srcId": i.line_no,
                    "taxRegime": regimes.get(i.line_no),
                    "quantity": i.quantity,
                    "amount": i.amount,
                    "vat": i.vat,
                }
                for i in lines
            ],
            "src": src_summary(document.receipt),
        }
        return JournalBody(str(detail_id), body, CountersDelta.sale_refund(refund.total, refund.vat))

    def drop(self, conn: Connection, document: Document, detail_id: int) -> None:
        refund = repo.get_refund(conn, detail_id)
        repo.release_refund(conn, refund.sale_id, repo.refund_lines(conn, detail_id))

    def created(
        self, conn: Connection, document: Document, detail_id: int, receipt_url: str | None
    ) -> SaleRefundCreated:
        return SaleRefundCreated(sale_refund_id=detail_id, **created_fields(document, receipt_url))


SALE = SaleKind()
SALE_REFUND = SaleRefundKind()
