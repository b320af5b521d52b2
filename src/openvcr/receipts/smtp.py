"""Sending one e-mail through an SMTP server (standard library ``smtplib``), failures classified for the outbox.

Rules:
- ``OPENVCR_SMTP_URL``: ``smtp://user:pass@host:587`` talks STARTTLS and refuses to go on without it;
  ``smtps://user:pass@host:465`` is TLS from the first byte; ``smtp://host:25?starttls=off`` is a plain
  connection to a local relay and takes no credentials (they would travel in clear). The server's
  certificate is verified against the system's CAs, or ``OPENVCR_SMTP_CA_FILE``. Every command has a
  timeout (``OPENVCR_SMTP_TIMEOUT_SECONDS``).
- The adapter raises only ``DeliveryRetryable`` or ``DeliveryRejected`` (``raise … from``):
  - retryable: the server cannot be reached (refused, reset, timeout, DNS), a 4xx answer, and what is wrong
    with the server's configuration rather than with the message (no STARTTLS, a certificate that does not
    verify, credentials refused) — the operator fixes it and the messages go out then;
  - rejected for good: a 5xx answer to MAIL, RCPT or DATA (550 no such user, 552 too big, 554 refused …), an
    address that is not one, a non-ASCII address the server cannot carry (no SMTPUTF8).
- The point of no return is the DATA command: ``handover`` is called (and must have recorded it durably)
  after the server accepted the envelope and before the message is sent. Once handed over, a failure without
  an answer from the server (connection lost, timeout) is *in doubt* — the server may have accepted the
  message — and is raised as ``MessageInDoubt``, a ``DeliveryRejected``: not sent again, so that the buyer
  never receives it twice. An answer (4xx, 5xx) after the handover is not in doubt and is classified as above.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from openvcr.outbox.models import DeliveryRejected, DeliveryRetryable

DEFAULT_PORTS = {"smtp": 587, "smtps": 465}


class MessageInDoubt(DeliveryRejected):
    """The message was handed to the server and no answer came back: it may have been delivered."""


@dataclass(frozen=True)
class SmtpServer:
    """Where and how to send: parsed from ``OPENVCR_SMTP_URL``."""

    host: str
    port: int
    security: str  # starttls | tls | none
    username: str | None
    password: str | None
    timeout: float
    ca_file: Path | None = None

    @classmethod
    def from_url(cls, url: str, *, timeout: float = 20.0, ca_file: Path | None = None) -> SmtpServer:
        parts = urlsplit(url)
        if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
            raise ValueError("an SMTP URL looks like smtp://user:pass@host:587 or smtps://user:pass@host:465")
        options = {key.lower(): values[-1].lower() for key, values in parse_qs(parts.query).items()}
        security = "tls" if parts.scheme == "smtps" else "starttls"
        if parts.scheme == "smtp" and options.get("starttls") in ("off", "no", "false", "0"):
            security = "none"
        username = unquote(parts.username) if parts.username else None
        password = unquote(parts.password) if parts.password else None
        if security == "none" and username:
            raise ValueError("an SMTP URL with starttls=off takes no credentials: they would be sent in clear")
        return cls(
            host=parts.hostname,
            port=parts.port or DEFAULT_PORTS[parts.scheme],
            security=security,
            username=username,
            password=password,
            timeout=timeout,
            ca_file=ca_file,
        )

    def describe(self) -> str:
        """``smtp://host:587 (STARTTLS)``, without credentials."""
        scheme = "smtps" if self.security == "tls" else "smtp"
        how = {"tls": "TLS", "starttls": "STARTTLS", "none": "no TLS"}[self.security]
        user = f", as {self.username}" if self.username else ""
        return f"{scheme}://{self.host}:{self.port} ({how}{user})"

    def tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        return context


def _reply(code: int, text: bytes | str) -> str:
    message = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {message}".strip()


def _refused(stage: str, code: int, text: bytes | str) -> Exception:
    """An SMTP answer other than success: 5xx for good, anything else later."""
    reason = f"{stage} refused: {_reply(code, text)}"
    return DeliveryRejected(reason) if 500 <= code < 600 else DeliveryRetryable(reason)


def _connect(server: SmtpServer) -> smtplib.SMTP:
    if server.security == "tls":
        return smtplib.SMTP_SSL(server.host, server.port, timeout=server.timeout, context=server.tls_context())
    return smtplib.SMTP(server.host, server.port, timeout=server.timeout)


def _open(server: SmtpServer) -> smtplib.SMTP:
    """A connected, greeted, secured and authenticated session (every failure retryable)."""
    try:
        smtp = _connect(server)
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryRetryable(f"cannot reach the SMTP server {server.describe()}: {exc}") from exc
    try:
        smtp.ehlo()
        if server.security == "starttls":
            if not smtp.has_extn("starttls"):
                raise DeliveryRetryable(f"the SMTP server {server.describe()} does not offer STARTTLS")
            smtp.starttls(context=server.tls_context())
            smtp.ehlo()
        if server.username:
            smtp.login(server.username, server.password or "")
    except DeliveryRetryable:
        smtp.close()
        raise
    except smtplib.SMTPAuthenticationError as exc:
        smtp.close()
        reply = _reply(exc.smtp_code, exc.smtp_error)
        raise DeliveryRetryable(f"the SMTP server refused the credentials: {reply}") from exc
    except (OSError, smtplib.SMTPException) as exc:
        smtp.close()
        raise DeliveryRetryable(f"SMTP session with {server.describe()} failed: {exc}") from exc
    return smtp


def _needs_utf8(*addresses: str) -> bool:
    return not all(address.isascii() for address in addresses)


def send(server: SmtpServer, message: EmailMessage, sender: str, recipient: str, handover: Callable[[], None]) -> None:
    """Send ``message`` from ``sender`` (envelope) to ``recipient``; see the module rules for failures."""
    utf8 = _needs_utf8(sender, recipient)
    try:
        body = message.as_bytes(policy=policy.SMTPUTF8 if utf8 else policy.SMTP)
    except (ValueError, TypeError, UnicodeError) as exc:
        raise DeliveryRejected(f"the message cannot be encoded: {exc}") from exc
    smtp = _open(server)
    try:
        _envelope(smtp, sender, recipient, utf8)
        handover()  # the point of no return: recorded before the message is sent
        try:
            smtp.data(body)
        except smtplib.SMTPDataError as exc:
            raise _refused("DATA", exc.smtp_code, exc.smtp_error) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise MessageInDoubt(
                f"in doubt: the connection failed after the message was handed to the SMTP server ({exc}); "
                "it may have been delivered and is not sent again"
            ) from exc
    finally:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()


def _envelope(smtp: smtplib.SMTP, sender: str, recipient: str, utf8: bool) -> None:
    """MAIL FROM and RCPT TO (nothing handed over yet: every failure is certain)."""
    options: list[str] = []
    if utf8:
        if not smtp.has_extn("smtputf8"):
            raise DeliveryRejected("the address is not ASCII and the SMTP server does not offer SMTPUTF8")
        options = ["SMTPUTF8", "BODY=8BITMIME"]
    try:
        code, text = smtp.mail(sender, options)
        if code != 250:
            raise _refused("MAIL FROM", code, text)
        code, text = smtp.rcpt(recipient)
        if code not in (250, 251):
            raise _refused(f"RCPT TO <{recipient}>", code, text)
    except (DeliveryRejected, DeliveryRetryable):
        raise
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryRetryable(f"SMTP session failed before the message was sent: {exc}") from exc
