"""Receipt SMS through the outbox: the ``receipt_sms`` deliverer, the SMPP session's delivery receipts, the worker.

Rules:
- A completed sale, sale refund, prepayment or prepayment refund whose buyer gave ``buyer.phone`` on a
  register with SMS receipts on (``openvcr registers update ID --sms-receipts on``; a refund: the phone of the
  refunded document), and a V-SDC invoice with ``phone``, have one ``receipt_sms`` message, written with the
  document (key ``receipt-sms:<urlId>``, a V-SDC invoice ``receipt-sms:vsdc:<mcr>:<ino>``). Its text
  (``sms.compose``) is in the document's language: business, kind, total, fiscal number, the link (the V-SDC
  invoice's ``verificationUrl``).
- Through SMPP (``OPENVCR_SMPP_URL``, ``smpp``) or a provider's HTTP API (``OPENVCR_SMS_HTTP_URL``,
  ``sms_http``: the whole text in one POST, delivered on a 2xx, no delivery receipts).
- Without either no worker takes these messages: they stay pending, shown as *held* by
  ``openvcr outbox status``/``list``, and go out once SMPP is configured and the service restarted.
- Every ``openvcr serve`` worker process runs one SMS worker with one SMPP session (``smpp``); the outbox's
  lease keeps two processes from sending the same message.
- At most once: the attempt is recorded ``handed_over`` before its first ``submit_sm``, and each part the SMSC
  accepted is recorded with the SMSC's message id at once (``outbox.record_acceptance``): a retry sends only
  the parts not accepted yet; an attempt that stopped after the handover with a part unanswered makes the
  message fail as in doubt. The concatenation reference (``message id mod 256``) is the same on every attempt.
- After ``submit_sm`` the message is ``sent``; the SMSC's delivery receipts (``deliver_sm`` on the transceiver
  session, found by message id in any process) make it ``delivered`` (every part ``DELIVRD``) or ``failed``.
- Phone numbers appear in logs and errors masked (``+374******56``).
"""

from __future__ import annotations

import logging
import threading
from decimal import Decimal, InvalidOperation
from typing import Final

from openvcr.config import Settings
from openvcr.core.phone import is_e164, mask
from openvcr.outbox import repository as outbox
from openvcr.outbox.models import AWAITING_CONFIRMATION, DeliveryRejected, OutboxMessage
from openvcr.outbox.worker import OutboxWorker
from openvcr.receipts import sms
from openvcr.receipts.content import page_url
from openvcr.receipts.service import find_document
from openvcr.receipts.smpp import DeliveryReceipt, SmppServer, SmppSession
from openvcr.receipts.sms_http import HttpSmsGateway, parse_fields
from openvcr.receipts.smtp import MessageInDoubt
from openvcr.store.db import Database, now_ms

log = logging.getLogger("openvcr.receipts.sms")

RECEIPT_SMS: Final = "receipt_sms"
SMS_LEASE_SECONDS: Final = 120.0
HELD_REASON: Final = "OPENVCR_SMPP_URL (or OPENVCR_SMS_HTTP_URL) is not set"
ENABLE_HINT: Final = "set OPENVCR_SMPP_URL=smpp://system_id:password@host:2775?source=YourShop (or smpps://… for TLS)"


def smpp_server(settings: Settings) -> SmppServer | None:
    """The SMSC of the settings, or None when SMS is not configured."""
    if settings.smpp_url is None:
        return None
    return SmppServer.from_url(
        settings.smpp_url.get_secret_value(), timeout=settings.smpp_timeout_seconds, ca_file=settings.smpp_ca_file
    )


def http_gateway(settings: Settings) -> HttpSmsGateway | None:
    """The provider's HTTP API of the settings, or None."""
    if settings.sms_http_url is None:
        return None
    return HttpSmsGateway(
        settings.sms_http_url.get_secret_value(),
        token=settings.sms_http_token.get_secret_value() if settings.sms_http_token else None,
        form=settings.sms_http_form,
        fields=parse_fields(settings.sms_http_fields),
        sender=settings.sms_http_sender,
        timeout=settings.smpp_timeout_seconds,
    )


