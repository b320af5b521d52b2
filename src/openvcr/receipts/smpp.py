"""Sending SMS over SMPP 3.4 (``smpplib``), failures classified for the outbox, delivery receipts read back.

Rules:
- ``OPENVCR_SMPP_URL``: ``smpp://system_id:password@host:2775?source=OpenVCR`` (plain TCP) or ``smpps://…``
  (TLS, the certificate verified against the system's CAs or ``OPENVCR_SMPP_CA_FILE``). ``source`` is the
  sender: letters make an alphanumeric sender (TON 5), digits an international number (TON 1, NPI 1).
  ``bind=transceiver`` (default) receives the delivery receipts (``deliver_sm``) on the same session;
  ``bind=transmitter`` sends only: no receipts come back, and a message the SMSC accepted counts as delivered.
- One session per process, bound on demand and again after it broke; when idle, an ``enquire_link`` every
  ``OPENVCR_SMPP_ENQUIRE_LINK_SECONDS``; at most ``OPENVCR_SMS_PER_SECOND`` ``submit_sm`` per second.
  Every connect, bind and response waits at most ``OPENVCR_SMPP_TIMEOUT_SECONDS``.
- Phone numbers appear masked in what this module logs and raises; the library's PDU dumps (DEBUG) are
  switched off.
- Each part is one ``submit_sm`` with ``registered_delivery`` 1 (a receipt on success and failure), the
  destination as an international number (TON 1, NPI 1, without ``+``).
- The adapter raises only ``DeliveryRetryable`` or ``DeliveryRejected``:
  - retryable: the SMSC cannot be reached, the bind is refused (credentials, too many sessions: the operator
    fixes it), the connection was lost before ``submit_sm`` left, an answer in ``TEMPORARY`` (throttled,
    queue full, system error, temporary application error);
  - rejected for good: any other error status (invalid destination ``ESME_RINVDSTADR``, rejected …).
- The point of no return is the first ``submit_sm`` of an attempt (``handover`` is called before it). A part
  the SMSC accepted is reported at once (``accepted(part, message_id)``) and never sent again; a part whose
  answer never came (connection lost, timeout) is *in doubt* (``MessageInDoubt``): the message is not sent
  again, so the buyer never gets it twice.
"""

from __future__ import annotations

import contextlib
import logging
import re
import selectors
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qs, unquote, urlsplit

from smpplib import consts, exceptions, smpp  # type: ignore[import-untyped]
from smpplib.client import Client  # type: ignore[import-untyped]

from openvcr.core.phone import mask
from openvcr.outbox.models import DeliveryRejected, DeliveryRetryable
from openvcr.receipts.sms import SmsParts
from openvcr.receipts.smtp import MessageInDoubt

log = logging.getLogger("openvcr.receipts.sms")
WIRE_LOGGER: Final = "openvcr.receipts.smpp.wire"
# smpplib logs every PDU in hex at DEBUG: phone numbers and texts in clear. Never below WARNING.
logging.getLogger(WIRE_LOGGER).setLevel(logging.WARNING)

DEFAULT_PORT: Final = 2775
TEMPORARY: Final = frozenset(
    {
        consts.SMPP_ESME_RSYSERR,  # 0x08 system error
        consts.SMPP_ESME_RMSGQFUL,  # 0x14 message queue full
        consts.SMPP_ESME_RTHROTTLED,  # 0x58 throttling
        0x64,  # ESME_RX_T_APPN: temporary application error
    }
)
# message_state of a delivery receipt (TLV 0x0427) and the "stat:" word of its text
_STATES: Final = {1: "ENROUTE", 2: "DELIVRD", 3: "EXPIRED", 4: "DELETED", 5: "UNDELIV", 6: "ACCEPTD", 7: "UNKNOWN"}
_STATES[8] = "REJECTD"
FINAL_FAILED: Final = frozenset({"EXPIRED", "DELETED", "UNDELIV", "REJECTD", "UNKNOWN"})
_RECEIPT_TEXT: Final = re.compile(r"id:(?P<id>\S+).*?stat:(?P<stat>[A-Z]+)(?:.*?err:(?P<err>\S+))?", re.DOTALL)


