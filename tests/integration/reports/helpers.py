"""Documents made through the API, and what a report must say of them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select

from openvcr.registers import journal
from openvcr.registers.keys import create_key
from openvcr.registers.signing_keys import ensure_register_key
from openvcr.store.db import now_ms
from openvcr.store.schema.documents import documents
from openvcr.store.schema.foundation import registers
from openvcr.store.schema.journal import journal_entries
from openvcr.store.schema.reports import shift_reports
from tests.integration.foundation.conftest import Api
from tests.integration.prepayments.helpers import post_sale, prepay, refund, sale_body
from tests.integration.receipts.test_receipt_facts import item


def report(api: Api, kind: str, *, key: str | None = None, body: Any = None, headers: Any = None) -> Any:
    extra = {"Idempotency-Key": key} if key else {}
    return api.client.post(f"/api/v1/reports/{kind}", json=body, headers={**(headers or api.headers), **extra})


def ok(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    return dict(response.json())


def sell(api: Api, price: str = "4000", **payment: str) -> dict[str, Any]:
    return ok(post_sale(api, sale_body(price, **payment)))


def sell_regimes(api: Api) -> dict[str, Any]:
    """12000 under VAT (2 × 6000), 3000 VAT exempt, 5000 under turnover tax, paid 15000 cash + 5000 card."""
    body = {
        "cashier": {"id": 1},
        "items": [item("VAT", 1, "6000", "2"), item("EXEMPT", 2, "3000"), item("TURNOVER", 3, "5000")],
        "amount": {"cash": "15000", "nonCash": "5000"},
        "buyer": {"type": "individual"},
    }
    return ok(post_sale(api, body))


def refund_sale(api: Api, sale_id: int, **extra: Any) -> dict[str, Any]:
    body = {"cashier": {"id": 1}, "saleId": sale_id, **extra}
    return ok(api.client.post("/api/v1/sales/refund", json=body, headers=api.headers))


def prepay_ok(api: Api, cash: str = "10000") -> dict[str, Any]:
    return prepay(api, cash)


def refund_prepayment(api: Api, prepayment_id: int) -> dict[str, Any]:
    return ok(refund(api, prepayment_id))


def counts(api: Api) -> dict[str, int]:
    """What taking a report writes: report rows, documents, journal entries and the journal head."""
    with api.db.read() as conn:
        head = journal.head(conn, api.init.register_id)
        return {
            "reports": int(conn.execute(select(func.count()).select_from(shift_reports)).scalar_one()),
            "documents": int(conn.execute(select(func.count()).select_from(documents)).scalar_one()),
            "journal": int(conn.execute(select(func.count()).select_from(journal_entries)).scalar_one()),
            "head": head.number,
        }


def second_register(api: Api) -> dict[str, str]:
    """Another register of another business (its own signing key and API key): the headers of its key."""
    with api.db.write() as conn:
        from openvcr.store.schema.foundation import business_entities

        entity = conn.execute(
            insert(business_entities)
            .values(tin="87654321", name="Other LLC", address="Gyumri", created_at=now_ms())
            .returning(business_entities.c.id)
        ).scalar_one()
        register_id = conn.execute(
            insert(registers)
            .values(
                entity_id=entity,
                kind="ehdm",
                crn="99999999",
                sn="OTHER-SN",
                mode="sandbox",
                trading_platform_name="Other",
                authority_status="operating",
                address="Gyumri",
                taxpayer_name="Other LLC",
                created_at=now_ms(),
            )
            .returning(registers.c.id)
        ).scalar_one()
        ensure_register_key(conn, register_id, api.settings.master_key.get_secret_value())
        key = create_key(conn, register_id).key
    return {"X-API-KEY": key}


def money(value: Any) -> Decimal:
    return Decimal(str(value))