def held_kinds(settings: Settings) -> dict[str, str]:
    """Kinds whose messages wait for configuration (kind → why), for ``openvcr outbox``."""
    if settings.smpp_url is not None or settings.sms_http_url is not None:
        return {}
    return {RECEIPT_SMS: f"{HELD_REASON}: {ENABLE_HINT}"}


def banner(settings: Settings) -> str:
    """One line for ``openvcr serve``: where receipt SMS go, or how to enable them."""
    server = smpp_server(settings)
    gateway = http_gateway(settings)
    if gateway is not None:
        return f"SMS:  receipt SMS go to the HTTP gateway {gateway.describe()}"
    if server is None:
        return f"SMS:  receipt SMS are held (not sent); to deliver them, {ENABLE_HINT}"
    return f"SMS:  receipt SMS go through {server.describe()}, at most {settings.sms_per_second:g} per second"


def sms_key(url_id: str) -> str:
    return f"receipt-sms:{url_id}"


def vsdc_sms_key(mcr: str, ino: str) -> str:
    return f"receipt-sms:vsdc:{mcr}:{ino}"


class ReceiptTexter:
    """The ``receipt_sms`` deliverer."""

    def __init__(
        self, settings: Settings, db: Database, session: SmppSession | None, http: HttpSmsGateway | None = None
    ) -> None:
        assert (session is None) != (http is None)
        self.settings = settings
        self.db = db
        self.session = session
        self.http = http

    def facts(self, message: OutboxMessage, language: str) -> sms.SmsFacts:
        """What the SMS says: from the completed document (``urlId``) or from the payload (a V-SDC invoice)."""
        payload = message.payload
        if "urlId" in payload:
            with self.db.read() as conn:
                document = find_document(conn, str(payload["urlId"]))
            if document is None:
                raise DeliveryRejected(f"no completed document with urlId {payload.get('urlId')!r}")
            return sms.SmsFacts(
                kind=document.kind,
                business=str(document.receipt.get("taxpayer") or ""),
                total=document.total,
                fiscal=str(document.receipt.get("fiscal") or ""),
                url=page_url(self.settings.public_url, document.url_id, language),
                language=language,
            )
        try:
            total = Decimal(str(payload.get("total")))
        except InvalidOperation as exc:
            raise DeliveryRejected(f"the message has no total: {payload.get('total')!r}") from exc
        return sms.SmsFacts(
            kind=str(payload.get("kind") or "sale"),
            business=str(payload.get("business") or ""),
            total=total,
            fiscal=str(payload.get("fiscal") or ""),
            url=str(payload.get("url") or ""),
            language=language,
        )

    def _handover(self, message: OutboxMessage) -> None:
        with self.db.write() as conn:
            outbox.mark_handed_over(conn, message)

    def _accepted(self, message: OutboxMessage, part: int, remote_id: str) -> None:
        with self.db.write() as conn:
            outbox.record_acceptance(conn, message, part, remote_id, now=now_ms())

    def __call__(self, message: OutboxMessage) -> object:
        phone = str(message.payload.get("phone") or "")
        if not is_e164(phone):
            raise DeliveryRejected(f"invalid number {mask(phone)}: not E.164")
        language = sms.language_or_default(str(message.payload.get("language") or ""))
        text = sms.compose(self.facts(message, language))
        if self.http is not None:
            self._post(message, phone, text)
            return None
        assert self.session is not None
        parts = sms.encode(text, message.id % 256)
        with self.db.read() as conn:
            earlier = outbox.handed_over_before(conn, message)
            accepted = outbox.accepted_parts(conn, message)
        missing = [index for index in range(1, len(parts.parts) + 1) if index not in accepted]
        if missing and earlier is not None:
            raise MessageInDoubt(
                f"in doubt: attempt {earlier} stopped after handing part {missing[0]} to the SMSC; "
                "it may have been delivered and is not sent again"
            )
        if missing:
            self.session.submit(
                phone,
                parts,
                skip=frozenset(accepted),
                handover=lambda: self._handover(message),
                accepted=lambda part, remote_id: self._accepted(message, part, remote_id),
            )
        log.info("receipt SMS %s submitted to %s in %d part(s)", message.key, mask(phone), len(parts.parts))
        return AWAITING_CONFIRMATION if self.session.server.receipts else None

    def _post(self, message: OutboxMessage, phone: str, text: str) -> None:
        assert self.http is not None
        with self.db.read() as conn:
            earlier = outbox.handed_over_before(conn, message)
        if earlier is not None:
            raise MessageInDoubt(
                f"in doubt: attempt {earlier} stopped after sending the SMS to the gateway; "
                "it may have been delivered and is not sent again"
            )
        self.http.send(phone, text, message.key, lambda: self._handover(message))
        log.info("receipt SMS %s posted to the gateway for %s", message.key, mask(phone))


