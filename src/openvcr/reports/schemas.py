"""API shapes of shift reports and of the document lists (VCR API v1 additions).

Amounts are JSON numbers in responses, like every amount of the API; the signed journal body holds them as
decimal strings (``openvcr.core.shift``).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from openvcr.documents.models import FiscalStatus
from openvcr.documents.schemas import CashierRef, ReceiptUrl
from openvcr.reports.models import ListedDocument, ShiftReport
from openvcr.schemas import ApiModel, MoneyOut, OutModel, iso_ms


class ReportCreate(ApiModel):
    """``POST /reports/x`` and ``/reports/z``: the cashier who takes the report (optional)."""

    cashier: CashierRef | None = None


class KindTotal(OutModel):
    count: int
    total: MoneyOut


class DocumentTotals(OutModel):
    sale: KindTotal
    sale_refund: KindTotal
    prepayment: KindTotal
    prepayment_refund: KindTotal


class SaleTenders(OutModel):
    cash: MoneyOut
    non_cash: MoneyOut
    prepayment: MoneyOut
    compensation: MoneyOut
    change: MoneyOut


class RefundTenders(OutModel):
    cash: MoneyOut
    non_cash: MoneyOut
    prepayment: MoneyOut
    compensation: MoneyOut


class PrepaymentTenders(OutModel):
    cash: MoneyOut
    non_cash: MoneyOut


class Tenders(OutModel):
    sale: SaleTenders
    sale_refund: RefundTenders
    prepayment: PrepaymentTenders
    prepayment_refund: PrepaymentTenders


class RegimeTotals(OutModel):
    sales: MoneyOut
    sales_vat: MoneyOut
    refunds: MoneyOut
    refunds_vat: MoneyOut


class VatTotals(OutModel):
    sales: MoneyOut
    refunds: MoneyOut


class RefundTotals(OutModel):
    count: int
    total: MoneyOut


class PrepaymentTotals(OutModel):
    taken: MoneyOut = Field(description="Prepayments received in the shift")
    used: MoneyOut = Field(description="Prepayment drawn by the shift's sales")
    returned: MoneyOut = Field(description="Prepayment given back to the ledger by the shift's sale refunds")
    refunded: MoneyOut = Field(description="Prepayments paid back to buyers in the shift")


class EntryRange(OutModel):
    count: int = Field(description="Documents in the shift")
    first: int | None = Field(description="Journal number of the shift's first document")
    last: int | None = Field(description="Journal number of the shift's last document")


class ReceiptRange(OutModel):
    first: int | None = Field(description="SRC receipt number of the shift's first document")
    last: int | None = Field(description="SRC receipt number of the shift's last document")


class ReportTotals(OutModel):
    documents: DocumentTotals
    tenders: Tenders
    net_cash: MoneyOut = Field(description="Cash taken minus change and cash paid back (may be negative)")
    tax_regimes: dict[str, RegimeTotals] = Field(description="By tax regime (vat, vat_exempt …, unspecified)")
    vat: VatTotals
    refunds: RefundTotals
    prepayments: PrepaymentTotals
    entries: EntryRange
    receipts: ReceiptRange

    @classmethod
    def of(cls, totals: dict[str, Any]) -> ReportTotals:
        return cls.model_validate(totals)


class ReportOut(OutModel):
    id: int
    type: Literal["x", "z"]
    shift: int = Field(description="The shift's number (1, 2, 3 … per register)")
    closes_shift: bool = Field(description="True for a Z report")
    url_id: str
    cashier_id: int | None
    journal_number: int = Field(description="The report's own entry in the register's journal")
    opened_at: str | None = Field(description="Time of the shift's first document (null: empty shift)")
    created_at: str
    pdf_url: str = Field(description="The printable report (API key required)")
    totals: ReportTotals

    @classmethod
    def of(cls, report: ShiftReport) -> ReportOut:
        return cls(
            id=report.id,
            type=report.type,
            shift=report.shift,
            closes_shift=report.type == "z",
            url_id=report.url_id,
            cashier_id=report.cashier_id,
            journal_number=report.journal_number,
            opened_at=None if report.opened_at is None else iso_ms(report.opened_at),
            created_at=iso_ms(report.created_at),
            pdf_url=f"/api/v1/reports/{report.id}.pdf",
            totals=ReportTotals.of(report.totals),
        )


class ReportPage(OutModel):
    items: list[ReportOut]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null on the last page")


class ListedDocumentOut(OutModel):
    id: int
    url_id: str
    receipt_url: ReceiptUrl
    total: MoneyOut
    state: FiscalStatus
    created_at: str
    receipt_id: int | None = Field(description="SRC receipt number (null until fiscalized)")
    sale_id: int | None = Field(default=None, description="A sale refund's sale")
    prepayment_id: int | None = Field(default=None, description="A prepayment refund's prepayment")

    @classmethod
    def of(cls, row: ListedDocument, receipt_url: str | None) -> ListedDocumentOut:
        return cls(
            id=row.id,
            url_id=row.url_id,
            receipt_url=receipt_url,
            total=row.total,
            state=row.state,
            created_at=iso_ms(row.created_at),
            receipt_id=int(row.receipt["srcId"]) if row.receipt else None,
            sale_id=row.parent_id if row.kind == "sale_refund" else None,
            prepayment_id=row.parent_id if row.kind == "prepayment_refund" else None,
        )


class DocumentPage(OutModel):
    items: list[ListedDocumentOut]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null on the last page")
