"""The SRC e-HDM HTTP client: the ``SrcGateway`` over httpx, for the real SRC or a sandbox.

Rules:
- The only module that imports httpx for SRC (with ``sandbox/transport.py`` for the in-process sandbox).
- Every call is an HTTP POST of a JSON body to ``<base_url>/api/v1.0/<method>`` with the ``language``
  header and explicit connect / read timeouts.
- Mutual TLS: a PEM certificate + key (optionally encrypted, with a passphrase) or a PKCS#12 bundle; the
  server is verified against ``ca`` when given, else the system trust store.
- Failures are classified, always ``raise … from`` the cause:
  * ``AuthorityRetryable(sent=False)``: nothing left this machine (connection refused, DNS, TLS handshake,
    connect timeout);
  * ``AuthorityRetryable(sent=True)``: the request may have reached SRC and the answer is lost or says
    nothing (read/write timeout, dropped connection, HTTP 5xx without an SRC envelope, SRC code 101);
  * ``AuthorityRetryable(sent=True, code=500)``: SRC answered INTERNAL_ERROR (it did not save anything);
  * ``AuthorityRejected(code, message, errorMessage)``: any other ``code ≠ 0`` (whatever the HTTP status).
"""

from __future__ import annotations

import secrets
import ssl
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import httpx
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from openvcr.authority import wire
from openvcr.authority.errors import AuthorityRejected, AuthorityRetryable
from openvcr.authority.gateway import GoodList, PrintRequest, Receipt, ReturnedReceiptInfo, ReturnRequest

RETRYABLE_CODES = frozenset({101, 500})
T = TypeVar("T")


def build_ssl_context(
    *,
    ca: Path | None = None,
    cert: Path | None = None,
    key: Path | None = None,
    key_passphrase: str | None = None,
    p12: Path | None = None,
    p12_passphrase: str | None = None,
) -> ssl.SSLContext:
    """A client TLS context: server verified (``ca`` or the system store), optional client identity."""
    context = ssl.create_default_context(cafile=str(ca) if ca else None)
    if p12 is not None:
        from cryptography.hazmat.primitives.serialization import (
            BestAvailableEncryption,
            Encoding,
            PrivateFormat,
            pkcs12,
        )

        data = p12.read_bytes()
        password = p12_passphrase.encode() if p12_passphrase else None
        private_key, certificate, extra = pkcs12.load_key_and_certificates(data, password)
        if private_key is None or certificate is None:
            raise ValueError(f"{p12}: the PKCS#12 bundle has no private key or certificate")
        # ssl loads only files: write a short-lived encrypted PEM and remove it at once.
        secret = password or b"openvcr-transient"
        pem_key = private_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, BestAvailableEncryption(secret))
        chain = certificate.public_bytes(Encoding.PEM) + b"".join(c.public_bytes(Encoding.PEM) for c in extra or ())
        with tempfile.TemporaryDirectory(prefix="openvcr-p12-") as tmp:
            cert_path = Path(tmp) / "cert.pem"
            key_path = Path(tmp) / "key.pem"
            cert_path.write_bytes(chain)
            key_path.write_bytes(pem_key)
            context.load_cert_chain(str(cert_path), str(key_path), password=secret)
    elif cert is not None:
        context.load_cert_chain(str(cert), str(key) if key else None, password=key_passphrase)
    return context


def identity_ssl_context(*, ca: Path | None, cert_pem: str, key: PrivateKeyTypes) -> ssl.SSLContext:
    """A client TLS context for an identity held in memory (a register's own, from the database)."""
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, Encoding, PrivateFormat

    context = ssl.create_default_context(cafile=str(ca) if ca else None)
    secret = secrets.token_bytes(24).hex().encode()
    pem_key = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, BestAvailableEncryption(secret))
    # ssl loads only files: a short-lived encrypted PEM, removed at once.
    with tempfile.TemporaryDirectory(prefix="openvcr-identity-") as tmp:
        cert_path, key_path = Path(tmp) / "cert.pem", Path(tmp) / "key.pem"
        cert_path.write_text(cert_pem)
        key_path.write_bytes(pem_key)
        context.load_cert_chain(str(cert_path), str(key_path), password=secret)
    return context


