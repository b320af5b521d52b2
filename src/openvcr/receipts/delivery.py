"""Receipt e-mails through the outbox: the ``receipt_email`` deliverer and the worker that runs it.

Rules:
- A completed sale, sale refund, prepayment or prepayment refund whose request had ``receipt.email`` has one
  ``receipt_email`` message (written with the document, key ``receipt-email:<urlId>``); it is sent once, to
  that address, in ``receipt.language``, with the link to the receipt page and the A4 PDF attached.
- Without ``OPENVCR_SMTP_URL`` no worker takes these messages: they stay pending, shown as *held* by
  ``openvcr outbox status``/``list``, and go out once SMTP is configured and the service restarted.
- Every ``openvcr serve`` worker process runs one mail worker; the outbox's lease (``MAIL_LEASE_SECONDS``)
  keeps two processes from sending the same message. A send must finish well within the lease: the message
  is handed over only if less than ``lease − 5 × SMTP timeout`` has passed since the claim, else the attempt
  stops before DATA and is retried. After the handover at most five SMTP timeouts pass (DATA, the message,
  the answer, QUIT) before the attempt is recorded, so the lease outlives every attempt that is still running.
- At most once, never twice: the attempt is recorded ``handed_over`` (own transaction) after the server
  accepted the envelope and before DATA. An attempt that crashed after that record is in doubt: the next
  attempt fails the message with an "in doubt" error instead of sending it again (see ``smtp``). Retries use
  the same ``Message-ID`` (``<receipt.<urlId>.<message id>@<From domain>>``).
- When a message ends — sent, or failed for good — the webhook event ``receiptEmail.delivered`` or
  ``receiptEmail.failed`` is emitted in the very transaction that records it (``receipt_email_finished``), so
  it is emitted exactly once per message.
"""

from __future__ import annotations

import logging
import time
from typing import Final

from sqlalchemy import Connection

from openvcr.config import Settings
from openvcr.outbox import repository as outbox
from openvcr.outbox.models import DeliveryRejected, DeliveryRetryable, OutboxMessage
from openvcr.outbox.worker import OutboxWorker
from openvcr.receipts import smtp
from openvcr.receipts.content import page_url, receipt_content
from openvcr.receipts.i18n import LANGUAGES, language_of
from openvcr.receipts.mail import address, compose
from openvcr.receipts.pdf import render_pdf
from openvcr.receipts.service import find_document
from openvcr.store.db import Database
from openvcr.webhooks.models import RECEIPT_EMAIL_DELIVERED, RECEIPT_EMAIL_FAILED
from openvcr.webhooks.repository import register_of_url_id
from openvcr.webhooks.service import emit

log = logging.getLogger("openvcr.receipts.mail")

RECEIPT_EMAIL: Final = "receipt_email"
MAIL_LEASE_SECONDS: Final = 300.0
HELD_REASON: Final = "OPENVCR_SMTP_URL is not set"
ENABLE_HINT: Final = (
    "set OPENVCR_SMTP_URL=smtp://user:pass@host:587 (or smtps://…:465) and OPENVCR_MAIL_FROM=receipts@your.shop"
)


def smtp_server(settings: Settings) -> smtp.SmtpServer | None:
    """The SMTP server of the settings, or None when e-mail is not configured."""
    if settings.smtp_url is None:
        return None
    return smtp.SmtpServer.from_url(
        settings.smtp_url.get_secret_value(), timeout=settings.smtp_timeout_seconds, ca_file=settings.smtp_ca_file
    )


def held_kinds(settings: Settings) -> dict[str, str]:
    """Kinds whose messages wait for configuration (kind → why), for ``openvcr outbox``."""
    return {} if settings.smtp_url is not None else {RECEIPT_EMAIL: f"{HELD_REASON}: {ENABLE_HINT}"}


def banner(settings: Settings) -> str:
    """One line for ``openvcr serve``: where receipt e-mails go, or how to enable them."""
    server = smtp_server(settings)
    if server is None:
        return f"Mail: receipt e-mails are held (not sent); to deliver them, {ENABLE_HINT}"
    return f"Mail: receipt e-mails go through {server.describe()} from {settings.mail_from}"


