"""The V-SDC listener: ``POST <context>/merchant/invoice`` over mutual TLS, in-process.

Rules:
- TLS is done by uvicorn with a server certificate issued by the V-SDC CA at start-up (for ``localhost``,
  ``127.0.0.1``, ``::1``, the bind host, the public URL's host and ``vsdc_server_names``); client certificates
  are REQUIRED and verified against the V-SDC CA during the handshake: no certificate or one from another CA
  → the handshake fails and no HTTP request is ever read.
- Revocation is checked per request against the database (the certificate's serial must belong to a device
  that is not revoked): a revoked certificate gets HTTP 401 on its very next request, with no reload or
  restart. (A CRL in the TLS layer would need a reload of the SSL context to take effect.)
- The client certificate reaches the app through the ASGI ``tls`` extension
  (``scope["extensions"]["tls"]["client_cert_chain"]``), filled per connection by a thin subclass of uvicorn's
  HTTP protocol.
- Proxy mode (opt-in, ``vsdc_trusted_proxies`` not empty): when the peer address is a trusted proxy, the
  certificate may instead come in the ``vsdc_client_cert_header`` header (URL-encoded PEM, as nginx's
  ``$ssl_client_escaped_cert``); it is then checked against the CA here (signature, validity). The header is
  ignored from every other address. In this mode the handshake asks for a certificate without requiring it
  (``CERT_OPTIONAL``: a presented certificate is still verified against the CA in the handshake), so that
  the proxy can connect; a request with neither a verified certificate nor a trusted header gets HTTP 401.
- The body is JSON or XML (by ``Content-Type``; at most ``MAX_BODY_BYTES``), the answer uses the request's
  format unless ``Accept`` asks only for the other one.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import tempfile
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import uvicorn
from cryptography import x509
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from uvicorn.protocols.http.h11_impl import H11Protocol

from openvcr.config import Settings
from openvcr.outbox.worker import OutboxWorker
from openvcr.store.db import Database
from openvcr.vsdc import crypto, service
from openvcr.vsdc.atax.client import deliverers
from openvcr.vsdc.errors import VsdcRejected, VsdcUnauthorized
from openvcr.vsdc.schemas import MAX_BODY_BYTES, media_kind, parse_body, render, response_kind

log = logging.getLogger("openvcr.vsdc")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class _WithClientCert:
    """Adds the connection's client certificate to every HTTP scope (the ASGI ``tls`` extension)."""

    def __init__(self, app: ASGIApp, chain: list[str]) -> None:
        self.app = app
        self.chain = chain

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        extensions = scope.setdefault("extensions", {})
        extensions["tls"] = {"client_cert_chain": list(self.chain), "client_cert_error": None}
        await self.app(scope, receive, send)


class MutualTlsProtocol(H11Protocol):
    """uvicorn's h11 protocol, passing the verified peer certificate to the app."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        ssl_object = transport.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        if der:
            self.app = _WithClientCert(self.app, [ssl.DER_cert_to_PEM_cert(der)])


def _peer_certificate(request: Request, settings: Settings) -> x509.Certificate | None:
    client_host = request.client.host if request.client else None
    if settings.vsdc_trusted_proxies and client_host in settings.vsdc_trusted_proxies:
        forwarded = request.headers.get(settings.vsdc_client_cert_header)
        if forwarded:
            try:
                return x509.load_pem_x509_certificate(unquote(forwarded).encode("ascii"))
            except ValueError as exc:
                raise VsdcUnauthorized("The forwarded client certificate cannot be read") from exc
    tls = request.scope.get("extensions", {}).get("tls") or {}
    chain = tls.get("client_cert_chain") or []
    if not chain:
        return None
    return x509.load_pem_x509_certificate(chain[0].encode("ascii"))


def _certificate_serial(request: Request, settings: Settings, ca_pem: str) -> str:
    cert = _peer_certificate(request, settings)
    if cert is None:
        raise VsdcUnauthorized("A client certificate is required")
    if not crypto.verify_issued_by(cert, ca_pem):
        raise VsdcUnauthorized("The client certificate is not issued by this V-SDC")
    return crypto.serial_hex(cert)


def create_vsdc_app(settings: Settings, db: Database) -> Starlette:
    """The V-SDC ASGI app (``POST <vsdc_context>/merchant/invoice``); TLS is the server's business."""
    ca_pem = service.ca_certificate(db)
    context = "/" + settings.vsdc_context.strip("/") if settings.vsdc_context.strip("/") else ""

    def handle(serial_source: Request, body: bytes, kind: str) -> tuple[int, dict[str, Any]]:
        try:
            serial = _certificate_serial(serial_source, settings, ca_pem)
            if service.device_for_certificate(db, serial) is None:
                raise VsdcUnauthorized("The client certificate is unknown or revoked")
            fields = parse_body(body, kind)
            return 200, service.fiscalize(db, settings, cert_serial=serial, fields=fields)
        except (VsdcRejected, VsdcUnauthorized) as exc:
            return exc.status, exc.body

    async def invoice(request: Request) -> Response:
        kind = media_kind(request.headers.get("content-type")) or "json"
        out_kind = response_kind(kind, request.headers.get("accept"))
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            status, body = 413, VsdcRejected.invalid([f"The request body is larger than {MAX_BODY_BYTES} bytes"]).body
        else:
            chunks: list[bytes] = []
            size = 0
            async for chunk in request.stream():
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    break
                chunks.append(chunk)
            if size > MAX_BODY_BYTES:
                status, body = (
                    413,
                    VsdcRejected.invalid([f"The request body is larger than {MAX_BODY_BYTES} bytes"]).body,
                )
            else:
                status, body = await run_in_threadpool(handle, request, b"".join(chunks), kind)
        content, media_type = render(body, out_kind)
        headers = {"Connection": "close"} if status == 401 else None
        return Response(content, status_code=status, media_type=media_type, headers=headers)

    return Starlette(routes=[Route(f"{context}/merchant/invoice", invoice, methods=["POST"])])


