"""PDF receipts (fpdf2): an A4 page and an 80 mm thermal-roll layout of the receipt page's content.

Rules:
- The content is ``content.receipt_content`` (the page's texts, in hy, ru or en): business name and address,
  the kind of receipt, TIN, CRN, SN, receipt number, fiscal number, time, the lines with their discounts,
  totals and payments, the SRC QR code, the journal verification status, and the link to the receipt page.
- The font is DejaVu Sans, shipped inside the package (``receipts/fonts``, licence beside it); it has the
  Armenian, Cyrillic and Latin glyphs. It is embedded as a subset with a Unicode map, so the text is
  extractable (``pdftotext`` finds the Armenian business name).
- The QR code encodes SRC's ``qr`` text exactly, drawn as vector squares (crisp on any printer).
- ``80mm``: a roll 80 mm wide with 72 mm printed, one page exactly as tall as its content. ``a4``: A4
  portrait with the lines in a table; a long receipt continues on further pages.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

import segno
from fpdf import FPDF
from fpdf.enums import Align, XPos, YPos

from openvcr.receipts.content import ReceiptContent, receipt_content
from openvcr.receipts.service import ReceiptDocument

PageFormat = Literal["a4", "80mm"]
FORMATS: Final = ("a4", "80mm")
FONT_DIR: Final = Path(__file__).parent / "fonts"
FONT: Final = "DejaVu"
MAX_ROLL_MM: Final = 5000.0  # the PDF limit is 5080 mm; a longer receipt breaks onto a second piece of roll


@dataclass(frozen=True)
class Layout:
    width: float  # page width, mm
    margin: float
    text: float  # font sizes, pt
    small: float
    business: float
    title: float
    line_height: float  # mm per pt of font size
    qr_size: float  # mm
    table: bool  # lines as a four-column table (A4) or stacked (roll)


LAYOUTS: Final[dict[str, Layout]] = {
    "a4": Layout(
        width=210, margin=20, text=10, small=8, business=15, title=13, line_height=0.5, qr_size=40, table=True
    ),
    "80mm": Layout(
        width=80, margin=4, text=8, small=6.5, business=10, title=9, line_height=0.48, qr_size=36, table=False
    ),
}


def new_pdf(page: PageFormat, *, title: str, author: str, language: str) -> FPDF:
    """An empty PDF of the page format with the shipped fonts, margins and document properties (no page yet)."""
    layout = LAYOUTS[page]
    pdf = FPDF(unit="mm", format="A4" if page == "a4" else (layout.width, MAX_ROLL_MM))
    pdf.add_font(FONT, "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.set_margins(layout.margin, layout.margin, layout.margin)
    pdf.set_auto_page_break(page == "a4", margin=layout.margin)
    pdf.set_title(title)
    pdf.set_author(author)
    pdf.set_creator("OpenVCR")
    pdf.set_lang(language)
    return pdf


def _new_pdf(content: ReceiptContent, page: PageFormat) -> FPDF:
    title = f"{content.title} № {content.receipt_id} — {content.business}"
    return new_pdf(page, title=title, author=content.business, language=content.language)


class _Writer:
    """Lays ``content`` out on ``pdf`` from the top of the current page."""

    def __init__(self, pdf: FPDF, layout: Layout, content: ReceiptContent, url: str) -> None:
        self.pdf = pdf
        self.layout = layout
        self.content = content
        self.url = url
        self.width = layout.width - 2 * layout.margin

    def font(self, size: float, bold: bool = False) -> float:
        self.pdf.set_font(FONT, "B" if bold else "", size)
        return size * self.layout.line_height

    def block(self, text: str, size: float, *, bold: bool = False, align: Align = Align.L) -> None:
        height = self.font(size, bold)
        self.pdf.multi_cell(self.width, height, text, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def pair(self, label: str, value: str, size: float, *, bold: bool = False) -> None:
        """``label`` on the left and ``value`` on the right of one line (two lines when they do not fit)."""
        height = self.font(size, bold)
        gap = 2.0
        value_width = self.pdf.get_string_width(value)
        if self.pdf.get_string_width(label) + gap + value_width <= self.width:
            self.pdf.cell(self.width - value_width - gap, height, label, new_x=XPos.RIGHT, new_y=YPos.TOP)
            self.pdf.cell(value_width + gap, height, value, align=Align.R, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            return
        self.pdf.multi_cell(self.width, height, label, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.pdf.multi_cell(self.width, height, value, align=Align.R, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def rule(self) -> None:
        pdf = self.pdf
        pdf.ln(1)
        pdf.set_line_width(0.2)
        pdf.line(self.layout.margin, pdf.y, self.layout.margin + self.width, pdf.y)
        pdf.ln(1.5)

    def lines_stacked(self) -> None:
        small = self.layout.small
        for line in self.content.lines:
            self.block(line.title, self.layout.text)
            self.pair(f"{line.quantity} × {line.price}" if line.price else line.quantity, line.total, small)
            for note in line.notes:
                self.block(note, small)

    def lines_table(self) -> None:
        pdf = self.pdf
        numbers = (28.0, 30.0, 32.0)
        item_width = self.width - sum(numbers)
        height = self.font(self.layout.small, bold=True)
        item, *rest = self.content.headings
        pdf.cell(item_width, height, item, new_x=XPos.RIGHT, new_y=YPos.TOP)
        for width, heading in zip(numbers, rest, strict=True):
            pdf.cell(width, height, heading, align=Align.R, new_x=XPos.RIGHT, new_y=YPos.TOP)
        pdf.ln(height)
        for line in self.content.lines:
            height = self.font(self.layout.text)
            text = "\n".join([line.title, *line.notes])
            needed = pdf.multi_cell(item_width, height, text, dry_run=True, output="HEIGHT")
            assert isinstance(needed, float | int)
            if pdf.will_page_break(needed):
                pdf.add_page()
            top = pdf.y
            pdf.multi_cell(item_width, height, text, new_x=XPos.RIGHT, new_y=YPos.TOP)
            pdf.set_xy(self.layout.margin + item_width, top)
            for width, value in zip(numbers, (line.quantity, line.price, line.total), strict=True):
                pdf.cell(width, height, value, align=Align.R, new_x=XPos.RIGHT, new_y=YPos.TOP)
            pdf.set_xy(self.layout.margin, top + needed + 0.8)

    def qr(self, text: str) -> None:
        pdf = self.pdf
        size = self.layout.qr_size
        if pdf.will_page_break(size + 4):
            pdf.add_page()
        code = segno.make(text, error="m", micro=False)
        rows = [list(row) for row in code.matrix_iter(border=0)]
        module = size / len(rows)
        left = self.layout.margin + (self.width - size) / 2
        top = pdf.y + 1
        pdf.set_fill_color(0, 0, 0)
        for r, row in enumerate(rows):
            start = None
            for c, dark in enumerate([*row, False]):
                if dark and start is None:
                    start = c
                elif not dark and start is not None:
                    pdf.rect(left + start * module, top + r * module, (c - start) * module, module, style="F")
                    start = None
        pdf.set_y(top + size + 1.5)
        self.block(self.content.qr_label, self.layout.small, align=Align.C)

    def write(self) -> None:
        content, layout, pdf = self.content, self.layout, self.pdf
        if content.watermark:
            self.block(content.watermark, layout.title, bold=True, align=Align.C)
            pdf.ln(1)
        self.block(content.business, layout.business, bold=True, align=Align.C)
        if content.address:
            self.block(content.address, layout.small, align=Align.C)
        pdf.ln(1.5)
        self.block(content.title, layout.title, bold=True, align=Align.C)
        self.rule()
        for label, value in content.fields:
            self.pair(label, value, layout.small if not layout.table else layout.text)
        if content.lines:
            self.rule()
            self.lines_table() if layout.table else self.lines_stacked()
        self.rule()
        self.pair(content.total_label, content.total, layout.title, bold=True)
        for label, value in content.taxes:
            self.pair(label, value, layout.small if not layout.table else layout.text)
        for label, value in content.payments:
            self.pair(label, value, layout.text)
        if content.change is not None:
            self.pair(*content.change, layout.text)
        self.rule()
        if content.qr:
            self.qr(content.qr)
        self.block(content.verification, layout.small, align=Align.C)
        pdf.ln(1)
        self.font(layout.small)
        pdf.multi_cell(self.width, layout.small * layout.line_height, self.url, align=Align.C, link=self.url)


def render_pdf(document: ReceiptDocument, language: str, page: PageFormat, url: str) -> bytes:
    """``document`` as a PDF in ``language`` (hy, ru, en) and ``page`` format; ``url`` is its receipt page."""
    content = receipt_content(document, language)
    layout = LAYOUTS[page]
    pdf = _new_pdf(content, page)
    if page == "80mm":
        probe = copy.deepcopy(pdf)  # lay it out once on a long roll to know the height
        probe.add_page()
        _Writer(probe, layout, content, url).write()
        pdf.add_page(format=(layout.width, min(MAX_ROLL_MM, probe.y + layout.margin)))
    else:
        pdf.add_page()
    _Writer(pdf, layout, content, url).write()
    return bytes(pdf.output())
