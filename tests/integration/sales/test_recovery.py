"""Documents left pending by a crash are completed from SRC's stored answer, or dropped when never sent."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from openvcr.registers import journal
from openvcr.sales import documents
from openvcr.sales.recovery import recover
from openvcr.sales.schemas import SaleCreate
from openvcr.sales.service import SalesService
from openvcr.store.schema.sales import sales
from tests.integration.foundation.conftest import Api

SALE = {
    "cashier": {"id": 1},
    "items": [
        {
            "offer": {"title": {"type": "universal", "content": "Tea"}, "type": "product", "classifierCode": "0902",
                      "defaultMeasureUnit": "pc", "defaultDepartment": {"id": 1}, "externalId": "TEA"},
            "department": {"id": 1}, "quantity": "1", "price": "700", "unit": "pc",
        }
    ],
    "autoSettle": {"tender": "cash"},
}  # fmt: skip


def _service(api: Api) -> SalesService:
    return SalesService(api.db, api.client.app.state.ctx.src, api.settings)  # type: ignore[attr-defined]


def _crash_after(api: Api, key: str, *, send: bool) -> int:
    """Write the pending sale (and, when ``send``, register it with SRC), then 'crash' before completing."""
    service = _service(api)
    body = SaleCreate.model_validate(SALE)
    captured: dict[str, Any] = {}

    class Crash(Exception):
        pass

    def crash_call(draft: Any) -> Any:
        captured["sale_id"] = draft.sale_id
        if send:
            service.src.print_receipt(api.init.register_id, key, draft.request)
        raise Crash

    original = documents.register_pending

    def crashing(db: Any, *, prepare: Any, call: Any, complete: Any, cancel: Any) -> Any:
        return original(db, prepare=prepare, call=crash_call, complete=complete, cancel=cancel)

    documents.register_pending = crashing  # type: ignore[assignment]
    try:
        service.create_sale(api.init.register_id, body, key)
    except Crash:
        pass
    finally:
        documents.register_pending = original  # type: ignore[assignment]
    return int(captured["sale_id"])


def _state(api: Api, sale_id: int) -> Any:
    with api.db.read() as conn:
        return conn.execute(select(sales.c.state).where(sales.c.id == sale_id)).scalar_one_or_none()


def test_a_sale_registered_before_the_crash_is_completed_and_journaled(api: Api) -> None:
    sale_id = _crash_after(api, "crash:sent", send=True)
    assert _state(api, sale_id) == "pending"
    assert api.client.get(f"/api/v1/sales/{sale_id}", headers=api.headers).status_code == 404
    report = recover(api.db, _service(api).src, _service(api).document_kinds(), min_age_ms=0)
    assert (report.completed, report.dropped) == (1, 0)
    assert _state(api, sale_id) == "completed"
    with api.db.read() as conn:
        entry = journal.entry_for(conn, "sale", str(sale_id))
    assert entry is not None and entry.number == 1
    assert api.client.get(f"/api/v1/sales/{sale_id}", headers=api.headers).json()["receipt"]["total"] == 700


def test_a_sale_never_sent_is_dropped(api: Api) -> None:
    sale_id = _crash_after(api, "crash:unsent", send=False)
    report = recover(api.db, _service(api).src, _service(api).document_kinds(), min_age_ms=0)
    assert (report.completed, report.dropped) == (0, 1)
    assert _state(api, sale_id) is None
    with api.db.read() as conn:
        assert journal.head(conn, api.init.register_id).number == 0


def test_recovery_leaves_young_documents_alone(api: Api) -> None:
    sale_id = _crash_after(api, "crash:young", send=True)
    report = recover(api.db, _service(api).src, _service(api).document_kinds(), min_age_ms=3_600_000)
    assert (report.completed, report.dropped) == (0, 0)
    assert _state(api, sale_id) == "pending"


def test_a_retry_with_the_same_key_resumes_the_pending_sale(api: Api) -> None:
    sale_id = _crash_after(api, "crash:retry", send=True)
    result = _service(api).create_sale(api.init.register_id, SaleCreate.model_validate(SALE), "crash:retry")
    assert result["sale_id"] == sale_id
    assert _state(api, sale_id) == "completed"
