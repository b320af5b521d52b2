"""Receipt SMS: enqueued with the document (VCR API and V-SDC) on SQLite and PostgreSQL, refused phones write
nothing, and delivery over SMPP to a real (fake) SMSC on loopback: UCS-2 Armenian, exactly once across an
outage, throttling and a lost answer; a permanent error stops; delivery receipts settle the message."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from openvcr.config import Settings
from openvcr.outbox import repository as outbox
from openvcr.receipts import sms
from openvcr.receipts.sms_delivery import RECEIPT_SMS, SmsWorker, banner, held_kinds, sms_worker
from openvcr.registers.repository import set_sms_receipts
from openvcr.store.db import now_ms
from openvcr.store.schema.confirmations import outbox_confirmations
from openvcr.store.schema.documents import documents
from openvcr.store.schema.outbox import outbox_attempts, outbox_messages
from tests.e2e.server import free_port
from tests.fake_smsc import ESME_RINVDSTADR, ESME_RTHROTTLED, FakeSmsc, fake_smsc
from tests.integration.documents.helpers import engine_of, set_late_fiscalization, states, switchable_src
from tests.integration.foundation.conftest import Api
from tests.integration.prepayments.helpers import (
    PHONE,
    buyer,
    post_prepayment,
    post_sale,
    prepayment_body,
    refund,
    sale_body,
    side_effects,
)
from tests.integration.receipts.smtp_sink import make_certificates

LATER = 10**15  # a "now" after every backoff and lease
PUBLIC = "https://receipts.shop.test"
BUSINESS = "«Ավազարկղ» ՍՊԸ"


def sms_on(api: Api, enabled: bool = True) -> None:
    with api.db.write() as conn:
        set_sms_receipts(conn, api.init.register_id, enabled)


def sell(api: Api, **buyer_fields: Any) -> dict[str, Any]:
    body = sale_body("22000", quantity="2", cash="44000")
    body["buyer"] = buyer(**buyer_fields)
    response = post_sale(api, body)
    assert response.status_code == 200, response.text
    return dict(response.json())


def messages(api: Api) -> list[Any]:
    with api.db.read() as conn:
        return list(
            conn.execute(
                select(outbox_messages).where(outbox_messages.c.kind == RECEIPT_SMS).order_by(outbox_messages.c.id)
            )
        )


def message_row(api: Any, key: str) -> Any:
    with api.db.read() as conn:
        return conn.execute(select(outbox_messages).where(outbox_messages.c.key == key)).one()


def attempts(api: Any, key: str) -> list[tuple[int, str]]:
    with api.db.read() as conn:
        rows = conn.execute(
            select(outbox_attempts.c.attempt, outbox_attempts.c.outcome)
            .join(outbox_messages, outbox_messages.c.id == outbox_attempts.c.message_id)
            .where(outbox_messages.c.key == key)
            .order_by(outbox_attempts.c.attempt)
        )
        return [(row.attempt, row.outcome) for row in rows]


def sms_settings(settings: Settings, port: int, **extra: Any) -> Settings:
    return settings.model_copy(
        update={
            "smpp_url": SecretStr(f"smpp://openvcr:secret@127.0.0.1:{port}?source=OpenVCR"),
            "smpp_timeout_seconds": 2.0,
            "public_url": PUBLIC,
            "sms_per_second": 1000.0,
            **extra,
        }
    )


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def worker(api: Api, port: int) -> Iterator[SmsWorker]:
    built = sms_worker(sms_settings(api.settings, port), api.db)
    assert built is not None
    try:
        yield built
    finally:
        built.session.close()


def poll_until(worker: SmsWorker, check: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        worker.session.poll(0.1)


# ---- enqueue: in the document's transaction ---------------------------------------------------------------------


def test_a_sale_with_buyer_phone_on_an_sms_register_enqueues_one_receipt_sms(api: Api) -> None:
    sms_on(api)
    created = sell(api, receipt={"email": "b@example.am", "language": "ru"})
    [row] = messages(api)
    assert row.key == f"receipt-sms:{created['urlId']}" and row.status == "pending"
    assert json.loads(row.payload) == {"urlId": created["urlId"], "phone": PHONE, "language": "ru"}
    again = post_sale(api, sale_body("22000", quantity="2", cash="44000"), **{"Idempotency-Key": "k1"})
    replay = post_sale(api, sale_body("22000", quantity="2", cash="44000"), **{"Idempotency-Key": "k1"})
    assert again.status_code == replay.status_code == 200
    assert len(messages(api)) == 2  # one per document: the replay adds none


def test_the_sms_is_written_only_when_the_document_completes(api: Api) -> None:
    sms_on(api)
    with switchable_src(api) as src:
        src.down = True
        dropped = post_sale(api, sale_body())
        assert dropped.status_code == 502  # SRC unreachable, late fiscalization off: dropped
        assert states(api) == ["dropped"] and messages(api) == []
        set_late_fiscalization(api, True)
        deferred = post_sale(api, sale_body())
        assert deferred.status_code == 502 and states(api) == ["dropped", "deferred"]
        assert messages(api) == []  # kept for later: no receipt yet, no SMS
        src.down = False
    assert engine_of(api).recover(min_age_ms=0).completed == 1
    [row] = messages(api)
    with api.db.read() as conn:
        url_id = conn.execute(select(documents.c.url_id).where(documents.c.state == "completed")).scalar_one()
    assert row.key == f"receipt-sms:{url_id}"


def test_sms_off_by_default_and_no_phone_enqueue_nothing(api: Api) -> None:
    sell(api)  # the register's SMS receipts are off by default
    assert messages(api) == []
    sms_on(api)
    sell(api, phone=None, email="b@example.am")
    assert messages(api) == []
    sms_on(api, enabled=False)
    sell(api)
    assert messages(api) == []


def test_prepayments_and_refunds_carry_the_buyers_phone(api: Api) -> None:
    sms_on(api)
    response = post_prepayment(api, prepayment_body("10000"))
    assert response.status_code == 200, response.text
    prepaid = response.json()
    refunded = refund(api, prepaid["prepaymentId"])
    assert refunded.status_code == 200, refunded.text
    sold = sell(api)
    sale_refund = api.client.post(
        "/api/v1/sales/refund",
        json={"cashier": {"id": 1}, "saleId": sold["saleId"], "reason": "customer_request"},
        headers=api.headers,
    )
    assert sale_refund.status_code == 200, sale_refund.text
    keys = [row.key for row in messages(api)]
    assert keys == [f"receipt-sms:{doc['urlId']}" for doc in (prepaid, refunded.json(), sold, sale_refund.json())]


@pytest.mark.parametrize("phone", ["091123456", "37491123456", "+374 91 123456", "+0037491123456", ""])
def test_a_phone_not_in_e164_is_a_400_naming_the_field_and_writes_nothing(api: Api, phone: str) -> None:
    sms_on(api)
    before = side_effects(api)
    body = sale_body()
    body["buyer"] = buyer(phone=phone)
    response = post_sale(api, body)
    assert response.status_code == 400, response.text
    [issue] = response.json()["issues"]
    assert issue["path"] == ["buyer", "phone"] and "E.164" in issue["message"]
    assert side_effects(api) == before and messages(api) == []
    prepayment = post_prepayment(api, prepayment_body(buyer=buyer(phone=phone)))
    assert prepayment.status_code == 400 and prepayment.json()["issues"][0]["path"] == ["buyer", "phone"]
    assert side_effects(api) == before and messages(api) == []


def test_without_smpp_the_messages_are_held_and_the_banner_says_how_to_enable(api: Api) -> None:
    assert sms_worker(api.settings, api.db) is None
    assert RECEIPT_SMS in held_kinds(api.settings)
    assert "OPENVCR_SMPP_URL" in banner(api.settings)
    configured = sms_settings(api.settings, 2775)
    assert held_kinds(configured) == {}
    assert "smpp://127.0.0.1:2775 (as openvcr, transceiver, from OpenVCR)" in banner(configured)
    assert "secret" not in banner(configured)


# ---- delivery over SMPP -----------------------------------------------------------------------------------------


def submitted_text(smsc: FakeSmsc) -> str:
    return "".join(part.text for part in smsc.submitted if part.message_id)


def test_a_sale_receipt_goes_out_as_ucs2_armenian_parts_once_and_a_receipt_marks_it_delivered(
    api: Api, port: int, worker: SmsWorker, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sms_on(api)
    created = sell(api)
    key = f"receipt-sms:{created['urlId']}"
    with fake_smsc(port) as smsc:
        assert worker.outbox.run_once() == 1
        assert worker.outbox.run_once(LATER) == 0  # sent: never tried again
        link = f"{PUBLIC}/r/{created['urlId']}"
        expected = sms.compose(sms.SmsFacts("sale", BUSINESS, Decimal("44000"), created["fiscal"], link, "hy"))
        assert submitted_text(smsc) == expected
        assert BUSINESS in expected and created["fiscal"] in expected and link in expected
        parts = smsc.submitted
        assert len(parts) == len(sms.encode(expected, 0).parts) >= 2
        assert {(p.destination, p.dest_ton, p.dest_npi, p.data_coding, p.registered_delivery) for p in parts} == {
            ("37491123456", 1, 1, 8, 1)
        }
        assert {(p.source, p.source_ton) for p in parts} == {("OpenVCR", 5)}
        assert [p.udh[5] for p in parts] == list(range(1, len(parts) + 1))  # one concatenated message
        assert smsc.binds[0][:2] == (0x09, "openvcr")  # a transceiver: the receipts come back on it
        row = message_row(api, key)
        assert row.status == "sent" and attempts(api, key) == [(1, "sent")]
        with api.db.read() as conn:
            [info] = outbox.list_messages(conn, [RECEIPT_SMS])
        assert info.remote_ids == tuple(p.message_id for p in parts)
        for part in parts[:-1]:
            assert part.message_id is not None and smsc.receipt(part.message_id, "DELIVRD")
        poll_until(worker, lambda: len(smsc.receipt_acks) == len(parts) - 1)
        assert message_row(api, key).status == "sent"  # one part still travels
        assert parts[-1].message_id is not None and smsc.receipt(parts[-1].message_id, "DELIVRD")
        poll_until(worker, lambda: message_row(api, key).status == "delivered")
        assert [status for _id, status in smsc.receipt_acks] == [0] * len(parts)
    assert len(smsc.submitted) == len(parts)
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert "+374******56" in logged and PHONE not in logged and "37491123456" not in logged
    assert b"37491123456".hex() not in logged  # nor in a PDU dump


def test_an_undelivered_receipt_fails_the_message_with_the_smscs_state(api: Api, port: int, worker: SmsWorker) -> None:
    sms_on(api)
    created = sell(api, receipt={"email": "b@example.am", "language": "en"})
    key = f"receipt-sms:{created['urlId']}"
    with fake_smsc(port) as smsc:
        smsc.auto_receipt = "UNDELIV"
        assert worker.outbox.run_once() == 1
        poll_until(worker, lambda: message_row(api, key).status == "failed")
        text = submitted_text(smsc)
        assert text.startswith(f"{BUSINESS}: Receipt 44000.00 AMD, fiscal No. {created['fiscal']} ")
        assert text.endswith(f"{PUBLIC}/r/{created['urlId']}?lang=en")
        assert "delivery receipt: UNDELIV" in message_row(api, key).last_error
        assert worker.outbox.run_once(LATER) == 0


def test_an_smsc_down_for_a_while_gets_the_message_once_afterwards(api: Api, port: int, worker: SmsWorker) -> None:
    sms_on(api)
    created = sell(api)
    key = f"receipt-sms:{created['urlId']}"
    assert worker.outbox.run_once() == 1
    row = message_row(api, key)
    assert row.status == "pending" and "cannot reach the SMSC" in row.last_error
    assert attempts(api, key) == [(1, "retry")]  # nothing was handed over
    smsc = FakeSmsc(port).start()
    try:
        assert worker.outbox.run_once(LATER) == 1
        count = len(smsc.submitted)
        assert count >= 2 and message_row(api, key).status == "sent"
        smsc.stop()  # the SMSC goes away with the session bound …
        worker.session.poll(0.2)
        smsc.start()  # … and comes back: nothing is sent again
        assert worker.outbox.run_once(LATER) == 0
        assert len(smsc.submitted) == count
    finally:
        smsc.stop()


def test_a_permanent_error_stops_retries(api: Api, port: int, worker: SmsWorker) -> None:
    sms_on(api)
    created = sell(api)
    key = f"receipt-sms:{created['urlId']}"
    with fake_smsc(port) as smsc:
        smsc.fail_next = [ESME_RINVDSTADR]
        assert worker.outbox.run_once() == 1
        row = message_row(api, key)
        assert row.status == "failed" and "0x0000000B" in row.last_error and "+374******56" in row.last_error
        assert PHONE not in row.last_error
        assert worker.outbox.run_once(LATER) == 0
        assert len(smsc.submitted) == 1 and smsc.submitted[0].message_id is None


def test_throttling_retries_later_and_parts_already_accepted_are_not_sent_again(
    api: Api, port: int, worker: SmsWorker
) -> None:
    sms_on(api)
    created = sell(api)
    key = f"receipt-sms:{created['urlId']}"
    with fake_smsc(port) as smsc:
        smsc.fail_next = [0, ESME_RTHROTTLED]  # the first part is taken, the second throttled
        assert worker.outbox.run_once() == 1
        row = message_row(api, key)
        assert row.status == "pending" and "0x00000058" in row.last_error
        assert worker.outbox.run_once(LATER) == 1
        accepted = [p for p in smsc.submitted if p.message_id]
        assert [p.udh[5] for p in accepted] == list(range(1, len(accepted) + 1))  # each part once
        assert attempts(api, key) == [(1, "retry"), (2, "sent")]
        assert message_row(api, key).status == "sent"


def test_a_lost_answer_is_in_doubt_and_never_sent_again(api: Api, port: int, worker: SmsWorker) -> None:
    sms_on(api)
    created = sell(api)
    key = f"receipt-sms:{created['urlId']}"
    with fake_smsc(port) as smsc:
        smsc.silent_next = 1
        assert worker.outbox.run_once() == 1
        row = message_row(api, key)
        assert row.status == "failed" and "in doubt" in row.last_error
        assert worker.outbox.run_once(LATER) == 0
        assert len(smsc.submitted) == 1


def test_a_crashed_attempt_after_the_handover_fails_as_in_doubt(api: Api, port: int, worker: SmsWorker) -> None:
    sms_on(api)
    created = sell(api)
    key = f"receipt-sms:{created['urlId']}"
    with api.db.write() as conn:  # an attempt that handed the message over, then its process died
        message = outbox.claim(conn, [RECEIPT_SMS], now_ms(), lease_ms=0)
        assert message is not None
        outbox.mark_handed_over(conn, message)
    with fake_smsc(port) as smsc:
        assert worker.outbox.run_once(LATER) == 1
        assert len(smsc.submitted) == 0
    row = message_row(api, key)
    assert row.status == "failed" and "in doubt" in row.last_error


def test_a_receipt_for_an_unknown_id_changes_nothing(api: Api) -> None:
    with api.db.write() as conn:
        assert outbox.confirm(conn, [RECEIPT_SMS], "nope", delivered=True, detail=None, now=1) is None
        assert conn.execute(select(func.count()).select_from(outbox_confirmations)).scalar_one() == 0


# ---- the HTTP gateway (providers without SMPP) ------------------------------------------------------------------


class Gateway:
    """A provider's HTTP API on loopback: records each POST, answers the scripted statuses (then 200)."""

    def __init__(self, port: int) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.statuses: list[int] = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                gateway.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = gateway.statuses.pop(0) if gateway.statuses else 200
                answer = b'{"error":"bad number +37491123456"}' if status == 400 else b'{"id":"x1"}'
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def http_worker(api: Api, port: int, **extra: Any) -> SmsWorker:
    settings = api.settings.model_copy(
        update={
            "sms_http_url": SecretStr(f"http://127.0.0.1:{port}/send?key=k3y"),
            "sms_http_token": SecretStr("t0ken"),
            "smpp_timeout_seconds": 2.0,
            "public_url": PUBLIC,
            **extra,
        }
    )
    assert held_kinds(settings) == {} and "http://127.0.0.1" in banner(settings) and "k3y" not in banner(settings)
    built = sms_worker(settings, api.db)
    assert built is not None and built.session is None
    return built


