"""Receipt e-mails through the outbox to a real SMTP server (aiosmtpd): plain, STARTTLS and implicit TLS; the
language, link and PDF; exactly one message per receipt across outages, 4xx, 5xx, two workers and crashes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError
from sqlalchemy import select

from openvcr.config import Settings
from openvcr.outbox import repository as outbox
from openvcr.outbox.worker import OutboxWorker
from openvcr.receipts.delivery import RECEIPT_EMAIL, ReceiptMailer, banner, held_kinds, mail_worker
from openvcr.receipts.i18n import STRINGS
from openvcr.receipts.smtp import SmtpServer
from openvcr.store.db import now_ms
from openvcr.store.schema.outbox import outbox_attempts, outbox_messages
from tests.e2e.server import free_port
from tests.integration.foundation.conftest import Api
from tests.integration.prepayments.helpers import buyer, post_sale, prepayment_body, sale_body
from tests.integration.receipts.pdftext import pdf_text
from tests.integration.receipts.smtp_sink import PASSWORD, USER, Certificates, Sink, make_certificates, smtp_server

LATER = 10**15  # a "now" after every backoff and lease
BUYER = "buyer@example.am"
FROM = "Ավազարկղ <receipts@shop.test>"


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("smtp-tls"))


@pytest.fixture
def port() -> int:
    return free_port()


def mail_settings(api: Api, url: str, certificates: Certificates | None = None, **extra: Any) -> Settings:
    return api.settings.model_copy(
        update={
            "smtp_url": SecretStr(url),
            "mail_from": FROM,
            "mail_reply_to": "help@shop.test",
            "smtp_ca_file": certificates.ca if certificates else None,
            "smtp_timeout_seconds": 5.0,
            "public_url": "https://receipts.shop.test",
            **extra,
        }
    )


def worker_for(api: Api, settings: Settings) -> OutboxWorker:
    worker = mail_worker(settings, api.db)
    assert worker is not None
    return worker


def sell(api: Api, email: str = BUYER, language: str = "hy", **headers: str) -> dict[str, Any]:
    body = sale_body("22000", quantity="2", cash="44000")
    body["buyer"] = buyer(receipt={"email": email, "language": language})
    response = post_sale(api, body, **headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def attempts(api: Api, key: str) -> list[tuple[int, str]]:
    with api.db.read() as conn:
        rows = conn.execute(
            select(outbox_attempts.c.attempt, outbox_attempts.c.outcome)
            .join(outbox_messages, outbox_messages.c.id == outbox_attempts.c.message_id)
            .where(outbox_messages.c.key == key)
            .order_by(outbox_attempts.c.attempt)
        )
        return [(row.attempt, row.outcome) for row in rows]


def message_row(api: Api, key: str) -> Any:
    with api.db.read() as conn:
        return conn.execute(select(outbox_messages).where(outbox_messages.c.key == key)).one()


def parts(received: Any) -> tuple[str, str, bytes]:
    message = received.message
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    [attachment] = list(message.iter_attachments())
    assert text is not None and html is not None
    assert attachment.get_content_type() == "application/pdf"
    return text.get_content(), html.get_content(), attachment.get_content()


@pytest.mark.parametrize("language", ["hy", "ru", "en"])
def test_a_sale_with_a_receipt_email_sends_exactly_one_message_in_its_language(
    api: Api, port: int, language: str
) -> None:
    created = sell(api, language=language)
    key = f"receipt-email:{created['urlId']}"
    worker = worker_for(api, mail_settings(api, f"smtp://127.0.0.1:{port}?starttls=off"))
    with smtp_server(port, Sink()) as sink:
        assert worker.run_once() == 1
        assert worker.run_once(LATER) == 0  # delivered: never tried again
        [received] = sink.received
    assert received.rcpt_tos == (BUYER,) and received.mail_from == "receipts@shop.test"
    message = received.message
    subject = {"hy": "Վաճառքի կտրոն", "ru": "Кассовый чек", "en": "Sales receipt"}[language]
    assert message["Subject"] == f"{subject} № {created['srcReceiptId']} — «Ավազարկղ» ՍՊԸ"
    assert message["To"] == BUYER and message["Reply-To"] == "help@shop.test"
    assert message["Content-Language"] == language
    row = message_row(api, key)
    assert message["Message-ID"] == f"<receipt.{created['urlId']}.{row.id}@shop.test>"
    text, html, pdf = parts(received)
    link = f"https://receipts.shop.test/r/{created['urlId']}" + ("" if language == "hy" else f"?lang={language}")
    assert link in text and f'href="{link}"' in html
    assert "«Ավազարկղ» ՍՊԸ" in text and "«Ավազարկղ» ՍՊԸ" in html
    watermark = STRINGS[language]["watermark"]  # a sandbox register's receipt says it is not fiscal, everywhere
    assert text.startswith(f"*** {watermark} ***") and watermark in html
    assert STRINGS[language]["cashier"] in text and STRINGS[language]["vat_included"] in text
    assert created["fiscal"] in text and created["fiscal"] in html and "44\u202f000.00" in text
    assert {"hy": "Ընդամենը", "ru": "Итого", "en": "Total"}[language] in text
    pdf_words = " ".join(pdf_text(pdf).split())
    assert created["fiscal"] in pdf_words and "«Ավազարկղ» ՍՊԸ" in pdf_words and subject in pdf_words
    assert " ".join(watermark.split()) in pdf_words and STRINGS[language]["vat_included"] in pdf_words
    assert (row.status, row.attempts, row.last_error) == ("delivered", 1, None)
    assert attempts(api, key) == [(1, "delivered")]


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_starttls_and_implicit_tls_with_a_verified_certificate_and_login(
    api: Api, port: int, certificates: Certificates, security: str
) -> None:
    created = sell(api, language="en")
    scheme = "smtps" if security == "tls" else "smtp"
    url = f"{scheme}://{USER}:{PASSWORD.replace(' ', '%20')}@127.0.0.1:{port}"
    worker = worker_for(api, mail_settings(api, url, certificates))
    with smtp_server(port, Sink(), security=security, certificates=certificates) as sink:
        worker.run_once()
        assert message_row(api, f"receipt-email:{created['urlId']}").last_error is None
        [received] = sink.received
    assert received.tls and received.login == USER
    assert created["fiscal"] in parts(received)[0]


def test_a_certificate_that_does_not_verify_is_retried_not_sent(
    api: Api, port: int, certificates: Certificates, tmp_path: Path
) -> None:
    created = sell(api)
    other = make_certificates(tmp_path / "other")  # the client trusts another CA
    worker = worker_for(api, mail_settings(api, f"smtp://{USER}:x@127.0.0.1:{port}", other))
    with smtp_server(port, Sink(), security="starttls", certificates=certificates) as sink:
        worker.run_once()
        assert sink.received == []
    row = message_row(api, f"receipt-email:{created['urlId']}")
    assert row.status == "pending" and "CERTIFICATE_VERIFY_FAILED" in row.last_error


def test_refused_credentials_are_retried_not_failed(api: Api, port: int, certificates: Certificates) -> None:
    created = sell(api)
    worker = worker_for(api, mail_settings(api, f"smtp://{USER}:wrong@127.0.0.1:{port}", certificates))
    with smtp_server(port, Sink(), security="starttls", certificates=certificates) as sink:
        assert worker.run_once() == 1
        assert sink.data_received == 0
    row = message_row(api, f"receipt-email:{created['urlId']}")
    assert row.status == "pending" and "refused the credentials: 535" in row.last_error


def test_a_server_down_for_a_while_gets_the_message_once_afterwards(api: Api, port: int) -> None:
    created = sell(api, language="ru")
    key = f"receipt-email:{created['urlId']}"
    worker = worker_for(api, mail_settings(api, f"smtp://127.0.0.1:{port}?starttls=off"))
    assert worker.run_once() == 1  # nothing listens on the port
    assert worker.run_once(LATER) == 1
    row = message_row(api, key)
    assert row.status == "pending" and "cannot reach the SMTP server" in row.last_error
    assert row.next_attempt_at > now_ms()  # backoff
    assert worker.run_once() == 0  # not due yet
    with smtp_server(port, Sink()) as sink:
        assert worker.run_once(LATER) == 1
        assert worker.run_once(LATER * 2) == 0
        [received] = sink.received
    assert received.message["Subject"].startswith("Кассовый чек")
    assert attempts(api, key) == [(1, "retry"), (2, "retry"), (3, "delivered")]


def test_a_550_stops_retries_and_shows_the_error(api: Api, port: int) -> None:
    created = sell(api, email="nobody@example.am")
    key = f"receipt-email:{created['urlId']}"
    worker = worker_for(api, mail_settings(api, f"smtp://127.0.0.1:{port}?starttls=off"))
    with smtp_server(port, Sink(rcpt_reply="550 5.1.1 <nobody@example.am>: no such user")) as sink:
        assert worker.run_once() == 1
        assert worker.run_once(LATER) == 0
        assert sink.received == []
    row = message_row(api, key)
    assert row.status == "failed" and row.attempts == 1
    assert "550 5.1.1 <nobody@example.am>: no such user" in row.last_error and "RCPT TO" in row.last_error
    with api.db.read() as conn:
        [listed] = outbox.list_messages(conn, [RECEIPT_EMAIL])
    assert (listed.status, listed.last_error) == ("failed", row.last_error)


def test_a_4xx_answer_is_retried_and_delivered_once_with_the_same_message_id(api: Api, port: int) -> None:
    created = sell(api)
    key = f"receipt-email:{created['urlId']}"
    worker = worker_for(api, mail_settings(api, f"smtp://127.0.0.1:{port}?starttls=off"))
    sink = Sink(rcpt_reply="451 4.3.0 try again later")
    with smtp_server(port, sink):
        worker.run_once()
        assert message_row(api, key).status == "pending" and "451 4.3.0" in message_row(api, key).last_error
        sink.rcpt_reply = None
        worker.run_once(LATER)
        worker.run_once(LATER * 2)
    [received] = sink.received
    assert received.message["Message-ID"] == f"<receipt.{created['urlId']}.{message_row(api, key).id}@shop.test>"
    assert attempts(api, key) == [(1, "retry"), (2, "delivered")]


def test_an_attempt_that_crashed_after_the_handover_is_not_sent_again(api: Api, port: int) -> None:
    created = sell(api)
    key = f"receipt-email:{created['urlId']}"
    worker = worker_for(api, mail_settings(api, f"smtp://127.0.0.1:{port}?starttls=off"))
    claimed = worker._claim(now_ms())  # a worker claims it, hands it over, and its process dies
    assert claimed is not None
    with api.db.write() as conn:
        outbox.mark_handed_over(conn, claimed)
    with smtp_server(port, Sink()) as sink:
        assert worker.run_once() == 0  # the dead worker's lease still holds
        assert worker.run_once(LATER) == 1  # the lease expired
        assert worker.run_once(LATER * 2) == 0
        assert sink.received == []
    row = message_row(api, key)
    assert row.status == "failed" and row.last_error.startswith("in doubt: attempt 1 stopped after handing")
    assert attempts(api, key) == [(1, "handed_over"), (2, "failed")]


def test_an_attempt_that_crashed_before_the_handover_is_sent_once_after_its_lease(api: Api, port: int) -> None:
    created = sell(api)
    key = f"receipt-email:{created['urlId']}"
    worker = worker_for(api, mail_settings(api, f"smtp://127.0.0.1:{port}?starttls=off"))
    assert worker._claim(now_ms()) is not None  # claimed, then the process died before talking to the server
    with smtp_server(port, Sink()) as sink:
        assert worker.run_once() == 0
        assert worker.run_once(LATER) == 1
        assert len(sink.received) == 1
    assert attempts(api, key) == [(1, "started"), (2, "delivered")]


def test_no_answer_after_the_handover_is_in_doubt_and_not_sent_again(api: Api, port: int) -> None:
    created = sell(api)
    key = f"receipt-email:{created['urlId']}"
    worker = worker_for(api, mail_settings(api, f"smtp://127.0.0.1:{port}?starttls=off", smtp_timeout_seconds=0.5))
    with smtp_server(port, Sink(data_delay=1.5)) as sink:
        assert worker.run_once() == 1
        assert sink.data_received == 1  # the whole message reached the server; its answer did not come back
        assert worker.run_once(LATER) == 0
        assert sink.data_received == 1
    row = message_row(api, key)
    assert row.status == "failed" and row.last_error.startswith("in doubt: the connection failed after")
    assert attempts(api, key) == [(1, "failed")]


def test_refunds_and_prepayment_documents_email_their_receipts_too(api: Api, port: int) -> None:
    sale = sell(api)
    refund = api.client.post(
        "/api/v1/sales/refund",
        json={
            "cashier": {"id": 1},
            "saleId": sale["saleId"],
            "items": [{"srcId": 0, "quantity": "1"}],
            "receipt": {"email": "refund@example.am", "language": "en"},
        },
        headers=api.headers,
    )
    assert refund.status_code == 200, refund.text
    body = prepayment_body("10000")
    body["buyer"] = buyer(receipt={"email": "prepay@example.am", "language": "ru"})
    prepayment = api.client.post("/api/v1/prepayments", json=body, headers=api.headers)
    assert prepayment.status_code == 200, prepayment.text
    prepayment_refund = api.client.post(
        "/api/v1/prepayments/refund",
        json={
            "cashier": {"id": 1},
            "prepaymentId": prepayment.json()["prepaymentId"],
            "reason": "customer_request",
            "receipt": {"email": "prepay@example.am", "language": "hy"},
        },
        headers=api.headers,
    )
    assert prepayment_refund.status_code == 200, prepayment_refund.text
    worker = worker_for(api, mail_settings(api, f"smtp://127.0.0.1:{port}?starttls=off"))
    with smtp_server(port, Sink()) as sink:
        assert worker.run_once() == 4
    subjects = {(r.rcpt_tos[0], r.message["Subject"].split(" №")[0]) for r in sink.received}
    assert subjects == {
        (BUYER, "Վաճառքի կտրոն"),
        ("refund@example.am", "Refund receipt"),
        ("prepay@example.am", "Чек предоплаты"),
        ("prepay@example.am", "Կանխավճարի վերադարձի կտրոն"),
    }
    refund_text = next(parts(r)[0] for r in sink.received if r.rcpt_tos[0] == "refund@example.am")
    assert (
        f"Receipt No.: {refund.json()['receiptId']}" in refund_text
        and f"/r/{refund.json()['urlId']}?lang=en" in refund_text
    )


def test_two_workers_send_each_message_exactly_once(api: Api, port: int) -> None:
    sales = [sell(api, email=f"buyer{i}@example.am") for i in range(6)]
    settings = mail_settings(api, f"smtp://127.0.0.1:{port}?starttls=off")
    workers = [worker_for(api, settings), worker_for(api, settings)]
    with smtp_server(port, Sink()) as sink:
        threads = [threading.Thread(target=w.run_once) for w in workers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert sorted(r.rcpt_tos[0] for r in sink.received) == sorted(f"buyer{i}@example.am" for i in range(6))
    assert len({r.message["Message-ID"] for r in sink.received}) == len(sales)


def test_an_internationalized_address_goes_out_with_smtputf8_or_fails_without_it(api: Api, port: int) -> None:
    first, second = sell(api, email="արամ@example.am"), sell(api, email="աննա@example.am")
    worker = worker_for(api, mail_settings(api, f"smtp://127.0.0.1:{port}?starttls=off"))
    with api.db.write() as conn:  # the second one waits until the first went out
        conn.execute(
            outbox_messages.update()
            .where(outbox_messages.c.key == f"receipt-email:{second['urlId']}")
            .values(next_attempt_at=LATER)
        )
    with smtp_server(port, Sink()) as sink:
        assert worker.run_once() == 1
        [received] = sink.received
    assert received.rcpt_tos == ("արամ@example.am",) and received.message["To"] == "արամ@example.am"
    with smtp_server(port, Sink(), utf8=False) as sink:
        assert worker.run_once(LATER) == 1
        assert sink.received == []
    row = message_row(api, f"receipt-email:{second['urlId']}")
    assert row.status == "failed" and "SMTPUTF8" in row.last_error
    assert message_row(api, f"receipt-email:{first['urlId']}").status == "delivered"


def test_a_bad_address_or_an_unknown_document_fails_without_sending(api: Api, port: int) -> None:
    created = sell(api)
    with api.db.write() as conn:
        outbox.enqueue(conn, RECEIPT_EMAIL, "bad-address", {"urlId": created["urlId"], "email": "not an address"})
        outbox.enqueue(conn, RECEIPT_EMAIL, "no-document", {"urlId": "nosuchurlid", "email": BUYER})
    worker = worker_for(api, mail_settings(api, f"smtp://127.0.0.1:{port}?starttls=off"))
    with smtp_server(port, Sink()) as sink:
        assert worker.run_once() == 3
        assert [r.rcpt_tos for r in sink.received] == [(BUYER,)]  # the sale's own message
    assert "invalid address" in message_row(api, "bad-address").last_error
    assert message_row(api, "bad-address").status == message_row(api, "no-document").status == "failed"
    assert "no completed document" in message_row(api, "no-document").last_error


def test_a_session_too_slow_to_hand_over_within_the_lease_stops_before_data(api: Api, port: int) -> None:
    created = sell(api)
    worker = worker_for(api, mail_settings(api, f"smtp://127.0.0.1:{port}?starttls=off", smtp_timeout_seconds=60))
    mailer = worker.deliverers[RECEIPT_EMAIL]
    assert isinstance(mailer, ReceiptMailer)
    mailer.lease_seconds = 5 * 60  # no time left for an answer once handed over
    with smtp_server(port, Sink()) as sink:
        assert worker.run_once() == 1
        assert sink.data_received == 0
    row = message_row(api, f"receipt-email:{created['urlId']}")
    assert row.status == "pending" and "within the lease" in row.last_error
    assert attempts(api, f"receipt-email:{created['urlId']}") == [(1, "retry")]


def test_without_smtp_receipt_emails_are_held(api: Api) -> None:
    created = sell(api)
    assert mail_worker(api.settings, api.db) is None
    assert RECEIPT_EMAIL in held_kinds(api.settings) and "OPENVCR_SMTP_URL" in held_kinds(api.settings)[RECEIPT_EMAIL]
    assert "held" in banner(api.settings) and "OPENVCR_SMTP_URL=smtp://" in banner(api.settings)
    with api.db.read() as conn:
        assert outbox.message_status(conn, f"receipt-email:{created['urlId']}") == "pending"


def test_smtp_urls_and_settings() -> None:
    server = SmtpServer.from_url("smtp://u%40x:p%3Aw@mail.example:2525")
    assert (server.host, server.port, server.security, server.username, server.password) == (
        "mail.example",
        2525,
        "starttls",
        "u@x",
        "p:w",
    )
    assert SmtpServer.from_url("smtps://mail.example").port == 465
    assert SmtpServer.from_url("smtp://mail.example").port == 587
    assert SmtpServer.from_url("smtp://127.0.0.1:25?starttls=off").security == "none"
    assert "p:w" not in server.describe() and "u@x" in server.describe()
    with pytest.raises(ValueError, match="in clear"):
        SmtpServer.from_url("smtp://user:pass@relay:25?starttls=off")
    with pytest.raises(ValidationError, match="OPENVCR_MAIL_FROM"):
        Settings(smtp_url=SecretStr("smtp://mail.example"))
    with pytest.raises(ValidationError, match="OPENVCR_SMTP_URL"):
        Settings(smtp_url=SecretStr("http://mail.example"), mail_from="a@b.c")
    with pytest.raises(ValidationError, match="in clear"):
        Settings(smtp_url=SecretStr("smtp://u:p@relay:25?starttls=off"), mail_from="a@b.c")
    with pytest.raises(ValidationError, match="invalid port"):
        Settings(smtp_url=SecretStr("smtp://relay:99999"), mail_from="a@b.c")
    assert Settings(smtp_url=SecretStr("smtp://mail.example"), mail_from="a@b.c").smtp_url is not None


@pytest.fixture(autouse=True)
def _no_leftover_threads() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    leftover = [t for t in threading.enumerate() if t not in before and t.name == "openvcr-outbox"]
    assert leftover == []
