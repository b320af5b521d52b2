"""The load generator: ``python -m bench.loadgen SPEC.json OUT.json``, run as its own process.

N keep-alive HTTP/1.1 clients (raw asyncio streams on uvloop, optionally TLS with a client certificate) send
pre-encoded requests in a loop for ``duration`` seconds after a short warm-up, and record every answer's status
and latency. The request bytes are built once; a body may contain the marker ``@@N@@``, replaced per request by
a run-unique number (for documents that must differ, e.g. V-SDC invoice numbers). Bodies of 200 answers are kept
(``collect``) so that the caller can check that every acknowledged document is distinct and stored.

The generator stays cheap per request (no HTTP library, no JSON on the hot path) so that it is not the
bottleneck: on this machine one process issues well over 20,000 requests a second against a trivial server.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import ssl
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MARKER = b"@@N@@"


@dataclass
class Spec:
    host: str
    port: int
    duration: float
    concurrency: int
    requests: list[dict[str, Any]]
    warmup: float = 1.0
    tls: dict[str, str] | None = None
    collect: bool = False
    client_offset: int = 0
    # per client: the index of the request list to use (lets clients spread over registers); default all
    client_groups: list[list[int]] | None = None
    timeout: float = 60.0


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)  # seconds, answers completed inside the window
    statuses: dict[int, int] = field(default_factory=dict)  # inside the window
    all_statuses: dict[int, int] = field(default_factory=dict)  # warm-up and tail included
    errors: int = 0  # connection errors / timeouts (inside and outside the window)
    bodies: list[bytes] = field(default_factory=list)


def _encode(host: str, port: int, request: dict[str, Any]) -> tuple[bytes, bytes, bytes]:
    """(head before Content-Length value, head after, body); the body may carry the marker."""
    method = request.get("method", "GET")
    path = request["path"]
    headers = dict(request.get("headers") or {})
    body = request.get("body")
    data = b"" if body is None else (body if isinstance(body, bytes) else str(body).encode("utf-8"))
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: keep-alive"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if data or method in ("POST", "PUT", "PATCH"):
        head = ("\r\n".join(lines) + "\r\nContent-Length: ").encode("latin-1")
        return head, b"\r\n\r\n", data
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"), b"", b""


async def _read_answer(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    close = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        lowered = name.strip().lower()
        if lowered == b"content-length":
            length = int(value)
        elif lowered == b"connection" and value.strip().lower() == b"close":
            close = True
    body = await reader.readexactly(length) if length else b""
    return status, body, close


async def _client(
    spec: Spec,
    encoded: list[tuple[bytes, bytes, bytes]],
    order: list[int],
    counter: itertools.count[int],
    tally: Tally,
    window: tuple[float, float],
    stop_at: float,
    context: ssl.SSLContext | None,
) -> None:
    start, end = window
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    cycle = itertools.cycle(order)
    while time.perf_counter() < stop_at:
        head, tail, body = encoded[next(cycle)]
        if tail:
            if MARKER in body:
                body = body.replace(MARKER, str(next(counter)).encode())
            payload = head + str(len(body)).encode() + tail + body
        else:
            payload = head
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(
                    spec.host, spec.port, ssl=context, server_hostname=spec.host if context else None
                )
            assert reader is not None
            sent = time.perf_counter()
            writer.write(payload)
            status, answer, close = await asyncio.wait_for(_read_answer(reader), spec.timeout)
            done = time.perf_counter()
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ssl.SSLError, ValueError):
            tally.errors += 1
            if writer is not None:
                writer.close()
            reader = writer = None
            await asyncio.sleep(0.01)
            continue
        tally.all_statuses[status] = tally.all_statuses.get(status, 0) + 1
        if spec.collect and status == 200:
            tally.bodies.append(answer)
        if start <= sent and done <= end:
            tally.latencies.append(done - sent)
            tally.statuses[status] = tally.statuses.get(status, 0) + 1
        if close:
            writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


def _context(tls: dict[str, str] | None) -> ssl.SSLContext | None:
    if not tls:
        return None
    context = ssl.create_default_context(cafile=tls["ca"])
    if tls.get("cert"):
        context.load_cert_chain(tls["cert"], tls["key"])
    return context


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


async def run(spec: Spec) -> dict[str, Any]:
    encoded = [_encode(spec.host, spec.port, r) for r in spec.requests]
    context = _context(spec.tls)
    counter = itertools.count(spec.client_offset + 1)
    tally = Tally()
    begin = time.perf_counter()
    window = (begin + spec.warmup, begin + spec.warmup + spec.duration)
    groups = spec.client_groups or [list(range(len(encoded)))]
    tasks = []
    for n in range(spec.concurrency):
        group = groups[n % len(groups)]
        shift = (n // len(groups)) % len(group)
        order = group[shift:] + group[:shift]
        tasks.append(_client(spec, encoded, order, counter, tally, window, window[1], context))
    await asyncio.gather(*tasks)
    finished = time.perf_counter()
    latencies = sorted(tally.latencies)
    ok = tally.statuses.get(200, 0)
    return {
        "duration_s": spec.duration,
        "concurrency": spec.concurrency,
        "requests": len(latencies),
        "ok": ok,
        "rps": ok / spec.duration,
        "statuses": {str(k): v for k, v in sorted(tally.statuses.items())},
        "all_statuses": {str(k): v for k, v in sorted(tally.all_statuses.items())},
        "errors": tally.errors + sum(v for k, v in tally.statuses.items() if k != 200),
        "connection_errors": tally.errors,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p95_ms": percentile(latencies, 0.95) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "max_ms": (latencies[-1] * 1000) if latencies else 0.0,
        "tail_s": finished - window[1],
        "bodies": [b.decode("utf-8", "replace") for b in tally.bodies] if spec.collect else [],
    }


def main(argv: list[str]) -> int:
    spec = Spec(**json.loads(Path(argv[0]).read_text()))
    try:
        import uvloop
    except ImportError:  # uvloop comes with uvicorn[standard]; plain asyncio works too, a little slower
        result = asyncio.run(run(spec))
    else:
        result = uvloop.run(run(spec))
    Path(argv[1]).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
