"""Receipt e-mails from a real ``openvcr serve`` (two worker processes) to a real SMTP server (aiosmtpd in this
process): exactly one message per receipt over STARTTLS, an outage, a 550, and held messages without SMTP."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.server import free_port, init_json, openvcr_env, run_cli, serve
from tests.integration.prepayments.helpers import buyer, sale_body
from tests.integration.receipts.pdftext import pdf_text
from tests.integration.receipts.smtp_sink import PASSWORD, USER, Sink, make_certificates, smtp_server

BUYER = "buyer@example.am"


def cli_json(env: dict[str, str], *args: str) -> Any:
    done = run_cli(list(args), env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def sell(base: str, api_key: str, language: str, email: str = BUYER) -> dict[str, Any]:
    body = sale_body("4000")
    body["buyer"] = buyer(receipt={"email": email, "language": language})
    response = httpx.post(f"{base}/api/v1/sales", json=body, headers={"X-API-KEY": api_key}, timeout=30)
    assert response.status_code == 200, response.text
    return dict(response.json())


def wait_until(check: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError("timed out")


def serve_log(tmp_path: Path, base: str) -> str:
    return " ".join((tmp_path / f"serve-{base.rsplit(':', 1)[1]}.log").read_text().split())


def test_serve_emails_a_sale_receipt_exactly_once_over_starttls(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'x.db'}"
    certificates = make_certificates(tmp_path / "tls")
    smtp_port = free_port()
    env = openvcr_env(
        tmp_path / "sandbox",
        OPENVCR_SMTP_URL=f"smtp://{USER}:{PASSWORD.replace(' ', '%20')}@127.0.0.1:{smtp_port}",
        OPENVCR_MAIL_FROM="Shop <receipts@shop.test>",
        OPENVCR_SMTP_CA_FILE=str(certificates.ca),
    )
    init = init_json(database, env)
    with (
        smtp_server(smtp_port, Sink(), security="starttls", certificates=certificates) as sink,
        serve(database, env, "--workers", "2") as (base, _process),
    ):
        log = serve_log(tmp_path, base)
        assert f"receipt e-mails go through smtp://127.0.0.1:{smtp_port} (STARTTLS, as {USER})" in log
        assert PASSWORD not in log
        created = sell(base, init["apiKey"], "en")
        [received] = sink.wait_for(1)
        time.sleep(2.0)  # both worker processes had time to send it again: they must not
        assert len(sink.received) == 1
        pdf = httpx.get(f"{base}/r/{created['urlId']}.pdf", params={"format": "80mm"}, timeout=30)
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        assert created["fiscal"] in pdf_text(pdf.content)
    assert received.tls and received.login == USER and received.rcpt_tos == (BUYER,)
    message = received.message
    assert message["Subject"].startswith(f"Sales receipt № {created['srcReceiptId']} — ")
    text = message.get_body(("plain",))
    assert text is not None
    link = f"{base}/r/{created['urlId']}?lang=en"
    assert link in text.get_content() and "Fiscal number" in text.get_content()
    [attachment] = list(message.iter_attachments())
    attached = " ".join(pdf_text(attachment.get_content()).split())
    assert created["fiscal"] in attached and "Sales receipt" in attached and "«Ավազարկղ» ՍՊԸ" in attached
    [status] = cli_json(env, "outbox", "status", "--json", "--database", database)
    assert (status["kind"], status["pending"], status["held"], status["delivered"], status["failed"]) == (
        "receipt_email",
        0,
        0,
        1,
        0,
    )
    [listed] = cli_json(env, "outbox", "list", "--kind", "receipt_email", "--json", "--database", database)
    assert (listed["status"], listed["attempts"], listed["lastError"]) == ("delivered", 1, None)


def test_an_smtp_server_down_for_a_while_gets_the_message_once_afterwards(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'x.db'}"
    smtp_port = free_port()
    env = openvcr_env(
        tmp_path / "sandbox",
        OPENVCR_SMTP_URL=f"smtp://127.0.0.1:{smtp_port}?starttls=off",
        OPENVCR_MAIL_FROM="receipts@shop.test",
        OPENVCR_MAIL_RETRY_BASE_SECONDS="0.2",
        OPENVCR_MAIL_RETRY_MAX_SECONDS="0.5",
    )
    init = init_json(database, env)
    with serve(database, env) as (base, _process):
        created = sell(base, init["apiKey"], "ru")

        def retried() -> Any:
            rows = cli_json(env, "outbox", "list", "--kind", "receipt_email", "--json", "--database", database)
            return rows if rows and rows[0]["attempts"] >= 2 else None

        [waiting] = wait_until(retried)
        assert waiting["status"] == "pending" and "cannot reach the SMTP server" in waiting["lastError"]
        with smtp_server(smtp_port, Sink()) as sink:
            [received] = sink.wait_for(1)
            time.sleep(1.5)  # several more backoff periods
            assert len(sink.received) == 1
    assert received.message["Subject"].startswith("Кассовый чек")
    text = received.message.get_body(("plain",))
    assert text is not None and f"{base}/r/{created['urlId']}?lang=ru" in text.get_content()
    [listed] = cli_json(env, "outbox", "list", "--kind", "receipt_email", "--json", "--database", database)
    assert listed["status"] == "delivered" and listed["attempts"] >= 3


def test_a_550_stops_retries_and_the_cli_shows_the_error(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'x.db'}"
    smtp_port = free_port()
    env = openvcr_env(
        tmp_path / "sandbox",
        OPENVCR_SMTP_URL=f"smtp://127.0.0.1:{smtp_port}?starttls=off",
        OPENVCR_MAIL_FROM="receipts@shop.test",
        OPENVCR_MAIL_RETRY_BASE_SECONDS="0.2",
        OPENVCR_MAIL_RETRY_MAX_SECONDS="0.5",
    )
    init = init_json(database, env)
    sink = Sink(rcpt_reply="550 5.1.1 <nobody@example.am>: Recipient address rejected")
    with smtp_server(smtp_port, sink), serve(database, env) as (base, _process):
        sell(base, init["apiKey"], "hy", email="nobody@example.am")

        def failed() -> Any:
            rows = cli_json(env, "outbox", "list", "--kind", "receipt_email", "--json", "--database", database)
            return rows if rows and rows[0]["status"] == "failed" else None

        [listed] = wait_until(failed)
        time.sleep(1.5)  # several backoff periods: no further attempt
        [again] = cli_json(env, "outbox", "list", "--kind", "receipt_email", "--json", "--database", database)
    assert sink.received == []
    assert listed["attempts"] == again["attempts"] == 1
    assert "550 5.1.1 <nobody@example.am>: Recipient address rejected" in listed["lastError"]
    table = run_cli(["outbox", "list", "--kind", "receipt_email", "--database", database], env)
    assert table.returncode == 0 and "failed" in table.stdout and "550" in table.stdout
    [status] = cli_json(env, "outbox", "status", "--json", "--database", database)
    assert (status["failed"], status["pending"], status["delivered"]) == (1, 0, 0)


def test_without_smtp_serve_holds_receipt_emails_and_says_how_to_enable_them(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'x.db'}"
    env = openvcr_env(tmp_path / "sandbox")
    init = init_json(database, env)
    with serve(database, env) as (base, _process):
        assert "receipt e-mails are held (not sent); to deliver them, set OPENVCR_SMTP_URL=smtp://" in serve_log(
            tmp_path, base
        )
        created = sell(base, init["apiKey"], "hy")
        time.sleep(1.0)
    [status] = cli_json(env, "outbox", "status", "--json", "--database", database)
    assert (status["kind"], status["pending"], status["held"], status["delivered"]) == ("receipt_email", 0, 1, 0)
    assert "OPENVCR_SMTP_URL is not set" in status["heldReason"]
    [listed] = cli_json(env, "outbox", "list", "--kind", "receipt_email", "--json", "--database", database)
    assert listed["status"] == "held" and listed["attempts"] == 0 and listed["key"].endswith(created["urlId"])
    table = run_cli(["outbox", "status", "--database", database], env)
    assert table.returncode == 0 and "receipt_email: held" in " ".join(table.stdout.split())
    assert cli_json(env, "outbox", "list", "--status", "pending", "--json", "--database", database) == []
    [held] = cli_json(env, "outbox", "list", "--status", "held", "--json", "--database", database)
    assert held["id"] == listed["id"]