def test_the_http_gateway_gets_one_json_post_with_number_text_and_key(api: Api, port: int) -> None:
    sms_on(api)
    created = sell(api)
    key = f"receipt-sms:{created['urlId']}"
    worker = http_worker(api, port)
    gateway = Gateway(port)
    try:
        assert worker.outbox.run_once() == 1
        assert worker.outbox.run_once(LATER) == 0
    finally:
        gateway.close()
    [(headers, body)] = gateway.requests
    assert headers["idempotency-key"] == key and headers["authorization"] == "Bearer t0ken"
    sent = json.loads(body)
    assert sent == {
        "to": PHONE,
        "text": sms.compose(
            sms.SmsFacts("sale", BUSINESS, Decimal("44000"), created["fiscal"], f"{PUBLIC}/r/{created['urlId']}")
        ),
        "from": "OpenVCR",
        "reference": key,
    }
    assert message_row(api, key).status == "delivered" and attempts(api, key) == [(1, "delivered")]


def test_the_http_gateway_as_a_form_with_the_providers_field_names(api: Api, port: int) -> None:
    sms_on(api)
    created = sell(api)
    worker = http_worker(api, port, sms_http_form=True, sms_http_fields="to=msisdn,text=message")
    gateway = Gateway(port)
    try:
        assert worker.outbox.run_once() == 1
    finally:
        gateway.close()
    [(headers, body)] = gateway.requests
    assert headers["content-type"] == "application/x-www-form-urlencoded"
    form = parse_qs(body.decode())
    assert set(form) == {"msisdn", "message"} and form["msisdn"] == [PHONE]
    assert created["fiscal"] in form["message"][0]