def record_receipt(db: Database, receipt: DeliveryReceipt) -> int | None:
    """Record an SMSC's delivery receipt on its ``receipt_sms`` message; the message's id (None: not ours)."""
    detail = None
    if not receipt.delivered:
        detail = f"delivery receipt: {receipt.state}" + (f" err:{receipt.error}" if receipt.error else "")
    with db.write() as conn:
        found = outbox.confirm(
            conn, (RECEIPT_SMS,), receipt.message_id, delivered=receipt.delivered, detail=detail, now=now_ms()
        )
    if found is None:
        log.info("delivery receipt for unknown SMSC message id %s (%s)", receipt.message_id, receipt.state)
    else:
        log.info("receipt SMS message %d: %s (SMSC id %s)", found, receipt.state, receipt.message_id)
    return found


class SmsWorker:
    """The outbox worker sending receipt SMS, and the SMPP session's receipts read between deliveries."""

    def __init__(
        self, settings: Settings, db: Database, server: SmppServer | None, http: HttpSmsGateway | None = None
    ) -> None:
        self.session = None
        if server is not None:
            self.session = SmppSession(
                server,
                lambda receipt: record_receipt(db, receipt),
                per_second=settings.sms_per_second,
                enquire_link_seconds=settings.smpp_enquire_link_seconds,
            )
        self.outbox = OutboxWorker(
            db,
            {RECEIPT_SMS: ReceiptTexter(settings, db, self.session, http)},
            base_delay_seconds=settings.sms_retry_base_seconds,
            max_delay_seconds=settings.sms_retry_max_seconds,
            lease_seconds=SMS_LEASE_SECONDS,
        )

    def run(self, stop: threading.Event, *, idle_seconds: float = 0.5) -> None:
        """Deliver due messages and read receipts until ``stop`` is set; unbind at the end."""
        try:
            while not stop.is_set():
                try:
                    self.outbox.run_once()
                except Exception:
                    log.exception("SMS worker iteration failed")
                if self.session is not None:
                    self.session.poll(idle_seconds)
                else:
                    stop.wait(idle_seconds)
        finally:
            if self.session is not None:
                self.session.close()

    def start(self, *, idle_seconds: float = 0.5) -> tuple[threading.Thread, threading.Event]:
        """Run in a daemon thread; set the returned event to stop it."""
        stop = threading.Event()
        thread = threading.Thread(target=self.run, args=(stop,), kwargs={"idle_seconds": idle_seconds}, daemon=True)
        thread.name = "openvcr-sms"
        thread.start()
        return thread, stop


def sms_worker(settings: Settings, db: Database) -> SmsWorker | None:
    """The SMS worker, or None when neither SMPP nor an HTTP gateway is configured (messages are held)."""
    server, http = smpp_server(settings), http_gateway(settings)
    return None if server is None and http is None else SmsWorker(settings, db, server, http)
