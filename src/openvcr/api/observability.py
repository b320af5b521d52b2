"""Request ids, structured JSON logs and Prometheus metrics.

Every response carries ``X-Request-Id`` (the caller's, when it sent a sane one). Log records are JSON objects
carrying the request id of the request being served. API keys never reach the logs: only the key's id and
visible prefix are ever logged.

Logging never blocks a request: ``configure_logging`` puts a ``QueueHandler`` on the root logger, which only
stamps a record (message, request id, exception text) and queues it; one ``QueueListener`` thread formats the
JSON lines and writes them. ``stop_logging`` (at shutdown) writes what is queued and goes back to writing
directly. The middleware is plain ASGI: no task or thread of its own per request.
"""

from __future__ import annotations

import atexit
import contextvars
import copy
import json
import logging
import queue
import re
import secrets
import sys
import time
from logging.handlers import QueueHandler, QueueListener
from typing import Any, TextIO

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_PRODUCT = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+(?:/[!#$%&'*+.^_`|~0-9A-Za-z-]+)?")
_REQUEST_ID = "openvcr_request_id"  # the attribute a queued record carries its request id in

REGISTRY = CollectorRegistry(auto_describe=True)
REQUESTS = Counter(
    "openvcr_http_requests_total", "HTTP requests served", ["method", "route", "status"], registry=REGISTRY
)
LATENCY = Histogram(
    "openvcr_http_request_seconds",
    "HTTP request latency",
    ["method", "route"],
    registry=REGISTRY,
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
CERTIFICATE_DAYS_LEFT = Gauge(
    "openvcr_certificate_days_left",
    "Whole days until the register's own SRC client certificate expires (negative: expired)",
    ["register"],
    registry=REGISTRY,
)
_certificate_labels: set[str] = set()


def publish_certificate_days(days_by_register: dict[int, int]) -> None:
    """Set ``openvcr_certificate_days_left`` per register; registers no longer watched disappear."""
    current = {str(register): days for register, days in days_by_register.items()}
    for gone in _certificate_labels - current.keys():
        CERTIFICATE_DAYS_LEFT.remove(gone)
    for register, days in current.items():
        CERTIFICATE_DAYS_LEFT.labels(register=register).set(days)
    _certificate_labels.clear()
    _certificate_labels.update(current)


access_log = logging.getLogger("openvcr.access")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id and extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        # A queued record brings the request id it was logged under; a record formatted at once reads it here.
        rid = getattr(record, _REQUEST_ID) if hasattr(record, _REQUEST_ID) else request_id_var.get()
        if rid:
            entry["requestId"] = rid
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False, default=str)


class RequestQueueHandler(QueueHandler):
    """Queues a record with what only the request's own context knows: its request id, its message and the
    text of its exception. Formatting and writing happen on the listener's thread."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        record = copy.copy(record)
        setattr(record, _REQUEST_ID, request_id_var.get())
        record.msg = record.getMessage()
        record.args = None
        if record.exc_info:
            record.exc_text = _EXCEPTIONS.formatException(record.exc_info)
            record.exc_info = None
        return record


_EXCEPTIONS = logging.Formatter()
_listener: QueueListener | None = None
_direct: logging.Handler | None = None


def configure_logging(level: str = "info", stream: TextIO | None = None) -> None:
    """Route every logger (uvicorn's too) through a queue to one thread that writes JSON lines to ``stream``
    (default stderr). Calling it again replaces the previous configuration."""
    global _listener, _direct
    stop_logging()
    writer = logging.StreamHandler(stream if stream is not None else sys.stderr)
    writer.setFormatter(JsonFormatter())
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    _listener = QueueListener(records, writer, respect_handler_level=True)
    _direct = writer
    root = logging.getLogger()
    root.handlers = [RequestQueueHandler(records)]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers = []
        logger.propagate = True
    logging.getLogger("uvicorn.access").disabled = True
    _listener.start()


def stop_logging() -> None:
    """Write every queued record, stop the listener thread, and write later records directly (no requests
    are served any more). Does nothing when ``configure_logging`` did not run."""
    global _listener
    listener, _listener = _listener, None
    if listener is None:
        return
    listener.stop()  # drains the queue, then joins the thread
    root = logging.getLogger()
    if _direct is not None and any(isinstance(h, RequestQueueHandler) for h in root.handlers):
        root.handlers = [_direct]


atexit.register(stop_logging)


def new_request_id() -> str:
    return secrets.token_hex(8)


def product_token(user_agent: bytes | None) -> str | None:
    """The first product of a ``User-Agent`` (``openvcr-python/0.3.0`` of ``openvcr-python/0.3.0 httpx/…``),
    at most 64 characters; ``None`` when there is none."""
    if not user_agent:
        return None
    match = _PRODUCT.match(user_agent[:200].decode("latin-1"))
    return match.group(0)[:64] if match else None


class RequestContextMiddleware:
    """Assigns the request id, times the request, logs it and counts it in the metrics."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = agent = None
        for name, value in scope.get("headers", []):
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
            elif name == b"user-agent":
                agent = value
        rid = incoming if incoming and _SANE_ID.match(incoming) else new_request_id()
        token = request_id_var.set(rid)
        scope.setdefault("state", {})["request_id"] = rid
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", rid.encode("latin-1")))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            REQUESTS.labels(scope["method"], template, str(status)).inc()
            LATENCY.labels(scope["method"], template).observe(elapsed)
            access_log.info(
                "request",
                extra={
                    "fields": {
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status,
                        "durationMs": round(elapsed * 1000, 3),
                        "keyId": scope.get("state", {}).get("key_id"),
                        "userAgent": product_token(agent),
                    }
                },
            )
            request_id_var.reset(token)