def test_the_http_gateway_retries_429_and_5xx_and_outages_and_stops_on_400(api: Api, port: int) -> None:
    sms_on(api)
    first, second = sell(api), sell(api)
    worker = http_worker(api, port)
    assert worker.outbox.run_once() == 2  # the gateway is down: nothing was sent
    for created in (first, second):
        row = message_row(api, f"receipt-sms:{created['urlId']}")
        assert row.status == "pending" and "cannot reach the SMS gateway" in row.last_error
    gateway = Gateway(port)
    try:
        gateway.statuses = [503, 429]
        assert worker.outbox.run_once(LATER) == 2
        assert {message_row(api, f"receipt-sms:{c['urlId']}").status for c in (first, second)} == {"pending"}
        gateway.statuses = [400]
        assert worker.outbox.run_once(LATER) == 2
        rows = [message_row(api, f"receipt-sms:{c['urlId']}") for c in (first, second)]
        assert sorted(row.status for row in rows) == ["delivered", "failed"]
        [failed] = [row for row in rows if row.status == "failed"]
        assert "answered 400" in failed.last_error and PHONE not in failed.last_error
        assert worker.outbox.run_once(LATER) == 0
    finally:
        gateway.close()
    assert len(gateway.requests) == 4


def test_smpp_and_an_http_gateway_together_are_refused() -> None:
    with pytest.raises(ValueError, match="not both"):
        Settings(smpp_url="smpp://a:b@host:2775", sms_http_url="https://gw.example/send")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="http"):
        Settings(sms_http_url="ftp://gw.example/send")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="OPENVCR_SMS_HTTP_FIELDS"):
        Settings(sms_http_url="https://gw.example/send", sms_http_fields="number=msisdn,text=t")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="OPENVCR_SMPP_URL"):
        Settings(smpp_url="smpp://host:2775")  # type: ignore[arg-type]


def test_smpps_verifies_the_smscs_certificate(api: Api, port: int, tmp_path: Path) -> None:
    certificates = make_certificates(tmp_path / "tls")
    sms_on(api)
    created = sell(api)
    key = f"receipt-sms:{created['urlId']}"
    url = SecretStr(f"smpps://openvcr:secret@127.0.0.1:{port}?source=OpenVCR")
    untrusting = sms_worker(sms_settings(api.settings, port, smpp_url=url), api.db)
    trusting = sms_worker(sms_settings(api.settings, port, smpp_url=url, smpp_ca_file=certificates.ca), api.db)
    assert untrusting is not None and trusting is not None
    with fake_smsc(port, tls=certificates.server_context()) as smsc:
        assert untrusting.outbox.run_once() == 1  # the system CAs do not know the test CA: nothing is sent
        row = message_row(api, key)
        assert row.status == "pending" and "cannot reach the SMSC" in row.last_error and smsc.submitted == []
        assert trusting.outbox.run_once(LATER) == 1
        assert message_row(api, key).status == "sent" and len(smsc.submitted) >= 2
        assert all(part.message_id for part in smsc.submitted)
        trusting.session.close()  # type: ignore[union-attr]