def server_names(settings: Settings, host: str) -> list[str]:
    names = ["localhost", "127.0.0.1", "::1"]
    if host not in ("0.0.0.0", "::", ""):
        names.append(host)
    public_host = urlsplit(settings.public_url).hostname
    if public_host:
        names.append(public_host)
    names.extend(settings.vsdc_server_names)
    return list(dict.fromkeys(names))


def build_ssl_context(db: Database, settings: Settings, host: str, work_dir: Path) -> ssl.SSLContext:
    """Server TLS context: certificate from the V-SDC CA, client certificates required (optional in proxy
    mode) and checked against the V-SDC CA."""
    ca_pem, ca_signer = service.load_ca(db, settings)
    cert_pem, key_pem = crypto.issue_server_certificate(ca_pem, ca_signer, server_names(settings, host))
    cert_file, key_file = work_dir / "server.pem", work_dir / "server.key"
    cert_file.write_text(cert_pem + ca_pem)
    key_file.touch(mode=0o600)
    key_file.write_text(key_pem)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(cert_file), str(key_file))
    key_file.unlink()  # the key lives in the context now
    context.verify_mode = ssl.CERT_OPTIONAL if settings.vsdc_trusted_proxies else ssl.CERT_REQUIRED
    context.load_verify_locations(cadata=ca_pem)
    return context


def build_server(
    settings: Settings, db: Database, *, port: int, context: str = "", host: str | None = None, work_dir: Path
) -> uvicorn.Server:
    """A configured uvicorn server for the V-SDC (not started)."""
    if context:
        settings = settings.model_copy(update={"vsdc_context": context})
    bind = host or settings.vsdc_host or settings.host
    ssl_context = build_ssl_context(db, settings, bind, work_dir)
    config = uvicorn.Config(
        create_vsdc_app(settings, db),
        host=bind,
        port=port,
        http=MutualTlsProtocol,
        ssl_context_factory=lambda _config, _default: ssl_context,
        log_level=settings.log_level,
        lifespan="off",
        proxy_headers=False,
        server_header=False,
    )
    return uvicorn.Server(config)


def atax_worker(settings: Settings, db: Database) -> OutboxWorker:
    """The outbox worker delivering signed invoices and device registrations to aTAX."""
    return OutboxWorker(db, deliverers(settings, db))


def run_vsdc_listener(settings: Settings, *, port: int, context: str = "", host: str | None = None) -> None:
    """Serve the V-SDC on ``port`` until interrupted (blocking); also runs the aTAX outbox worker."""
    db = Database(settings.database_url)
    stop: threading.Event | None = None
    try:
        _cert, created = service.init_ca(db, settings)  # the V-SDC cannot serve without its CA
        if created:
            log.warning("created the V-SDC CA (none existed): issue device certificates with `openvcr vsdc device add`")
        with tempfile.TemporaryDirectory(prefix="openvcr-vsdc-") as tmp:
            server = build_server(settings, db, port=port, context=context, host=host, work_dir=Path(tmp))
            _thread, stop = atax_worker(settings, db).start()
            server.run()
    finally:
        if stop is not None:
            stop.set()
        db.dispose()