class HttpSrcGateway:
    """``SrcGateway`` over HTTP(S)."""

    def __init__(
        self,
        base_url: str,
        *,
        language: str = "hy",
        timeout_seconds: float = 15.0,
        connect_timeout_seconds: float = 5.0,
        verify: ssl.SSLContext | bool = True,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.language = language
        timeout = httpx.Timeout(timeout_seconds, connect=connect_timeout_seconds)
        self._client = httpx.Client(timeout=timeout, verify=verify, transport=transport)

    def close(self) -> None:
        self._client.close()

    # --- the eight methods ---

    def check_connection(self, crn: str) -> None:
        self._call("checkConnection", wire.check_connection_body(crn))

    def activate(self, crn: str) -> None:
        self._call("activate", wire.activate_body(crn))

    def configure_departments(self, crn: str, seq: int | None, departments: Sequence[tuple[int, int]]) -> None:
        self._call("configureDepartments", wire.configure_departments_body(crn, seq, departments))

    def get_good_list(self, crn: str, tin: str, tax_regime: int) -> list[GoodList]:
        result = self._call("getGoodList", wire.get_good_list_body(crn, tin, tax_regime))
        return _parse(wire.parse_good_lists, result)

    def print_receipt(self, crn: str, seq: int | None, request: PrintRequest) -> Receipt:
        result = self._call("print", wire.print_body(crn, seq, request))
        return _parse(wire.parse_receipt, result)

    def print_copy(self, crn: str, seq: int | None, receipt_id: int) -> Receipt:
        result = self._call("printCopy", wire.print_copy_body(crn, seq, receipt_id))
        return _parse(wire.parse_receipt, result)

    def get_returned_receipt_info(
        self, crn: str, seq: int | None, receipt_id: int, source_crn: str | None = None
    ) -> ReturnedReceiptInfo:
        result = self._call("getReturnedReceiptInfo", wire.returned_info_body(crn, seq, receipt_id, source_crn))
        return _parse(wire.parse_returned_info, result)

    def print_return_receipt(self, crn: str, seq: int | None, request: ReturnRequest) -> Receipt:
        result = self._call("printReturnReceipt", wire.return_body(crn, seq, request))
        return _parse(wire.parse_receipt, result)

    # --- transport ---

    def post_raw(self, path: str, body: Mapping[str, Any]) -> Any:
        """POST a JSON body to ``<base_url><path>`` and return the decoded JSON (sandbox admin calls)."""
        try:
            response = self._client.post(
                self.base_url + path,
                content=wire.dumps(body).encode(),
                headers={"Content-Type": "application/json; charset=utf-8", "Accept": "application/json"},
            )
        except httpx.HTTPError as exc:
            raise AuthorityRetryable(f"{path}: {exc}", sent=False) from exc
        if response.status_code >= 400:
            raise AuthorityRetryable(f"{path}: HTTP {response.status_code} {response.text[:200]}", sent=False)
        return wire.loads(response.content)

    def _call(self, method: str, body: Mapping[str, Any]) -> Any:
        url = f"{self.base_url}{wire.API_PREFIX}{method}"
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Accept": "application/json",
            "language": self.language,
        }
        try:
            response = self._client.post(url, content=wire.dumps(body).encode(), headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.UnsupportedProtocol, httpx.PoolTimeout) as exc:
            raise AuthorityRetryable(f"SRC {method}: not sent: {exc!r}", sent=False) from exc
        except httpx.HTTPError as exc:
            raise AuthorityRetryable(f"SRC {method}: answer lost: {exc!r}", sent=True) from exc
        try:
            envelope = wire.loads(response.content)
        except ValueError as exc:
            if response.status_code >= 500 or response.status_code < 400:
                raise AuthorityRetryable(
                    f"SRC {method}: HTTP {response.status_code} without a JSON body", sent=True
                ) from exc
            raise AuthorityRejected(response.status_code, "HTTP_ERROR", response.text[:500]) from exc
        if not isinstance(envelope, dict) or "code" not in envelope:
            if response.status_code >= 500 or response.status_code < 400:
                raise AuthorityRetryable(f"SRC {method}: HTTP {response.status_code}: no SRC envelope", sent=True)
            text = envelope.get("message") or envelope.get("error") if isinstance(envelope, dict) else None
            raise AuthorityRejected(response.status_code, "HTTP_ERROR", str(text or response.text[:500]))
        code = int(envelope["code"])
        if code == 0:
            return envelope.get("result")
        message = str(envelope.get("message") or "")
        error_message = envelope.get("errorMessage")
        if code in RETRYABLE_CODES:
            raise AuthorityRetryable(f"SRC {method}: {code} {message}: {error_message}", sent=True, code=code)
        raise AuthorityRejected(code, message, None if error_message is None else str(error_message))


def _parse(parser: Callable[[Mapping[str, Any]], T], result: Any) -> T:
    """Parse SRC's ``result``; an unreadable one after code 0 means the answer is lost (it may be registered)."""
    if not isinstance(result, Mapping):
        raise AuthorityRetryable(f"SRC answered an unexpected result: {result!r}", sent=True)
    try:
        return parser(result)
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise AuthorityRetryable(f"SRC answered an unreadable result: {exc!r}", sent=True) from exc
