"""The receipt e-mail: plain-text and HTML parts in the buyer's language, the receipt PDF attached.

Rules:
- Content from ``content.receipt_content`` (the receipt page's texts): business name, kind of receipt, TIN,
  CRN, SN, receipt and fiscal numbers, time, lines, totals, payments; the link to the receipt page; the
  receipt as an A4 PDF in the same language (``receipt-<SRC receipt id>.pdf``).
- Languages hy (default), ru, en; the subject is "<kind> № <receipt id> — <business>".
- ``Message-ID`` is given by the caller and stays the same on every attempt of one outbox message.
- The HTML part is a Jinja2 template with autoescaping; it loads nothing from outside.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Final

from jinja2 import Environment, FileSystemLoader, select_autoescape

from openvcr.receipts.content import ReceiptContent

MAIL_STRINGS: Final[dict[str, dict[str, str]]] = {
    "hy": {
        "intro": "Շնորհակալություն։ Ձեր կտրոնը ստորև է։",
        "view": "Դիտել կտրոնը",
        "online": "Կտրոնը առցանց",
        "attached": "Կտրոնը կցված է PDF ֆայլով։",
    },
    "ru": {
        "intro": "Спасибо! Ваш чек ниже.",
        "view": "Открыть чек",
        "online": "Чек онлайн",
        "attached": "Чек приложен в виде PDF-файла.",
    },
    "en": {
        "intro": "Thank you! Your receipt is below.",
        "view": "View the receipt",
        "online": "The receipt online",
        "attached": "The receipt is attached as a PDF file.",
    },
}

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def subject(content: ReceiptContent) -> str:
    return f"{content.title} № {content.receipt_id} — {content.business}"


def plain_text(content: ReceiptContent, url: str) -> str:
    m = MAIL_STRINGS[content.language]
    out = [f"*** {content.watermark} ***", ""] if content.watermark else []
    out.append(content.business)
    if content.address:
        out.append(content.address)
    out += ["", content.title, "", m["intro"], ""]
    out += [f"{label}: {value}" for label, value in content.fields]
    if content.lines:
        out.append("")
        for line in content.lines:
            price = f" × {line.price}" if line.price else ""
            out.append(f"{line.title}: {line.quantity}{price} = {line.total}")
            out += [f"  {note}" for note in line.notes]
    out += ["", f"{content.total_label}: {content.total}"]
    out += [f"{label}: {value}" for label, value in content.taxes]
    out += [f"{label}: {value}" for label, value in content.payments]
    if content.change is not None:
        out.append(f"{content.change[0]}: {content.change[1]}")
    out += ["", f"{m['online']}: {url}", m["attached"], "", content.verification, ""]
    return "\n".join(out)


def html(content: ReceiptContent, url: str) -> str:
    return _templates.get_template("mail/receipt.html").render(
        c=content, m=MAIL_STRINGS[content.language], url=url, subject=subject(content)
    )


def address(value: str) -> Address:
    """``"Name <user@host>"`` or ``user@host`` as a header address; ``ValueError`` when it is not one."""
    name, addr_spec = parseaddr(value)
    local, _, domain = addr_spec.rpartition("@")
    if not local or not domain or any(c.isspace() or not c.isprintable() for c in addr_spec):
        raise ValueError(f"not an e-mail address: {value!r}")
    # by parts: an internationalized local part (sent with SMTPUTF8) is refused by ``addr_spec=``
    return Address(display_name=name, username=local, domain=domain)


def compose(
    content: ReceiptContent,
    url: str,
    pdf: bytes,
    *,
    sender: str,
    recipient: str,
    message_id: str,
    reply_to: str | None = None,
    now: datetime | None = None,
) -> EmailMessage:
    """The receipt e-mail (multipart/mixed: alternative text + HTML, and the PDF)."""
    message = EmailMessage()
    message["Subject"] = subject(content)
    message["From"] = address(sender)
    message["To"] = address(recipient)
    if reply_to:
        message["Reply-To"] = address(reply_to)
    message["Date"] = format_datetime(now or datetime.now(UTC))
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(plain_text(content, url), subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(html(content, url), subtype="html", charset="utf-8", cte="quoted-printable")
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename=f"receipt-{content.receipt_id}.pdf")
    message["Content-Language"] = content.language  # after the parts: making them moves Content-* headers down
    return message
