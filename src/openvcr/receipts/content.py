"""What a receipt says, as texts in one language: the content that the PDF and the e-mail lay out.

Rules:
- Built from the receipt page's view (``service.ReceiptDocument``) with the page's texts (``i18n``) and
  formatting helpers (``render``: amounts with a thin space between thousands, Yerevan time, unit names), so
  the PDF and the e-mail say what the page says.
- The business name is SRC's ``taxpayer`` of the receipt; the fiscal number, CRN, SN and TIN are SRC's.
"""

from __future__ import annotations

from dataclasses import dataclass

from openvcr.receipts.i18n import DEFAULT_LANGUAGE, STRINGS
from openvcr.receipts.render import amount, localized, page_line, rate, tax_line, yerevan_time
from openvcr.receipts.service import ReceiptDocument


@dataclass(frozen=True)
class ContentLine:
    title: str
    quantity: str  # "2 pc" in the language's unit name
    price: str
    total: str
    notes: tuple[str, ...]  # discounts


@dataclass(frozen=True)
class ReceiptContent:
    """A receipt's texts in ``language``."""

    language: str
    kind: str
    title: str  # "Sales receipt"
    business: str  # SRC's taxpayer name
    address: str
    fields: tuple[tuple[str, str], ...]  # (label, value): TIN, CRN, SN, receipt No., fiscal No., time, refund of
    fiscal: str
    receipt_id: str
    time: str
    headings: tuple[str, str, str, str]  # item, quantity, price, amount
    lines: tuple[ContentLine, ...]
    total_label: str
    total: str
    payments: tuple[tuple[str, str], ...]
    change: tuple[str, str] | None  # sales only
    qr_label: str
    qr: str | None  # SRC's QR text
    verification: str  # "Fiscal journal · Entry No. 3: Verified …"
    verified: bool
    taxes: tuple[tuple[str, str], ...] = ()  # ("incl. VAT 20%", "3 333.33") or ("Without VAT (turnover tax)", …)
    watermark: str | None = None  # a sandbox register's receipt: "TEST — NOT A FISCAL RECEIPT"


def receipt_content(document: ReceiptDocument, language: str) -> ReceiptContent:
    """The texts of ``document`` in ``language`` (hy, ru or en)."""
    t = STRINGS[language]
    receipt = document.receipt
    time = yerevan_time(receipt["time"])
    fiscal = str(receipt.get("fiscal") or "")
    fields = [
        (t["tin"], str(receipt.get("tin") or "")),
        (t["crn"], str(receipt.get("crn") or "")),
        (t["sn"], str(receipt.get("sn") or "")),
        (t["receipt_id"], str(receipt["srcId"])),
    ]
    if fiscal:
        fields.append((t["fiscal"], fiscal))
    fields.append((t["time"], time))
    if document.cashier is not None:
        fields.append((t["cashier"], f"{localized(document.cashier.name, language)} (№ {document.cashier.number})"))
    if document.buyer_tin:
        fields.append((t["buyer_tin"], document.buyer_tin))
    if document.currency is not None:
        fields.append((t["currency"], document.currency.code))
        fields.append((t["rate"], f"1 {document.currency.code} = {rate(document.currency.rate)} AMD"))
    if document.refund_of is not None:
        fields.append((t["refund_of"], str(document.refund_of)))
    lines = []
    for line in document.lines:
        shown = page_line(line, language, t, document.currency)
        notes = []
        if shown["discount"]:
            notes.append(f"{t['discount']}: {shown['discount']}")
        if shown["additional_discount"]:
            notes.append(f"{t['additional_discount']}: {shown['additional_discount']}")
        if shown["foreign_price"]:
            notes.append(f"{t['price']}: {shown['foreign_price']}")
        lines.append(
            ContentLine(
                title=shown["title"],
                quantity=f"{shown['quantity']} {shown['unit']}",
                price=shown["price"] or "",
                total=shown["total"],
                notes=tuple(notes),
            )
        )
    verification = document.verification
    status = t["journal"]
    if verification.number:
        status += f" · {t['journal_entry']} {verification.number}"
    if verification.ok:
        status += f": {t['verified']}"
    else:
        status += f": {t['not_verified']}"
        if verification.reason:
            status += f" — {t['reason_' + verification.reason]}"
    is_prepayment = document.kind in ("prepayment", "prepayment_refund")
    return ReceiptContent(
        language=language,
        kind=document.kind,
        title=t[document.kind],
        business=str(receipt.get("taxpayer") or ""),
        address=str(receipt.get("address") or ""),
        fields=tuple(fields),
        fiscal=fiscal,
        receipt_id=str(receipt["srcId"]),
        time=time,
        headings=(t["item"], t["quantity"], t["price"], t["amount"]),
        lines=tuple(lines),
        total_label=t["prepayment_amount"] if is_prepayment else t["total"],
        total=amount(document.total),
        payments=tuple((t[label], amount(value)) for label, value in document.payments),
        change=(t["change"], amount(document.change)) if document.kind == "sale" else None,
        qr_label=t["qr"],
        qr=str(receipt["qr"]) if receipt.get("qr") else None,
        verification=status,
        verified=verification.ok,
        taxes=tuple((shown["label"], shown["value"]) for shown in (tax_line(tax, t) for tax in document.taxes)),
        watermark=t["watermark"] if document.sandbox else None,
    )


def page_url(public_url: str, url_id: str, language: str) -> str:
    """The address of the receipt page of ``url_id`` in ``language`` under the service's public URL."""
    query = "" if language == DEFAULT_LANGUAGE else f"?lang={language}"
    return f"{public_url.rstrip('/')}/r/{url_id}{query}"
