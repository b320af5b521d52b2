"""Fiscalization on a real database (SQLite and PostgreSQL): responses, exact errors, replay, counters."""

from __future__ import annotations

import base64
import hashlib
import json
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from sqlalchemy import func, select

from openvcr.registers import journal
from openvcr.registers.export import verify_database
from openvcr.store.schema.journal import journal_entries
from openvcr.store.schema.outbox import outbox_messages
from openvcr.store.schema.vsdc import vsdc_devices, vsdc_invoices, vsdc_taxpayers
from openvcr.vsdc import crypto, repository, service
from openvcr.vsdc.errors import VsdcRejected
from openvcr.vsdc.models import Counters, parse_date
from openvcr.vsdc.schemas import parse_body
from tests.integration.vsdc.conftest import Vsdc
from tests.unit.vsdc.seed import seed_json, seed_xml

COMBINATION = "There was an error with your MCR/TIN  (777777777/123456789) combination. Please try again."


def fiscalize(vsdc: Vsdc, body: bytes, kind: str = "json", serial: str | None = None) -> dict[str, Any]:
    return service.fiscalize(vsdc.db, vsdc.settings, cert_serial=serial or vsdc.serial, fields=parse_body(body, kind))


def rejected(vsdc: Vsdc, body: bytes, serial: str | None = None) -> dict[str, Any]:
    with pytest.raises(VsdcRejected) as caught:
        fiscalize(vsdc, body, serial=serial)
    return caught.value.body


def counts(vsdc: Vsdc) -> tuple[int, int, int, int, int]:
    with vsdc.db.read() as conn:
        return (
            conn.execute(select(func.count()).select_from(vsdc_invoices)).scalar_one(),
            conn.execute(select(func.count()).select_from(journal_entries)).scalar_one(),
            conn.execute(select(func.count()).select_from(outbox_messages)).scalar_one(),
            conn.execute(select(func.sum(vsdc_devices.c.invoice_count))).scalar_one() or 0,
            conn.execute(select(func.sum(vsdc_taxpayers.c.total_invoices))).scalar_one() or 0,
        )


def counters_of(vsdc: Vsdc, response: dict[str, Any]) -> Counters:
    with vsdc.db.read() as conn:
        device = repository.device_by_mcr(conn, "777777777")
    assert device is not None
    key = service.counter_key(device, vsdc.settings)
    return crypto.decrypt_counters(response["internalData"], key, "777777777", response["invoiceNumber"])


