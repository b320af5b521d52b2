"""The console's sale page shows the receipt SMS's delivery state (its ``receipt_sms`` outbox message, see
docs/sms.md) next to the receipt e-mail's; a sale without an SMS says none was requested."""

from __future__ import annotations

import re

from sqlalchemy import select

from openvcr.registers.repository import set_sms_receipts
from openvcr.store.schema.outbox import outbox_messages
from tests.integration.console.conftest import Console
from tests.integration.console.test_web import fresh, sign_in

SMS = re.compile(r'<div id="receipt-sms"><dt>Receipt SMS</dt><dd>(.*?)</dd></div>')


def test_the_sale_page_shows_the_receipt_sms_state(two_businesses: Console) -> None:
    c = two_businesses
    with c.db.write() as conn:
        set_sms_receipts(conn, c.a.register_id, True)
    body = {
        "cashier": {"id": c.a.cashier_id},
        "items": [{"offer": {"externalId": "SKU-001"}, "quantity": "1", "price": "1500.00", "unit": "pc"}],
        "amount": {"cash": "1500"},
        "buyer": {"type": "individual", "phone": "+37491123456"},
    }
    texted = c.client.post("/api/v1/sales", json=body, headers=c.api("a"))
    assert texted.status_code == 200, texted.text
    silent = c.sell("a")
    with c.db.read() as conn:
        message = conn.execute(
            select(outbox_messages).where(outbox_messages.c.key == f"receipt-sms:{texted.json()['urlId']}")
        ).one()
    client = fresh(c)
    client.headers["accept-language"] = "en"
    sign_in(client, "accountant@a.example")
    shown = SMS.search(client.get(f"/console/sales/{texted.json()['saleId']}").text)
    assert shown is not None and shown.group(1).startswith(f"{message.status} ({message.attempts})")
    none = SMS.search(client.get(f"/console/sales/{silent['saleId']}").text)
    assert none is not None and none.group(1) == "none requested"
