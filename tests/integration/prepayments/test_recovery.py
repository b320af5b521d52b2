"""Prepayments and prepayment refunds left pending by a crash are finished by ``sales.recovery``."""

from __future__ import annotations

import pytest

from openvcr.prepayments.schemas import PrepaymentCreate, PrepaymentRefundCreate
from openvcr.prepayments.service import PrepaymentsService
from openvcr.sales.recovery import recover
from tests.integration.foundation.conftest import Api
from tests.integration.prepayments.helpers import PHONE, get, prepay, prepayment_body, side_effects


def _service(api: Api) -> PrepaymentsService:
    return PrepaymentsService(api.db, api.client.app.state.ctx.src, api.settings)  # type: ignore[attr-defined]


@pytest.mark.parametrize("sent", [True, False])
def test_a_pending_prepayment_is_completed_when_src_registered_it_else_dropped(api: Api, sent: bool) -> None:
    service = _service(api)
    key = "crash-prepayment"
    before = side_effects(api)
    with api.db.write() as conn:  # the pending row, then a "crash" before (or right after) asking SRC
        pending = service._prepare_prepayment(
            conn, api.init.register_id, PrepaymentCreate.model_validate(prepayment_body("900")), key
        )
    if sent:
        service.src.print_receipt(api.init.register_id, key, pending.request)
    report = recover(api.db, service.src, service.document_kinds(), min_age_ms=0)
    after = side_effects(api)
    if sent:
        assert (report.completed, report.dropped) == (1, 0)
        assert after["journal"] == before["journal"] + 1 and after["src"] == before["src"] + 1
        assert get(api, "/prepayments/balance", customerRef=PHONE).json()["balance"] == 900
    else:
        assert (report.completed, report.dropped) == (0, 1)
        assert after == before


def test_a_pending_prepayment_refund_is_completed_from_src(api: Api) -> None:
    service = _service(api)
    pid = prepay(api, cash="900")["prepaymentId"]
    key = "crash-refund"
    body = PrepaymentRefundCreate.model_validate({"cashier": {"id": 1}, "prepaymentId": pid})
    with api.db.write() as conn:
        pending = service._prepare_refund(conn, api.init.register_id, body, key)
    assert get(api, f"/prepayments/{pid}").json()["state"] == "refunded"  # held while pending
    service.src.print_return_receipt(api.init.register_id, key, pending.request)
    report = recover(api.db, service.src, service.document_kinds(), min_age_ms=0)
    assert report.completed == 1
    info = get(api, f"/prepayments/{pid}").json()
    assert info["state"] == "refunded" and info["refund"]["receipt"]["total"] == 900