def test_the_seed_request_is_signed_with_every_response_field(vsdc: Vsdc) -> None:
    response = fiscalize(vsdc, seed_json())
    assert list(response) == [
        "success", "status", "message", "errors", "hash", "journal", "vsdcNumber", "signingDate", "internalData",
        "signature", "invoiceNumber", "invoiceType", "verificationUrl", "totalInvoices",
    ]  # fmt: skip
    assert response["success"] is True
    assert response["status"] is None
    assert response["message"] == "Request successfully processed"
    assert response["errors"] == []
    assert response["vsdcNumber"] == "MCR_777777777"
    assert response["invoiceNumber"] == "xxxxxxxxxxxxxxx"
    assert response["invoiceType"] == "Training"
    assert response["totalInvoices"] == 1
    assert parse_date(response["signingDate"]).utcoffset() is not None
    md5 = hashlib.md5(b"777777777|xxxxxxxxxxxxxxx|2014-12-31 21:07:36 -0400").digest()  # noqa: S324
    assert response["hash"] == base64.b64encode(md5).decode()
    sig, data = response["signature"], response["internalData"]
    assert response["journal"] == (
        f"V-SDC {response['signingDate']} MCR_777777777 1/1TS\nidata {data} {data}\nsig {sig} {sig}"
    )
    assert "$" not in response["journal"]
    url = urlsplit(response["verificationUrl"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == "https://vsdc.example/ticket/verify"
    names = [name for name, _ in parse_qsl(url.query)]
    assert names == [
        "tin", "date", "bid", "itype", "ttype", "mcr", "ino", "data", "sign",
        "hb", "mr", "mb", "mt", "lr", "lb", "lt", "zr", "zb", "zt",
    ]  # fmt: skip
    assert "date=2014-12-31+21%3A07%3A36+-0400&bid=000000000000001&itype=T&ttype=S&mcr=777777777" in url.query


def test_the_seed_request_in_xml_gives_the_same_invoice(vsdc: Vsdc) -> None:
    response = fiscalize(vsdc, seed_xml(), "xml")
    assert response["success"] is True
    replay = fiscalize(vsdc, seed_json())
    assert replay == response  # JSON and XML of one invoice are the same request


def test_each_signed_invoice_is_a_journal_document_and_an_outbox_message(vsdc: Vsdc) -> None:
    fiscalize(vsdc, seed_json(itype="Normal"))
    fiscalize(vsdc, seed_json(itype="Normal", ino="2"))
    with vsdc.db.read() as conn:
        device = repository.device_by_mcr(conn, "777777777")
        assert device is not None
        entries = list(journal.entries(conn, device.register_id))
        keys = [row.key for row in conn.execute(select(outbox_messages.c.key).order_by(outbox_messages.c.id))]
    assert [e.doc_type for e in entries] == ["vsdc_invoice", "vsdc_invoice"]
    assert entries[1].counters.documents == 2
    assert verify_database(vsdc.db, register_id=device.register_id).entries == 2  # as `openvcr verify` does
    assert keys == ["vsdc-device:777777777", "vsdc-invoice:777777777:xxxxxxxxxxxxxxx", "vsdc-invoice:777777777:2"]


def test_the_signature_covers_the_canonical_document_and_chains_to_the_previous_one(vsdc: Vsdc) -> None:
    first = fiscalize(vsdc, seed_json())
    second = fiscalize(vsdc, seed_json(ino="2"))
    with vsdc.db.read() as conn:
        device = repository.device_by_mcr(conn, "777777777")
        assert device is not None
        stored = repository.invoice_by_ino(conn, device.register_id, "2")
    assert stored is not None and device.public_key_pem is not None
    from openvcr.core.signing import verify_signature

    assert verify_signature(device.public_key_pem, stored.signed_bytes, base64.b64decode(second["signature"]))
    document = json.loads(stored.signed_bytes)
    assert document["prevHash"] == hashlib.sha256(base64.b64decode(first["signature"])).hexdigest()
    assert document["internalData"] == second["internalData"]


def test_unknown_tin_is_refused_with_the_exact_body_and_writes_nothing(vsdc: Vsdc) -> None:
    before = counts(vsdc)
    assert rejected(vsdc, seed_json(tin="XYZ")) == {
        "success": False,
        "status": None,
        "message": "TIN <XYZ> does not exist.",
        "errors": [],
    }
    assert counts(vsdc) == before


def test_unknown_mcr_is_refused_with_the_exact_body_and_writes_nothing(vsdc: Vsdc) -> None:
    before = counts(vsdc)
    assert rejected(vsdc, seed_json(mcr="000000000000001")) == {
        "success": False,
        "message": None,
        "errors": ["MCR <000000000000001> does not exist."],
    }
    assert counts(vsdc) == before


def test_a_rate_other_than_the_configured_one_is_refused_with_the_exact_body_and_writes_nothing(vsdc: Vsdc) -> None:
    before = counts(vsdc)
    assert rejected(vsdc, seed_json(hr=25)) == {
        "success": False,
        "status": None,
        "message": "Tax Rate expected <0.000000> but was <25.000000>",
        "errors": [],
    }
    assert counts(vsdc) == before


def test_an_mcr_of_another_tin_gets_the_combination_error(vsdc: Vsdc, tmp_path: Path) -> None:
    service.add_taxpayer(vsdc.db, tin="111", name="Other", rates=service.parse_rates("A=0,B=18,C=16,D=32"))
    before = counts(vsdc)
    body = rejected(vsdc, seed_json(tin="111"))
    message = "There was an error with your MCR/TIN  (777777777/111) combination. Please try again."
    assert body == {"success": False, "status": None, "message": message, "errors": [message]}
    assert counts(vsdc) == before


def test_the_certificate_of_another_device_gets_the_combination_error(vsdc: Vsdc, tmp_path: Path) -> None:
    other = service.add_device(vsdc.db, vsdc.settings, tin="123456789", mcr="888", out_dir=tmp_path / "other")
    before = counts(vsdc)
    assert rejected(vsdc, seed_json(), serial=other.serial) == {
        "success": False,
        "status": None,
        "message": COMBINATION,
        "errors": [COMBINATION],
    }
    assert counts(vsdc) == before


def test_a_missing_journal_is_refused_and_writes_nothing(vsdc: Vsdc) -> None:
    before = counts(vsdc)
    assert rejected(vsdc, seed_json(journal=None))["errors"] == ["Journal is missing"]
    assert counts(vsdc) == before


def test_wrong_arithmetic_is_refused_and_writes_nothing(vsdc: Vsdc) -> None:
    before = counts(vsdc)
    assert rejected(vsdc, seed_json(zt=1281))["message"] == "zt expected <1280.00> but was <1281>"
    assert counts(vsdc) == before


def test_replay_of_the_same_invoice_returns_the_original_response_and_counts_nothing(vsdc: Vsdc) -> None:
    first = fiscalize(vsdc, seed_json())
    after_first = counts(vsdc)
    again = fiscalize(vsdc, seed_json(source="pos", clientMcr=None))  # unknown and null keys do not matter
    assert again == first
    assert counts(vsdc) == after_first


def test_the_same_ino_with_another_body_is_refused_and_writes_nothing(vsdc: Vsdc) -> None:
    fiscalize(vsdc, seed_json())
    before = counts(vsdc)
    body = rejected(vsdc, seed_json(place="elsewhere"))
    assert body["message"] == "Invoice number <xxxxxxxxxxxxxxx> was already used for a different invoice of this device"
    assert counts(vsdc) == before


def test_training_and_pro_forma_never_move_money_and_refunds_move_refund_counters(vsdc: Vsdc) -> None:
    total, tax = Decimal("12120.00"), Decimal("2120.00")  # the seed's taxable 10000 + taxes 2120
    training = counters_of(vsdc, fiscalize(vsdc, seed_json(ino="t1", itype="Training")))
    proforma = counters_of(vsdc, fiscalize(vsdc, seed_json(ino="p1", itype="Pro Forma", ttype="Refund")))
    sale = fiscalize(vsdc, seed_json(ino="n1", itype="Normal"))
    refund = fiscalize(vsdc, seed_json(ino="r1", itype="Normal", ttype="Refund"))
    sale2 = fiscalize(vsdc, seed_json(ino="n2", itype="Normal"))
    for counters in (training, proforma):
        assert (counters.sales_total, counters.refund_total, counters.sales_tax_total, counters.refund_tax_total) == (
            0,
            0,
            0,
            0,
        )
    after_sale, after_refund, after_sale2 = (counters_of(vsdc, r) for r in (sale, refund, sale2))
    assert (after_sale.sales_total, after_sale.sales_tax_total, after_sale.refund_total) == (total, tax, 0)
    assert (after_refund.sales_total, after_refund.refund_total, after_refund.refund_tax_total) == (total, total, tax)
    assert after_sale2.sales_total == 2 * total
    assert after_sale2.invoice_count == 5
    assert after_sale2.pairs == {"NS": 2, "NR": 1, "PS": 0, "PR": 1, "TS": 1, "TR": 0}
    assert [r["journal"].split()[5] for r in (sale, refund, sale2)] == ["1/3NS", "1/4NR", "2/5NS"]
    assert sale2["totalInvoices"] == 5


def test_total_invoices_counts_every_device_of_the_taxpayer(vsdc: Vsdc, tmp_path: Path) -> None:
    other = service.add_device(vsdc.db, vsdc.settings, tin="123456789", mcr="888", out_dir=tmp_path / "other")
    fiscalize(vsdc, seed_json())
    response = fiscalize(vsdc, seed_json(mcr="888"), serial=other.serial)
    assert response["totalInvoices"] == 2
    assert response["journal"].split()[5] == "1/1TS"