def message_id(message: OutboxMessage, sender: str) -> str:
    """The same on every attempt of ``message``."""
    domain = address(sender).domain or "openvcr.invalid"
    url_id = str(message.payload.get("urlId", ""))
    return f"<receipt.{url_id}.{message.id}@{domain}>"


class ReceiptMailer:
    """The ``receipt_email`` deliverer."""

    def __init__(self, settings: Settings, db: Database, server: smtp.SmtpServer) -> None:
        assert settings.mail_from is not None  # the settings refuse smtp_url without mail_from
        self.settings = settings
        self.db = db
        self.server = server
        self.sender = settings.mail_from
        self.lease_seconds = MAIL_LEASE_SECONDS

    def _handover(self, message: OutboxMessage, claimed_at: float) -> None:
        if time.monotonic() - claimed_at > self.lease_seconds - 5 * self.server.timeout:
            raise DeliveryRetryable("the SMTP session took too long to hand the message over within the lease")
        with self.db.write() as conn:
            outbox.mark_handed_over(conn, message)

    def __call__(self, message: OutboxMessage) -> None:
        claimed_at = time.monotonic()
        with self.db.read() as conn:
            earlier = outbox.handed_over_before(conn, message)
            document = find_document(conn, str(message.payload.get("urlId", "")))
        if earlier is not None:
            raise smtp.MessageInDoubt(
                f"in doubt: attempt {earlier} stopped after handing the message to the SMTP server; "
                "it may have been delivered and is not sent again"
            )
        if document is None:
            raise DeliveryRejected(f"no completed document with urlId {message.payload.get('urlId')!r}")
        requested = str(message.payload.get("language") or "")
        language = requested if requested in LANGUAGES else language_of(requested)
        recipient = str(message.payload.get("email") or "")
        url = page_url(self.settings.public_url, document.url_id, language)
        try:
            to = address(recipient)
            envelope_from = address(self.sender).addr_spec
        except (ValueError, IndexError) as exc:
            raise DeliveryRejected(f"invalid address: {exc}") from exc
        content = receipt_content(document, language)
        try:
            email = compose(
                content,
                url,
                render_pdf(document, language, "a4", url),
                sender=self.sender,
                recipient=recipient,
                message_id=message_id(message, self.sender),
                reply_to=self.settings.mail_reply_to,
            )
        except (ValueError, IndexError) as exc:  # an address the e-mail library cannot write
            raise DeliveryRejected(f"invalid address: {exc}") from exc
        smtp.send(self.server, email, envelope_from, to.addr_spec, lambda: self._handover(message, claimed_at))
        log.info("receipt %s e-mailed (%s)", document.url_id, language)


def receipt_email_finished(conn: Connection, message: OutboxMessage, outcome: str, error: str | None) -> None:
    """Emit ``receiptEmail.delivered``/``failed`` in the transaction that records the message's end."""
    url_id = str(message.payload.get("urlId", ""))
    register_id = register_of_url_id(conn, url_id)
    if register_id is None:
        return
    kind = str(message.payload.get("document") or "")
    head, *rest = kind.split("_")
    data = {
        "documentType": head + "".join(part.title() for part in rest),
        "urlId": url_id,
        "email": message.payload.get("email"),
        "language": message.payload.get("language"),
    }
    if outcome == "delivered":
        emit(conn, register_id, RECEIPT_EMAIL_DELIVERED, data)
    else:
        emit(conn, register_id, RECEIPT_EMAIL_FAILED, {**data, "error": error})


def mail_worker(settings: Settings, db: Database) -> OutboxWorker | None:
    """The outbox worker sending receipt e-mails, or None when SMTP is not configured (messages are held)."""
    server = smtp_server(settings)
    if server is None:
        return None
    return OutboxWorker(
        db,
        {RECEIPT_EMAIL: ReceiptMailer(settings, db, server)},
        base_delay_seconds=settings.mail_retry_base_seconds,
        max_delay_seconds=settings.mail_retry_max_seconds,
        lease_seconds=MAIL_LEASE_SECONDS,
        on_finished=receipt_email_finished,
    )
