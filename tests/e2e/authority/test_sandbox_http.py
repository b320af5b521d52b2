"""The sandbox over real sockets: the PyPI e-hdm client unchanged, our client over TLS and mutual TLS,
restart persistence, and a dropped answer that still yields exactly one receipt."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from e_hdm import EHDMClient
from e_hdm.enums import Language, PrintMode, TaxRegime
from e_hdm.exceptions import EHDMAPIError
from e_hdm.models import (
    DepartmentConfig,
    PrepaymentReceiptRequest,
    ProductReceiptItem,
    ProductReceiptRequest,
    ReturnReceiptItem,
    ReturnReceiptRequest,
)
from sqlalchemy import insert

from openvcr.authority.client import HttpSrcGateway, build_ssl_context
from openvcr.authority.errors import AuthorityRejected, AuthorityRetryable
from openvcr.authority.gateway import PrintItem, PrintRequest
from openvcr.authority.sandbox import demo
from openvcr.authority.sandbox.state import SandboxState
from openvcr.authority.service import SrcService
from openvcr.config import Settings
from openvcr.store import migrate
from openvcr.store.db import Database, now_ms
from openvcr.store.schema.foundation import business_entities, registers
from tests.e2e.authority.conftest import Running, start

Factory = Callable[..., Running]


def _walk_through_with_ehdm(client: EHDMClient) -> None:
    expected = {"hy": "Գործողությունը հաջողությամբ ավարտվեց", "en": "Success"}[client.language.value]
    assert client.check_connection() == expected
    client.activate()
    client.configure_departments([DepartmentConfig(1, TaxRegime.VAT), DepartmentConfig(2, TaxRegime.NO_VAT)])
    lists = client.get_good_list(TaxRegime.VAT, demo.TIN)
    assert [g.good_code for lst in lists.good_lists for g in lst.goods] == ["9205-13", "9202-11", "9202-12"]
    item = ProductReceiptItem(
        adg_code="9205",
        dep=1,
        good_code="9205-13",
        good_name="երգեհոն",
        quantity=Decimal("2"),
        unit="հատ",
        price=Decimal("25000"),
        discount=Decimal("10"),
        additional_discount=Decimal("1000"),
    )
    sale = client.print_receipt(
        ProductReceiptRequest(
            card_amount=Decimal("40000"),
            cash_amount=Decimal("0"),
            partial_amount=Decimal("0"),
            pre_payment_amount=Decimal("4000"),
            cashier_id=3,
            items=[item],
        )
    )
    assert sale.receipt_id == "8" and sale.total == Decimal("44000.0") and sale.emark_verification_code is None
    client.print_receipt(
        PrepaymentReceiptRequest(
            card_amount=Decimal("2000"),
            cash_amount=Decimal("0"),
            partial_amount=Decimal("0"),
            pre_payment_amount=Decimal("0"),
            cashier_id=3,
        )
    )
    copy = client.print_copy(8)
    assert copy.qr == sale.qr and copy.fiscal == sale.fiscal
    info = client.get_returned_receipt_info(8, demo.CRN)
    assert info.items[0].total_without_taxes == Decimal("36665.2") and info.receipt_sub_type == 3
    refund = client.print_return_receipt(
        ReturnReceiptRequest(
            receipt_id="8",
            source_crn=demo.CRN,
            card_amount_for_return=Decimal("22000"),
            cash_amount_for_return=Decimal("0"),
            pre_payment_amount_for_return=Decimal("0"),
            return_item_list=[ReturnReceiptItem(receipt_product_id=0, quantity=Decimal("1"))],
        )
    )
    assert refund.fiscal is None and refund.total == Decimal("22000.0") and "FISCAL: null" in refund.qr


def test_pypi_ehdm_client_works_unchanged_over_http_for_all_eight_methods(sandbox_factory: Factory) -> None:
    sandbox = sandbox_factory()
    _walk_through_with_ehdm(EHDMClient(demo.CRN, sandbox.url))


def test_pypi_ehdm_client_works_over_mutual_tls_and_gets_localized_errors(sandbox_factory: Factory) -> None:
    sandbox = sandbox_factory(mutual=True)
    assert sandbox.ca is not None and sandbox.client is not None
    client = EHDMClient(
        demo.CRN,
        sandbox.url,
        cert=str(sandbox.client.cert),
        key=str(sandbox.client.key),
        verify=str(sandbox.ca.ca_cert),
        language=Language.EN,
    )
    _walk_through_with_ehdm(client)
    with pytest.raises(EHDMAPIError) as info:
        client.print_copy(999)
    assert info.value.code == 176 and info.value.error_message == "Receipt does not exist"
    assert PrintMode.PRODUCTS == 2


def test_client_certificate_of_another_crn_is_refused_with_403(sandbox_factory: Factory) -> None:
    sandbox = sandbox_factory(mutual=True)
    assert sandbox.ca is not None and sandbox.client is not None
    crn, _ = sandbox.state.register(tin="01234567", taxpayer="Other", address="Gyumri")
    context = build_ssl_context(ca=sandbox.ca.ca_cert, cert=sandbox.client.cert, key=sandbox.client.key)
    gateway = HttpSrcGateway(sandbox.url, verify=context, language="en")
    with pytest.raises(AuthorityRejected) as info:
        gateway.check_connection(crn)
    assert info.value.code == 403 and info.value.error_message == "Invalid Certificate serial number"
    gateway.check_connection(demo.CRN)


def test_mutual_tls_without_a_client_certificate_is_not_sent(sandbox_factory: Factory) -> None:
    sandbox = sandbox_factory(mutual=True)
    assert sandbox.ca is not None
    gateway = HttpSrcGateway(sandbox.url, verify=build_ssl_context(ca=sandbox.ca.ca_cert))
    with pytest.raises(AuthorityRetryable):
        gateway.check_connection(demo.CRN)


def test_tls_server_is_verified_against_the_given_ca(
    sandbox_factory: Factory, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    sandbox = sandbox_factory(tls=True)
    assert sandbox.ca is not None
    HttpSrcGateway(sandbox.url, verify=build_ssl_context(ca=sandbox.ca.ca_cert)).check_connection(demo.CRN)
    with caplog.at_level(logging.INFO, logger="openvcr.sandbox"):
        with pytest.raises(AuthorityRetryable) as info:
            HttpSrcGateway(sandbox.url).check_connection(demo.CRN)  # system trust store: unknown CA
        assert info.value.sent is False
        deadline = time.monotonic() + 10  # the server's thread logs the broken handshake on its own
        while not any("ended before a request" in r.getMessage() for r in caplog.records):
            assert time.monotonic() < deadline, "the server did not log the refused handshake"
            time.sleep(0.05)
    assert "Traceback" not in capfd.readouterr().err  # a line in the log, not a traceback on stderr


def test_encrypted_key_and_pkcs12_identities_work(sandbox_factory: Factory, tmp_path: Path) -> None:
    from openvcr.authority.sandbox import ca

    sandbox = sandbox_factory(mutual=True)
    assert sandbox.ca is not None
    files = ca.issue_client_certificate(
        sandbox.directory,
        sandbox.state,
        crn=demo.CRN,
        tin=demo.TIN,
        out_dir=tmp_path / "c",
        passphrase="s3cret",
        p12=True,
    )
    assert files.p12 is not None
    pem = build_ssl_context(ca=sandbox.ca.ca_cert, cert=files.cert, key=files.key, key_passphrase="s3cret")
    HttpSrcGateway(sandbox.url, verify=pem).check_connection(demo.CRN)
    p12 = build_ssl_context(ca=sandbox.ca.ca_cert, p12=files.p12, p12_passphrase="s3cret")
    HttpSrcGateway(sandbox.url, verify=p12).check_connection(demo.CRN)


def test_receipt_copy_survives_a_restart(tmp_path: Path) -> None:
    first = start(tmp_path / "s")
    gateway = HttpSrcGateway(first.url)
    gateway.activate(demo.CRN)
    gateway.configure_departments(demo.CRN, 1, [(1, 1)])
    receipt = gateway.print_receipt(demo.CRN, 2, _sale())
    first.server.shutdown()
    first.server.server_close()
    first.state.close()
    second = start(tmp_path / "s")
    try:
        again = HttpSrcGateway(second.url)
        assert again.print_copy(demo.CRN, 3, receipt.receipt_id) == receipt
        with pytest.raises(AuthorityRejected) as info:
            again.print_copy(demo.CRN, 3, receipt.receipt_id)  # the seq survived too
        assert info.value.code == 104
    finally:
        second.server.shutdown()
        second.server.server_close()
        second.state.close()


def _sale() -> PrintRequest:
    item = PrintItem(
        adg_code="9205", dep=1, good_code="9205-13", good_name="երգեհոն", quantity=Decimal("1"), unit="հատ",
        price=Decimal("25000"),
    )  # fmt: skip
    return PrintRequest(mode=2, cashier_id=3, cash_amount=Decimal("25000"), card_amount=Decimal("0"), items=(item,))


def test_service_over_mutual_tls_survives_a_dropped_answer_without_a_second_receipt(
    sandbox_factory: Factory, sqlite_url: str
) -> None:
    sandbox = sandbox_factory(mutual=True)
    assert sandbox.ca is not None and sandbox.client is not None
    settings = Settings(
        database_url=sqlite_url,
        src_mode="remote",
        src_url=sandbox.url,
        src_ca=sandbox.ca.ca_cert,
        src_cert=sandbox.client.cert,
        src_key=sandbox.client.key,
        src_timeout_seconds=5,
    )
    db = Database(sqlite_url)
    migrate.upgrade(db)
    with db.write() as conn:
        entity = conn.execute(
            insert(business_entities).values(tin=demo.TIN, name=demo.TAXPAYER, created_at=now_ms())
            .returning(business_entities.c.id)
        ).scalar_one()  # fmt: skip
        register_id = conn.execute(
            insert(registers).values(entity_id=entity, crn=demo.CRN, sn=demo.SN, mode="sandbox",
                                     trading_platform_name="Shop", authority_status="current", created_at=now_ms())
            .returning(registers.c.id)
        ).scalar_one()  # fmt: skip
    from openvcr.authority.factory import build_gateway

    service = SrcService(db, build_gateway(settings), settings)
    service.activate(register_id)
    service.configure_departments(register_id, [(1, 1)])
    sandbox.state.add_fault(demo.CRN, "print", "drop")
    receipt = service.print_receipt(register_id, "order-1", _sale())
    assert receipt.receipt_id == 8
    assert service.print_receipt(register_id, "order-1", _sale()) == receipt
    assert sandbox.state.receipt_count(demo.CRN) == 8  # 7 of the demo history + exactly one
    db.dispose()


def test_separately_run_sandbox_provisions_registers(sandbox_factory: Factory, tmp_path: Path) -> None:
    from openvcr.authority.factory import provision_sandbox_register

    sandbox = sandbox_factory()
    settings = Settings(src_mode="remote", src_url=sandbox.url, database_url=f"sqlite:///{tmp_path / 'x.db'}")
    crn, sn = provision_sandbox_register(settings, tin="01234567", taxpayer="Shop LLC", address="Yerevan")
    summary = sandbox.state.summary(crn)
    assert summary is not None and summary["status"] == "current" and summary["sn"] == sn


def test_unknown_path_gets_a_spring_style_404(sandbox_factory: Factory) -> None:
    sandbox = sandbox_factory()
    response = httpx.post(sandbox.url + "/api/v1.0/nope", json={"crn": demo.CRN})
    assert response.status_code == 404 and response.json()["error"] == "Not Found"


def test_state_directory_is_shared_safely_by_two_processes(tmp_path: Path) -> None:
    a = SandboxState(tmp_path)
    b = SandboxState(tmp_path)
    crn, _ = a.register(tin="01234567", taxpayer="T", address="A")
    assert b.summary(crn) is not None
    a.close()
    b.close()
