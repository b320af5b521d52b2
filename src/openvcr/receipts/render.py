"""HTML of the public receipt page (Jinja2, autoescaped) and the SRC QR code as inline SVG (segno).

Rules:
- Languages hy (default), ru, en; texts in ``receipts.i18n``; offer titles in the page language when the
  offer has it, else Armenian.
- Times are shown in Yerevan time (``Asia/Yerevan``), ``YYYY-MM-DD HH:MM:SS``.
- Amounts with two decimals and a thin space between thousands.
- The QR code encodes SRC's ``qr`` text exactly as SRC returned it; no external asset is referenced.
- A sandbox register's receipt carries a watermark in the page's language on every view and print.
- Links to the page in another language and to related receipts are relative (``PageLinks``), so the page
  works behind any path prefix and keeps the link shape it was opened with.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import segno
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from openvcr.receipts.i18n import LANGUAGES, STRINGS, UNIT_NAMES
from openvcr.receipts.service import ForeignCurrency, ReceiptDocument, ReceiptLine, TaxLine
from openvcr.sales.units import SRC_UNIT_NAMES

YEREVAN = ZoneInfo("Asia/Yerevan")
THIN_SPACE = "\u202f"

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def amount(value: Decimal) -> str:
    """``45500`` → ``45 500.00`` (thin space between thousands)."""
    return f"{value:,.2f}".replace(",", THIN_SPACE)


def quantity(value: Decimal) -> str:
    return format(value.normalize(), "f")


def rate(value: Decimal) -> str:
    """An exchange rate with at least two decimals and no trailing zeros beyond them: ``387.500000`` → ``387.50``."""
    exponent = value.normalize().as_tuple().exponent
    places = max(2, -exponent) if isinstance(exponent, int) else 2
    return f"{value:,.{places}f}".replace(",", THIN_SPACE)


def yerevan_time(time_ms: Any) -> str:
    moment = datetime.fromtimestamp(int(time_ms) / 1000, tz=YEREVAN)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def qr_svg(text: str) -> Markup:
    """SRC's QR text as an inline SVG element."""
    code = segno.make(text, error="m", micro=False)
    svg = code.svg_inline(scale=4, border=2, svgclass="qr-code", lineclass=None)
    return Markup(svg.replace("<svg ", '<svg role="img" aria-label="QR" ', 1))  # noqa: S704 - segno output


def unit_name(unit: str, language: str) -> str:
    if language == "hy":
        return SRC_UNIT_NAMES.get(unit, unit)
    return UNIT_NAMES.get(language, {}).get(unit, unit)


def _discountlocalized(value: Decimal | None, kind: str | None, t: dict[str, str]) -> str | None:
    if value is None or kind is None:
        return None
    if kind == "percent":
        return f"{quantity(value)}%"
    if kind == "price":
        return f"{amount(value)} {t['per_unit']}"
    return amount(value)


@dataclass(frozen=True)
class PageLinks:
    """Where the page's language switcher and its links to related receipts point (relative URLs)."""

    languages: dict[str, str]  # language → href of this page in it
    related: str  # format of a related receipt's href, with ``{url_id}``

    @classmethod
    def short(cls, language: str) -> PageLinks:
        """The links of ``/r/{urlId}``: ``?lang=``, and siblings under ``/r/`` in the same language."""
        return cls({code: f"?lang={code}" for code in LANGUAGES}, "{url_id}?lang=" + language)

    @classmethod
    def localized(cls, crn: str, segment: str) -> PageLinks:
        """The links of ``/{locale}/r/{crn}/{segment}``: the same shape in each language, siblings in this one."""
        crn_part, segment_part = quote(crn, safe=""), quote(segment, safe="")
        return cls({code: f"../../../{code}/r/{crn_part}/{segment_part}" for code in LANGUAGES}, "{url_id}")

    def to(self, url_id: str) -> str:
        return self.related.format(url_id=quote(url_id, safe=""))


def tax_line(tax: TaxLine, t: dict[str, str]) -> dict[str, Any]:
    if tax.vat is not None:
        return {"regime": tax.regime, "label": t["vat_included"], "value": amount(tax.vat), "base": amount(tax.amount)}
    return {
        "regime": tax.regime,
        "label": f"{t['without_vat']} ({t['regime_' + tax.regime]})",
        "value": amount(tax.amount),
        "base": amount(tax.amount),
    }


def page_line(line: ReceiptLine, language: str, t: dict[str, str], currency: ForeignCurrency | None) -> dict[str, Any]:
    foreign = None
    if line.foreign_price is not None and currency is not None:
        foreign = f"{amount(line.foreign_price)} {currency.code}"
    return {
        "title": localized(line.title, language),
        "quantity": quantity(line.quantity),
        "unit": unit_name(line.unit, language),
        "price": None if line.price is None else amount(line.price),
        "discount": _discountlocalized(line.discount, line.discount_type, t),
        "additional_discount": _discountlocalized(line.additional_discount, line.additional_discount_type, t),
        "total": amount(line.total),
        "foreign_price": foreign,
        "regime": line.tax_regime,
    }


def render_receipt(document: ReceiptDocument, language: str, links: PageLinks | None = None) -> str:
    t = STRINGS[language]
    receipt = document.receipt
    verification = document.verification
    links = links or PageLinks.short(language)
    cashier = document.cashier
    currency = document.currency
    return _templates.get_template("receipt.html").render(
        t=t,
        lang=language,
        languages=LANGUAGES,
        url_id=document.url_id,
        kind=document.kind,
        title=t[document.kind],
        receipt=receipt,
        time=yerevan_time(receipt["time"]),
        lines=[page_line(line, language, t, currency) for line in document.lines],
        total=amount(document.total),
        payments=[(t[label], amount(value)) for label, value in document.payments],
        change=amount(document.change),
        refund_of=document.refund_of,
        qr=qr_svg(str(receipt["qr"])) if receipt.get("qr") else None,
        verified=verification.ok,
        reason=None if verification.reason is None else t[f"reason_{verification.reason}"],
        entry_number=verification.number,
        sandbox=document.sandbox,
        cashier_name=None if cashier is None else localized(cashier.name, language),
        cashier_number=None if cashier is None else cashier.number,
        buyer_tin=document.buyer_tin,
        currency=None if currency is None else {"code": currency.code, "rate": rate(currency.rate)},
        taxes=[tax_line(tax, t) for tax in document.taxes],
        refund_of_href=None if document.refund_of_url_id is None else links.to(document.refund_of_url_id),
        refunds=[
            {"href": links.to(linked.url_id), "receipt_id": linked.receipt_id, "total": amount(linked.total)}
            for linked in document.refunds
        ],
        language_links=links.languages,
    )


def localized(texts: dict[str, str], language: str) -> str:
    return texts.get(language) or texts.get("multi") or texts.get("hy") or next(iter(texts.values()), "")


def render_not_found(language: str, notice: str = "not_found", links: PageLinks | None = None) -> str:
    """The page of an address without a receipt: ``not_found``, or ``awaiting`` (kept, not fiscalized yet)."""
    links = links or PageLinks.short(language)
    return _templates.get_template("not_found.html").render(
        t=STRINGS[language], lang=language, notice=notice, language_links=links.languages
    )
