"""The sandbox over real HTTP(S): a threaded stdlib server around ``Simulator.handle``.

Rules:
- Plain HTTP, TLS, or mutual TLS (``client_ca``: a client certificate signed by that CA is required; its
  DER bytes go to the simulator, which maps the serial number to a CRN/TIN).
- A ``drop`` fault closes the connection without an answer after the work was committed.
- Every answer closes the connection (as SRC's clients expect nothing else).
- A TLS handshake a client breaks off (it does not trust the server, or has no certificate for mutual TLS) is a
  log line of ``openvcr.sandbox``, not a traceback on stderr: refusing such clients is the server's job.
- ``latency_ms`` (default 0) delays every answer by that long before the request is handled, like a distant
  SRC; the wait holds no lock, so requests of different registers wait in parallel.
"""

from __future__ import annotations

import logging
import ssl
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from openvcr.authority.sandbox.simulator import Simulator

log = logging.getLogger("openvcr.sandbox")


@dataclass(frozen=True)
class ServerTls:
    cert: Path
    key: Path
    client_ca: Path | None = None  # mutual TLS when set


class SandboxHttpServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self, address: tuple[str, int], simulator: Simulator, tls: ServerTls | None = None, latency_ms: int = 0
    ) -> None:
        super().__init__(address, _Handler)
        self.simulator = simulator
        self.tls = tls
        self.latency_ms = latency_ms
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(tls.cert), str(tls.key))
            if tls.client_ca is not None:
                context.verify_mode = ssl.CERT_REQUIRED
                context.load_verify_locations(cafile=str(tls.client_ca))
            self.socket = context.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)

    def handle_error(self, request: object, client_address: object) -> None:
        failure = sys.exc_info()[1]
        if isinstance(failure, ssl.SSLError | ConnectionError | TimeoutError):
            log.info("sandbox: connection from %s ended before a request: %s", client_address, failure)
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{'127.0.0.1' if host in ('0.0.0.0', '') else host!s}:{port}/taxsystem-rs-vcr"

    def start_in_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name="src-sandbox", daemon=True)
        thread.start()
        return thread


class _Handler(BaseHTTPRequestHandler):
    server: SandboxHttpServer
    protocol_version = "HTTP/1.1"
    server_version = "OpenVCR-SRC-sandbox"

    def setup(self) -> None:
        super().setup()
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.settimeout(30)
            self.connection.do_handshake()

    def log_message(self, format: str, *args: object) -> None:
        return

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.server.latency_ms > 0:
            time.sleep(self.server.latency_ms / 1000)
        cert = None
        if isinstance(self.connection, ssl.SSLSocket):
            cert = self.connection.getpeercert(binary_form=True)
        answer = self.server.simulator.handle(
            self.command,
            self.path,
            dict(self.headers.items()),
            body,
            client_cert=cert,
            client_ip=self.client_address[0],
        )
        if answer.drop:
            self.close_connection = True
            return
        self.send_response(answer.status)
        for key, value in answer.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(answer.body)
        self.close_connection = True

    def do_POST(self) -> None:
        self._serve()

    def do_GET(self) -> None:
        self._serve()