@dataclass(frozen=True)
class SmppServer:
    """Where and how to send: parsed from ``OPENVCR_SMPP_URL``."""

    host: str
    port: int
    tls: bool
    system_id: str
    password: str
    source: str
    bind: str  # transceiver | transmitter
    timeout: float
    ca_file: Path | None = None

    @classmethod
    def from_url(cls, url: str, *, timeout: float = 10.0, ca_file: Path | None = None) -> SmppServer:
        parts = urlsplit(url)
        if parts.scheme not in ("smpp", "smpps") or not parts.hostname or not parts.username:
            raise ValueError("an SMPP URL looks like smpp://system_id:password@host:2775?source=OpenVCR")
        options = {key.lower(): values[-1] for key, values in parse_qs(parts.query).items()}
        bind = options.get("bind", "transceiver").lower()
        if bind not in ("transceiver", "transmitter"):
            raise ValueError("bind= must be transceiver or transmitter")
        return cls(
            host=parts.hostname,
            port=parts.port or DEFAULT_PORT,
            tls=parts.scheme == "smpps",
            system_id=unquote(parts.username),
            password=unquote(parts.password or ""),
            source=options.get("source", "OpenVCR"),
            bind=bind,
            timeout=timeout,
            ca_file=ca_file,
        )

    @property
    def receipts(self) -> bool:
        """Whether delivery receipts come back on the session."""
        return self.bind == "transceiver"

    def describe(self) -> str:
        """``smpp://host:2775 (as system_id, transceiver, from OpenVCR)``, without the password."""
        scheme = "smpps" if self.tls else "smpp"
        return f"{scheme}://{self.host}:{self.port} (as {self.system_id}, {self.bind}, from {self.source})"

    def tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        return context


@dataclass(frozen=True)
class DeliveryReceipt:
    """A ``deliver_sm`` that reports on a message: the SMSC's message id and its final state."""

    message_id: str
    state: str  # DELIVRD, UNDELIV, REJECTD, EXPIRED …
    error: str | None

    @property
    def delivered(self) -> bool:
        return self.state == "DELIVRD"

    @property
    def final(self) -> bool:
        return self.delivered or self.state in FINAL_FAILED


def parse_receipt(pdu: Any) -> DeliveryReceipt | None:
    """The delivery receipt a ``deliver_sm`` carries (TLVs first, else its text), or None for another message."""
    text = bytes(pdu.short_message or b"").decode("latin-1", "replace")
    found = _RECEIPT_TEXT.search(text)
    message_id = getattr(pdu, "receipted_message_id", None)
    if isinstance(message_id, bytes):
        message_id = message_id.decode("ascii", "replace")
    state_code = getattr(pdu, "message_state", None)
    state = _STATES.get(int(state_code)) if state_code is not None else None
    if found is not None:
        message_id = message_id or found.group("id")
        state = state or found.group("stat")
    if not message_id or not state:
        return None
    error = found.group("err") if found is not None else None
    return DeliveryReceipt(str(message_id), state, error)


class _Client(Client):  # type: ignore[misc]
    """smpplib's client, its TLS socket wrapped with the server's name (so the certificate's name is checked)."""

    def _create_socket(self) -> Any:
        raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        raw.settimeout(self.timeout)
        if self._ssl_context is None:
            return raw
        return self._ssl_context.wrap_socket(raw, server_hostname=self.host)


def _status(code: int) -> str:
    return f"0x{code:08X} {consts.DESCRIPTIONS.get(code, 'unknown status')}"


