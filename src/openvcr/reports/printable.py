"""The printable X or Z report: one content (``report_content``), rendered as HTML (``render_report_html``, a
fragment the console embeds, or a whole page) and as PDF (``render_report_pdf``, A4 or an 80 mm roll).

Rules:
- The content is the report's signed totals, labelled in hy (default), ru or en: the business, TIN, CRN and
  SN; the report's kind, shift, number, times and journal entry; then sections of (label, value) rows:
  documents (count and sum per kind), tenders, tax regimes with VAT, VAT, refunds, prepayments, and the
  shift's first and last receipt and journal entry.
- Amounts are written as on the receipt (``45 500.00``); times in Yerevan time.
- The PDF embeds the DejaVu Sans font shipped with the receipts (Armenian, Cyrillic, Latin).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.enums import Align, XPos, YPos
from jinja2 import Environment, FileSystemLoader, select_autoescape

from openvcr.receipts.pdf import FONT, LAYOUTS, MAX_ROLL_MM, PageFormat, new_pdf
from openvcr.receipts.render import amount, yerevan_time
from openvcr.registers.models import Register
from openvcr.reports.i18n import strings
from openvcr.reports.models import ShiftReport

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_KINDS = ("sale", "sale_refund", "prepayment", "prepayment_refund")


@dataclass(frozen=True)
class Section:
    title: str
    rows: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class ReportContent:
    type: str
    language: str
    title: str
    note: str
    business: str
    address: str | None
    fields: tuple[tuple[str, str], ...]
    sections: tuple[Section, ...]
    footer: str
    empty: str | None


def _money(value: Any) -> str:
    return amount(Decimal(str(value)))


def _number(value: Any) -> str:
    return "—" if value is None else str(value)


def report_content(report: ShiftReport, register: Register, language: str) -> ReportContent:
    """The labelled texts of ``report`` in ``language`` (hy, ru or en)."""
    t = strings(language)
    totals = report.totals
    fields: list[tuple[str, str]] = [
        (t["tin"], register.tin),
        (t["crn"], register.crn or "—"),
        (t["sn"], register.sn or "—"),
        (t["shift"], str(report.shift)),
        (t["report_no"], str(report.id)),
        (t["created"], yerevan_time(report.created_at)),
        (t["opened"], "—" if report.opened_at is None else yerevan_time(report.opened_at)),
        (t["journal_entry"], str(report.journal_number)),
    ]
    documents = totals["documents"]
    sections = [
        Section(
            t["documents"],
            tuple((f"{t[kind]} ({documents[kind]['count']})", _money(documents[kind]["total"])) for kind in _KINDS),
        )
    ]
    tenders = totals["tenders"]
    names = {
        "cash": t["cash"],
        "nonCash": t["non_cash"],
        "prepayment": t["prepayment_used"],
        "compensation": t["compensation"],
        "change": t["change"],
    }
    tender_rows = [
        (f"{t[kind]}: {names[name]}", _money(value))
        for kind in _KINDS
        for name, value in tenders[kind].items()
        if Decimal(str(value)) != 0
    ]
    tender_rows.append((t["net_cash"], _money(totals["netCash"])))
    sections.append(Section(t["tenders"], tuple(tender_rows)))
    regime_rows: list[tuple[str, str]] = []
    for regime, values in totals["taxRegimes"].items():
        name = t.get(f"regime_{regime}", regime)
        regime_rows += [
            (f"{name}: {t['sales']}", _money(values["sales"])),
            (f"{name}: {t['vat']}", _money(values["salesVat"])),
            (f"{name}: {t['refunds']}", _money(values["refunds"])),
            (f"{name}: {t['vat']}", _money(values["refundsVat"])),
        ]
    if regime_rows:
        sections.append(Section(t["tax_regimes"], tuple(regime_rows)))
    sections.append(
        Section(
            t["vat"],
            ((t["vat_sales"], _money(totals["vat"]["sales"])), (t["vat_refunds"], _money(totals["vat"]["refunds"]))),
        )
    )
    sections.append(
        Section(
            t["refunds"],
            ((f"{t['refunds_total']} ({totals['refunds']['count']})", _money(totals["refunds"]["total"])),),
        )
    )
    prepayments = totals["prepayments"]
    sections.append(
        Section(
            t["prepayments"],
            tuple((t[name], _money(prepayments[name])) for name in ("taken", "used", "returned", "refunded")),
        )
    )
    sections.append(
        Section(
            t["receipts"],
            (
                (t["first_receipt"], _number(totals["receipts"]["first"])),
                (t["last_receipt"], _number(totals["receipts"]["last"])),
                (t["first_entry"], _number(totals["entries"]["first"])),
                (t["last_entry"], _number(totals["entries"]["last"])),
            ),
        )
    )
    return ReportContent(
        type=report.type,
        language=language,
        title=f"{t[report.type]} № {report.id}",
        note=t[f"{report.type}_note"],
        business=register.taxpayer_name or register.entity_name,
        address=register.address,
        fields=tuple(fields),
        sections=tuple(sections),
        footer=t["signed"],
        empty=t["empty"] if totals["entries"]["count"] == 0 else None,
    )


def render_report_html(report: ShiftReport, register: Register, language: str, *, fragment: bool = False) -> str:
    """The printable report as HTML: a whole page, or (``fragment``) an ``<article>`` to embed in a page."""
    content = report_content(report, register, language)
    return _templates.get_template("report.html").render(c=content, fragment=fragment)


class _Writer:
    def __init__(self, pdf: FPDF, page: PageFormat, content: ReportContent) -> None:
        self.pdf = pdf
        self.layout = LAYOUTS[page]
        self.content = content
        self.width = self.layout.width - 2 * self.layout.margin

    def block(self, text: str, size: float, *, bold: bool = False, align: Align = Align.L) -> None:
        self.pdf.set_font(FONT, "B" if bold else "", size)
        self.pdf.multi_cell(
            self.width, size * self.layout.line_height, text, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )

    def pair(self, label: str, value: str, size: float, *, bold: bool = False) -> None:
        pdf = self.pdf
        pdf.set_font(FONT, "B" if bold else "", size)
        height = size * self.layout.line_height
        value_width = pdf.get_string_width(value) + 2.0
        if pdf.get_string_width(label) + value_width <= self.width:
            pdf.cell(self.width - value_width, height, label, new_x=XPos.RIGHT, new_y=YPos.TOP)
            pdf.cell(value_width, height, value, align=Align.R, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            return
        pdf.multi_cell(self.width, height, label, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.multi_cell(self.width, height, value, align=Align.R, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def rule(self) -> None:
        pdf = self.pdf
        pdf.ln(1)
        pdf.set_line_width(0.2)
        pdf.line(self.layout.margin, pdf.y, self.layout.margin + self.width, pdf.y)
        pdf.ln(1.5)

    def write(self) -> None:
        c, layout = self.content, self.layout
        self.block(c.business, layout.business, bold=True, align=Align.C)
        if c.address:
            self.block(c.address, layout.small, align=Align.C)
        self.pdf.ln(1.5)
        self.block(c.title, layout.title, bold=True, align=Align.C)
        self.block(c.note, layout.small, align=Align.C)
        self.rule()
        for label, value in c.fields:
            self.pair(label, value, layout.text)
        if c.empty:
            self.rule()
            self.block(c.empty, layout.text, align=Align.C)
        for section in c.sections:
            self.rule()
            self.block(section.title, layout.text, bold=True)
            for label, value in section.rows:
                self.pair(label, value, layout.text)
        self.rule()
        self.block(c.footer, layout.small, align=Align.C)


def render_report_pdf(report: ShiftReport, register: Register, language: str, page: PageFormat = "a4") -> bytes:
    """The printable report as a PDF (``a4`` or ``80mm``)."""
    content = report_content(report, register, language)
    layout = LAYOUTS[page]
    pdf = new_pdf(page, title=f"{content.title} — {content.business}", author=content.business, language=language)
    if page == "80mm":
        probe = copy.deepcopy(pdf)
        probe.add_page()
        _Writer(probe, page, content).write()
        pdf.add_page(format=(layout.width, min(MAX_ROLL_MM, probe.y + layout.margin)))
    else:
        pdf.add_page()
    _Writer(pdf, page, content).write()
    return bytes(pdf.output())
