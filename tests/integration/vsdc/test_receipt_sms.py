"""The V-SDC's ``phone`` ("send conformation SMS to buyer"): an E.164 number enqueues one ``receipt_sms`` with the
invoice (its verification URL, taxpayer, total and receipt number); anything else is a 400 that writes nothing."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from openvcr.receipts.sms_delivery import RECEIPT_SMS
from openvcr.store.schema.outbox import outbox_messages
from openvcr.vsdc import service as vsdc_service
from openvcr.vsdc.errors import VsdcRejected
from openvcr.vsdc.schemas import parse_body
from tests.integration.vsdc.conftest import Vsdc
from tests.unit.vsdc.seed import seed_json


def sms_count(vsdc: Vsdc) -> int:
    with vsdc.db.read() as conn:
        query = select(func.count()).select_from(outbox_messages).where(outbox_messages.c.kind == RECEIPT_SMS)
        return int(conn.execute(query).scalar_one())


def all_messages(vsdc: Vsdc) -> int:
    with vsdc.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(outbox_messages)).scalar_one())


def test_a_vsdc_invoice_with_phone_enqueues_its_sms_with_the_verification_url(vsdc: Vsdc) -> None:
    fields = parse_body(seed_json(phone="+37477123456", itype="Normal", ino="7"), "json")
    response = vsdc_service.fiscalize(vsdc.db, vsdc.settings, cert_serial=vsdc.serial, fields=fields)
    with vsdc.db.read() as conn:
        [row] = conn.execute(select(outbox_messages).where(outbox_messages.c.kind == RECEIPT_SMS)).all()
    assert row.key == "receipt-sms:vsdc:777777777:7"
    payload = json.loads(row.payload)
    assert payload["phone"] == "+37477123456" and payload["url"] == response["verificationUrl"]
    assert payload["business"] == "Seed Taxpayer" and payload["kind"] == "sale" and payload["total"] == "12120.00"
    assert payload["fiscal"] and payload["fiscal"] in response["journal"]
    without = parse_body(seed_json(itype="Normal", ino="8"), "json")
    vsdc_service.fiscalize(vsdc.db, vsdc.settings, cert_serial=vsdc.serial, fields=without)
    assert sms_count(vsdc) == 1  # the invoice without a phone has none


@pytest.mark.parametrize("phone", ["091123456", "+374-91-123456", "phone"])
def test_a_vsdc_phone_not_in_e164_is_a_400_naming_the_field_and_writes_nothing(vsdc: Vsdc, phone: str) -> None:
    fields = parse_body(seed_json(phone=phone), "json")
    before = all_messages(vsdc)
    with pytest.raises(VsdcRejected) as caught:
        vsdc_service.fiscalize(vsdc.db, vsdc.settings, cert_serial=vsdc.serial, fields=fields)
    assert caught.value.status == 400 and caught.value.body["message"].startswith("phone must be an E.164")
    assert all_messages(vsdc) == before and sms_count(vsdc) == 0