class SmppSession:
    """One SMPP session of this process, shared by the SMS worker's delivery and its receipt polling."""

    def __init__(
        self,
        server: SmppServer,
        on_receipt: Callable[[DeliveryReceipt], object],
        *,
        per_second: float = 10.0,
        enquire_link_seconds: float = 30.0,
    ) -> None:
        self.server = server
        self.on_receipt = on_receipt
        self.interval = 1.0 / per_second
        self.enquire_link_seconds = enquire_link_seconds
        self.lock = threading.RLock()
        self._client: Any = None
        self._next_submit = 0.0
        self._last_traffic = 0.0
        self._last_connect = 0.0

    # ---- the connection ------------------------------------------------------------------------------------

    def _open(self) -> Any:
        if self._client is not None:
            return self._client
        server = self.server
        self._last_connect = time.monotonic()
        client = _Client(
            server.host,
            server.port,
            timeout=server.timeout,
            ssl_context=server.tls_context() if server.tls else None,
            allow_unknown_opt_params=True,
            logger_name=WIRE_LOGGER,
        )
        try:
            client.connect()
        except (exceptions.ConnectionError, OSError, ValueError) as exc:
            client._socket = None
            reason = str(exc) or "connection refused"
            raise DeliveryRetryable(f"cannot reach the SMSC {server.describe()}: {reason}") from exc
        bind = client.bind_transceiver if server.receipts else client.bind_transmitter
        try:
            bind(system_id=server.system_id, password=server.password, system_type="", interface_version=0x34)
        except exceptions.PDUError as exc:
            client.disconnect()
            code = exc.args[1] if len(exc.args) > 1 else 0
            raise DeliveryRetryable(f"the SMSC refused the bind: {_status(int(code))}") from exc
        except (exceptions.ConnectionError, OSError) as exc:
            client.disconnect()
            raise DeliveryRetryable(f"the bind to {server.describe()} failed: {exc or 'no answer'}") from exc
        log.info("SMPP bound to %s", server.describe())
        self._client = client
        self._last_traffic = time.monotonic()
        return client

    def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(OSError):
                client.disconnect()

    def close(self) -> None:
        """Unbind and disconnect (quietly: the SMSC may be gone)."""
        with self.lock:
            client = self._client
            if client is None:
                return
            with contextlib.suppress(exceptions.PDUError, exceptions.ConnectionError, OSError):
                client.unbind()
            self._drop()

    # ---- incoming PDUs ---------------------------------------------------------------------------------------

    def _handle(self, client: Any, pdu: Any) -> None:
        """Answer what the SMSC sends on its own: delivery receipts, keep-alives, an unbind."""
        command = pdu.command
        if command == "deliver_sm":
            receipt = parse_receipt(pdu)
            status = consts.SMPP_ESME_ROK
            if receipt is not None and receipt.final:
                try:
                    self.on_receipt(receipt)
                except Exception:  # not recorded: the SMSC sends it again
                    log.exception("delivery receipt for %s not recorded", receipt.message_id)
                    status = consts.SMPP_ESME_RSYSERR
            resp = smpp.make_pdu("deliver_sm_resp", client=client, status=status)
            resp.sequence = pdu.sequence
            client.send_pdu(resp)
        elif command == "enquire_link":
            resp = smpp.make_pdu("enquire_link_resp", client=client)
            resp.sequence = pdu.sequence
            client.send_pdu(resp)
        elif command == "unbind":
            resp = smpp.make_pdu("unbind_resp", client=client)
            resp.sequence = pdu.sequence
            client.send_pdu(resp)
            raise exceptions.ConnectionError("the SMSC unbound the session")

    def _readable(self, client: Any, wait: float) -> bool:
        sock = client._socket
        if sock is None:
            return False
        if isinstance(sock, ssl.SSLSocket) and sock.pending():
            return True
        # A selector, not select.select: a busy process may hold descriptors beyond select's limit of 1024.
        with selectors.DefaultSelector() as selector:
            selector.register(sock, selectors.EVENT_READ)
            return bool(selector.select(max(0.0, wait)))

    def poll(self, wait: float) -> None:
        """Read what the SMSC sent for up to ``wait`` seconds (receipts), keep the session alive, rebind a
        broken one now and then. Errors are logged, never raised."""
        deadline = time.monotonic() + wait
        while True:
            with self.lock:
                try:
                    self._poll_once()
                except (DeliveryRetryable, exceptions.ConnectionError, exceptions.PDUError, OSError) as exc:
                    log.info("SMPP session: %s", exc)
                    self._drop()
            left = deadline - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(left, 0.05))

    def _poll_once(self) -> None:
        if self._client is None:
            if time.monotonic() - self._last_connect < min(self.enquire_link_seconds, 5.0):
                return
            self._open()
        client = self._client
        while self._readable(client, 0):
            pdu = client.read_pdu()
            self._last_traffic = time.monotonic()
            self._handle(client, pdu)
        if time.monotonic() - self._last_traffic >= self.enquire_link_seconds:
            client.send_pdu(smpp.make_pdu("enquire_link", client=client))
            self._last_traffic = time.monotonic()

    # ---- sending ---------------------------------------------------------------------------------------------

    def _throttle(self) -> None:
        now = time.monotonic()
        if self._next_submit > now:
            time.sleep(self._next_submit - now)
        self._next_submit = max(now, self._next_submit) + self.interval

    def _fresh(self) -> Any:
        """A bound session whose peer is still there (a closed one found now is replaced before anything is
        handed over)."""
        client = self._open()
        try:
            while self._readable(client, 0):
                self._handle(client, client.read_pdu())
        except (exceptions.ConnectionError, exceptions.PDUError, OSError):
            self._drop()
            client = self._open()
        return client

    def submit(
        self,
        destination: str,
        sms: SmsParts,
        *,
        skip: frozenset[int],
        handover: Callable[[], None],
        accepted: Callable[[int, str], None],
    ) -> None:
        """Send the parts of ``sms`` not in ``skip`` (1-based) to ``destination`` (E.164); see the module rules."""
        with self.lock:
            handed_over = False
            for index, short_message in enumerate(sms.parts, 1):
                if index in skip:
                    continue
                client = self._fresh()
                self._throttle()
                if not handed_over:
                    handover()
                    handed_over = True
                accepted(index, self._submit_part(client, destination, sms, index, short_message))

    def _submit_part(self, client: Any, destination: str, sms: SmsParts, index: int, short_message: bytes) -> str:
        alphanumeric = not self.server.source.lstrip("+").isdigit()
        pdu = smpp.make_pdu(
            "submit_sm",
            client=client,
            service_type="",
            source_addr_ton=consts.SMPP_TON_ALNUM if alphanumeric else consts.SMPP_TON_INTL,
            source_addr_npi=consts.SMPP_NPI_UNK if alphanumeric else consts.SMPP_NPI_ISDN,
            source_addr=self.server.source.lstrip("+"),
            dest_addr_ton=consts.SMPP_TON_INTL,
            dest_addr_npi=consts.SMPP_NPI_ISDN,
            destination_addr=destination.lstrip("+"),
            esm_class=sms.esm_class,
            registered_delivery=1 if self.server.receipts else 0,
            data_coding=sms.data_coding,
            short_message=short_message,
        )
        try:
            client.send_pdu(pdu)
        except (exceptions.ConnectionError, OSError) as exc:
            self._drop()  # the peer had closed the connection: it did not take an incomplete PDU
            raise DeliveryRetryable(f"the connection to the SMSC failed while sending: {exc}") from exc
        self._last_traffic = time.monotonic()
        try:
            while True:
                resp = client.read_pdu()
                if resp.sequence == pdu.sequence and resp.command in ("submit_sm_resp", "generic_nack"):
                    break
                self._handle(client, resp)
        except (exceptions.ConnectionError, exceptions.PDUError, OSError) as exc:
            self._drop()
            raise MessageInDoubt(
                f"in doubt: part {index} was handed to the SMSC and no answer came ({exc or 'connection lost'}); "
                "it may have been delivered and is not sent again"
            ) from exc
        status = int(resp.status or 0)
        if status != consts.SMPP_ESME_ROK:
            reason = f"submit_sm to {mask(destination)} (part {index}/{len(sms.parts)}) refused: {_status(status)}"
            if status in TEMPORARY:
                raise DeliveryRetryable(reason)
            raise DeliveryRejected(reason)
        message_id = resp.message_id
        if isinstance(message_id, bytes):
            message_id = message_id.decode("ascii", "replace")
        return str(message_id or "")
