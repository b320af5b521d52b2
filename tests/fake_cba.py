"""A local HTTP server that answers like the CBA's exchange-rate web service (SOAP 1.1 over HTTP), for tests.

It serves the publications of ``tests/data`` with their ``CurrentDate`` moved to the date it is told
(``publication``), checks the SOAP action against the body's operation, and can be told to fail: answer the
next ``fail_next`` requests with ``fail_status``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

DATA = Path(__file__).parent / "data"
ENVELOPE = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soap:Body>{body}</soap:Body></soap:Envelope>'
)


@dataclass
class FakeCba:
    publication: date
    fail_next: int = 0
    fail_status: int = 503
    requests: list[tuple[str, str]] = field(default_factory=list)  # (SOAP action, date argument or "")
    url: str = ""

    def answer(self, action: str, body: str) -> tuple[int, str]:
        operation = action.strip('"').rsplit("/", 1)[-1]
        argument = re.search(r"<date>([^<]*)</date>", body)
        self.requests.append((operation, argument.group(1) if argument else ""))
        if self.fail_next > 0:
            self.fail_next -= 1
            return self.fail_status, "<error/>"
        if f"<{operation} " not in body:
            return 500, "<soap:Fault>action and body disagree</soap:Fault>"
        day = self.publication
        if operation == "ExchangeRatesByDate" and argument:
            day = min(day, date.fromisoformat(argument.group(1)[:10]))
        if operation == "ExchangeRatesLatest":
            inner = (DATA / "cba_exchange_rates_latest.xml").read_text(encoding="utf-8").split("?>", 1)[1]
            inner = inner.replace("<ExchangeRates ", "<ExchangeRatesLatestResult ", 1)
            inner = inner.replace("</ExchangeRates>", "</ExchangeRatesLatestResult>")
            text = ENVELOPE.format(
                body=f'<ExchangeRatesLatestResponse xmlns="http://www.cba.am/">{inner}</ExchangeRatesLatestResponse>'
            )
        elif operation == "ExchangeRatesByDate":
            text = (DATA / "cba_exchange_rates_by_date.xml").read_text(encoding="utf-8")
        else:
            return 500, "<soap:Fault>unknown operation</soap:Fault>"
        return 200, re.sub(r"<CurrentDate>[^<]*</CurrentDate>", f"<CurrentDate>{day}T00:00:00</CurrentDate>", text)


@contextmanager
def fake_cba(publication: date) -> Iterator[FakeCba]:
    fake = FakeCba(publication)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode("utf-8")
            status, text = fake.answer(self.headers.get("SOAPAction", ""), body)
            data = text.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "text/xml; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/exchangerates.asmx"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
