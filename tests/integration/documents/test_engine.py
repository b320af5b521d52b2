"""The document engine: one state per document, recovery, late fiscalization, the contract's ``pending``,
idempotency by document, and at most two durable commits per document."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from sqlalchemy import select, update

from openvcr.authority.factory import sandbox_simulator
from openvcr.documents.models import ALLOWED, DocumentState
from openvcr.registers import journal
from openvcr.registers.export import verify_database
from openvcr.store.schema.authority import src_requests
from openvcr.store.schema.documents import documents
from tests.integration.documents.helpers import (
    counting_write_commits,
    crash_during_send,
    crashing_post,
    engine_of,
    post,
    set_late_fiscalization,
    states,
    switchable_src,
)
from tests.integration.foundation.conftest import Api
from tests.integration.prepayments.helpers import PHONE, get, prepayment_body, sale_body, side_effects


def _journal_numbers(api: Api) -> list[tuple[str, str]]:
    with api.db.read() as conn:
        return [(e.doc_type, e.doc_ref) for e in journal.entries(conn, api.init.register_id)]


# ---- the state machine ------------------------------------------------------------------------------------


def test_completed_and_dropped_are_final_and_every_state_is_reachable() -> None:
    assert ALLOWED[DocumentState.COMPLETED] == frozenset() and ALLOWED[DocumentState.DROPPED] == frozenset()
    reachable = {DocumentState.PENDING} | {to for targets in ALLOWED.values() for to in targets}
    assert reachable == set(DocumentState)


def test_a_sale_is_one_completed_document_with_its_response_stored(api: Api) -> None:
    response = post(api, "/sales", sale_body(), **{"Idempotency-Key": "k-1"})
    assert response.status_code == 200, response.text
    with api.db.read() as conn:
        row = conn.execute(select(documents)).one()
    assert (row.kind, row.state) == ("sale", "completed")
    assert row.response.encode() == response.content
    assert row.document_key.endswith(":key:k-1") and row.request_hash
    assert get(api, f"/sales/{response.json()['saleId']}").json()["fiscalStatus"] == "completed"


# ---- two durable commits ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/sales", "/prepayments"])
def test_a_document_takes_at_most_two_durable_commits(api: Api, path: str) -> None:
    body = sale_body() if path == "/sales" else prepayment_body("500")
    assert post(api, path, body).status_code == 200  # warm-up: key use, caches
    with counting_write_commits(api) as commits:
        response = post(api, path, body)
        assert response.status_code == 200, response.text
        assert commits() <= 2, commits()
        assert commits() >= 1  # the listener does see the service's commits


def test_a_refund_takes_at_most_two_durable_commits(api: Api) -> None:
    sale = post(api, "/sales", sale_body("4000", "2", cash="8000")).json()
    refund = {"cashier": {"id": 1}, "saleId": sale["saleId"], "items": [{"srcId": 0, "quantity": "1"}]}
    with counting_write_commits(api) as commits:
        assert post(api, "/sales/refund", refund).status_code == 200
        assert 1 <= commits() <= 2, commits()


# ---- idempotency -----------------------------------------------------------------------------------------


def test_a_rejected_request_spends_no_key(api: Api) -> None:
    bad = sale_body()
    bad["cashier"] = {"id": 999}
    before = side_effects(api)
    response = post(api, "/sales", bad, **{"Idempotency-Key": "fix-me"})
    assert response.status_code == 400 and response.json()["issues"][0]["path"] == ["cashier"]
    assert side_effects(api) == before and states(api) == []
    assert post(api, "/sales", sale_body(), **{"Idempotency-Key": "fix-me"}).status_code == 200


def test_a_key_longer_than_128_characters_is_400_and_writes_nothing(api: Api) -> None:
    before = side_effects(api)
    response = post(api, "/sales", sale_body(), **{"Idempotency-Key": "k" * 129})
    assert response.status_code == 400 and response.json()["issues"][0]["path"] == ["Idempotency-Key"]
    assert side_effects(api) == before
    assert post(api, "/sales", sale_body(), **{"Idempotency-Key": "k" * 128}).status_code == 200


def test_keys_are_scoped_per_endpoint(api: Api) -> None:
    assert post(api, "/prepayments", prepayment_body("700"), **{"Idempotency-Key": "same"}).status_code == 200
    assert post(api, "/sales", sale_body(), **{"Idempotency-Key": "same"}).status_code == 200
    assert states(api) == ["completed", "completed"]


def test_the_same_key_while_the_first_is_in_flight_is_409_never_500(api: Api) -> None:
    with crash_during_send(api, after_src_registered=False):
        crashing_post(api, "/sales", sale_body(), **{"Idempotency-Key": "busy"})
    before = side_effects(api)
    response = post(api, "/sales", sale_body(), **{"Idempotency-Key": "busy"})
    assert response.status_code == 409 and "in progress" in response.json()["error"]
    assert side_effects(api) == before


def test_expired_keys_are_released_and_the_document_stays(api: Api) -> None:
    first = post(api, "/sales", sale_body(), **{"Idempotency-Key": "old"})
    with api.db.write() as conn:
        conn.execute(update(documents).values(created_at=documents.c.created_at - 31 * 86_400_000))
    assert engine_of(api).purge_keys(30) == 1
    again = post(api, "/sales", sale_body(), **{"Idempotency-Key": "old"})
    assert again.status_code == 200 and again.json()["saleId"] != first.json()["saleId"]
    assert "idempotent-replay" not in again.headers
    assert states(api) == ["completed", "completed"]


# ---- recovery ---------------------------------------------------------------------------------------------


def test_a_document_registered_before_a_crash_is_completed_by_recovery(api: Api) -> None:
    with crash_during_send(api, after_src_registered=True):
        crashing_post(api, "/sales", sale_body(), **{"Idempotency-Key": "crash-1"})
    assert states(api) == ["sent"]
    assert get(api, "/sales/1").json()["receipt"] is None
    report = engine_of(api).recover(min_age_ms=0)
    assert (report.completed, report.dropped) == (1, 0)
    assert states(api) == ["completed"]
    assert _journal_numbers(api) == [("sale", "1")]
    replay = post(api, "/sales", sale_body(), **{"Idempotency-Key": "crash-1"})
    assert replay.status_code == 200 and replay.headers["idempotent-replay"] == "true"
    assert replay.json()["saleId"] == 1 and get(api, "/sales/1").json()["receipt"]["total"] == 4000


def test_a_document_never_registered_is_dropped_by_recovery_and_undoes_its_effects(api: Api) -> None:
    assert post(api, "/prepayments", prepayment_body("4000")).status_code == 200
    with crash_during_send(api, after_src_registered=False):
        crashing_post(api, "/sales", sale_body(prepayment="4000"))
    assert get(api, "/prepayments/balance", customerRef=PHONE).json()["balance"] == 0  # held by the sale
    report = engine_of(api).recover(min_age_ms=0)
    assert (report.completed, report.dropped) == (0, 1)
    assert states(api) == ["completed", "dropped"]
    assert get(api, "/prepayments/balance", customerRef=PHONE).json()["balance"] == 4000
    assert get(api, "/sales/1").json()["fiscalStatus"] == "dropped"
    refund = post(api, "/sales/refund", {"cashier": {"id": 1}, "saleId": 1})
    assert refund.status_code == 409 and "dropped" in refund.json()["error"]


def test_a_failure_after_src_registered_is_502_keep_polling_and_recovery_completes_it(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from openvcr.sales.documents import SaleKind

    original = SaleKind.complete

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk full")

    monkeypatch.setattr(SaleKind, "complete", broken)
    response = post(api, "/sales", sale_body(), **{"Idempotency-Key": "late-write"})
    assert response.status_code == 502
    assert response.json()["pending"] == {"type": "sale", "id": 1, "statusUrl": "/api/v1/sales/1", "mayResubmit": False}
    assert states(api) == ["sent"] and _journal_numbers(api) == []
    monkeypatch.setattr(SaleKind, "complete", original)
    assert engine_of(api).recover(min_age_ms=0).completed == 1
    assert states(api) == ["completed"] and _journal_numbers(api) == [("sale", "1")]


def test_recovery_leaves_young_documents_alone(api: Api) -> None:
    with crash_during_send(api, after_src_registered=True):
        crashing_post(api, "/sales", sale_body())
    report = engine_of(api).recover(min_age_ms=3_600_000)
    assert (report.completed, report.dropped) == (0, 0) and states(api) == ["sent"]


def test_a_pending_refund_is_completed_from_src_and_its_quantities_stay_reserved(api: Api) -> None:
    sale = post(api, "/sales", sale_body("4000", "2", cash="8000")).json()
    refund = {"cashier": {"id": 1}, "saleId": sale["saleId"], "items": [{"srcId": 0, "quantity": "2"}]}
    with crash_during_send(api, after_src_registered=True):
        crashing_post(api, "/sales/refund", refund)
    again = post(api, "/sales/refund", {"cashier": {"id": 1}, "saleId": sale["saleId"]})
    assert again.status_code == 409  # everything is reserved by the unsettled refund
    assert engine_of(api).recover(min_age_ms=0).completed == 1
    status = get(api, "/sales/refunds/1").json()
    assert status["fiscalStatus"] == "completed" and status["receipt"]["total"] == 8000


# ---- SRC down: the contract's pending object -------------------------------------------------------------


def test_src_down_with_late_fiscalization_off_drops_and_says_resubmit(api: Api) -> None:
    with switchable_src(api) as src:
        src.down = True
        response = post(api, "/sales", sale_body(), **{"Idempotency-Key": "down-1"})
    assert response.status_code == 502
    body = response.json()
    assert body["pending"] == {"type": "sale", "id": 1, "statusUrl": "/api/v1/sales/1", "mayResubmit": True}
    assert body["error"] and body["requestId"]
    assert states(api) == ["dropped"] and _journal_numbers(api) == []
    assert get(api, "/sales/1").json()["fiscalStatus"] == "dropped"
    retry = post(api, "/sales", sale_body(), **{"Idempotency-Key": "down-1"})  # the key was released
    assert retry.status_code == 200 and retry.json()["saleId"] == 2


def test_src_down_with_late_fiscalization_on_defers_then_fiscalizes_in_order(api: Api) -> None:
    set_late_fiscalization(api, True)
    with switchable_src(api) as src:
        src.down = True
        first = post(api, "/sales", sale_body(), **{"Idempotency-Key": "late-1"})
        second = post(api, "/prepayments", prepayment_body("300"), **{"Idempotency-Key": "late-2"})
        for response in (first, second):
            assert response.status_code == 502 and response.json()["pending"]["mayResubmit"] is False
        assert second.json()["pending"] == {
            "type": "prepayment",
            "id": 1,
            "statusUrl": "/api/v1/prepayments/1",
            "mayResubmit": False,
        }
        assert states(api) == ["deferred", "deferred"]
        detail = get(api, "/prepayments/1").json()
        assert detail["fiscalStatus"] == "deferred" and detail["receipt"] is None
        with api.db.read() as conn:
            url_id = conn.execute(select(documents.c.url_id).where(documents.c.kind == "sale")).scalar_one()
        page = api.client.get(f"/r/{url_id}", params={"lang": "en"})
        assert page.status_code == 200 and "awaiting fiscalization" in page.text
        replay = post(api, "/sales", sale_body(), **{"Idempotency-Key": "late-1"})
        assert replay.status_code == 502 and replay.json()["pending"]["mayResubmit"] is False
        assert engine_of(api).recover(min_age_ms=0).completed == 0  # still down: still waiting
        assert states(api) == ["deferred", "deferred"]
        src.down = False
    report = engine_of(api).recover(min_age_ms=0)
    assert report.completed == 2 and states(api) == ["completed", "completed"]
    assert _journal_numbers(api) == [("sale", "1"), ("prepayment", "1")]
    receipt = get(api, "/sales/1").json()["receipt"]
    assert receipt["total"] == 4000
    page = api.client.get(f"/r/{url_id}", params={"lang": "en"})
    assert page.status_code == 200 and "awaiting fiscalization" not in page.text
    assert receipt["fiscal"] in page.text
    replay = post(api, "/sales", sale_body(), **{"Idempotency-Key": "late-1"})
    assert replay.status_code == 200 and replay.json()["saleId"] == 1
    assert verify_database(api.db, register_id=api.init.register_id).entries == 2


def test_a_lost_answer_is_in_doubt_then_settled_without_a_second_receipt(api: Api) -> None:
    assert api.init.crn is not None
    simulator = sandbox_simulator(api.settings)
    simulator.admin("fault", {"crn": api.init.crn, "method": "print", "fault": "drop"})
    simulator.admin("fault", {"crn": api.init.crn, "method": "printCopy", "fault": "timeout"})
    response = post(api, "/sales", sale_body(), **{"Idempotency-Key": "lost"})
    assert response.status_code == 502
    assert response.json()["pending"] == {"type": "sale", "id": 1, "statusUrl": "/api/v1/sales/1", "mayResubmit": False}
    assert states(api) == ["in_doubt"]
    settled = post(api, "/sales", sale_body(), **{"Idempotency-Key": "lost"})  # a retry settles it
    assert settled.status_code == 200 and settled.json()["saleId"] == 1
    assert states(api) == ["completed"]
    assert simulator.state.receipt_count(api.init.crn) == 1


def test_src_refusal_is_409_with_the_dropped_document(api: Api) -> None:
    assert api.init.crn is not None
    sandbox_simulator(api.settings).admin(
        "status", {"crn": api.init.crn, "status": "blocked", "blockedOn": "2026-11-30"}
    )
    response = post(api, "/sales", sale_body())
    assert response.status_code == 409, response.text
    pending = response.json()["pending"]
    assert pending["type"] == "sale" and pending["mayResubmit"] is False
    assert states(api) == ["dropped"] and _journal_numbers(api) == []


def test_statuses_of_refunds_are_scoped_to_the_caller(api: Api) -> None:
    assert get(api, "/sales/refunds/1").status_code == 404
    assert get(api, "/prepayments/refunds/1").status_code == 404


# ---- pipelined registers -------------------------------------------------------------------------------------


def test_concurrent_documents_of_one_register_reach_src_in_seq_order_while_its_calls_are_slow(api: Api) -> None:
    """Sales arriving together while the register's SRC calls are slow: each is drafted (its seq reserved and
    persisted) before it is sent, SRC gets them strictly in seq order (receipt numbers follow the seqs), and
    every one completes once, with a valid journal."""
    engine = engine_of(api)
    inner = engine.src.gateway
    gate = threading.Event()

    class Slow:
        def __getattr__(self, name: str) -> Any:
            return getattr(inner, name)

        def print_receipt(self, *args: Any, **kwargs: Any) -> Any:
            gate.wait(10)  # held until every request is waiting behind the first one
            return inner.print_receipt(*args, **kwargs)

    engine.src.gateway = Slow()  # type: ignore[assignment]
    answers: list[Any] = []
    lock = threading.Lock()

    def sell(n: int) -> None:
        answer = post(api, "/sales", sale_body(price=str(100 + n)), **{"Idempotency-Key": f"pipe-{n}"})
        with lock:
            answers.append(answer)

    try:
        threads = [threading.Thread(target=sell, args=(n,)) for n in range(12)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not states(api):
            time.sleep(0.01)
        time.sleep(0.3)
        gate.set()
        for thread in threads:
            thread.join(30)
    finally:
        engine.src.gateway = inner
    assert [a.status_code for a in answers] == [200] * 12, [a.text for a in answers if a.status_code != 200]
    with api.db.read() as conn:
        sent = conn.execute(
            select(src_requests.c.seq, src_requests.c.receipt_id)
            .where(src_requests.c.method == "print", src_requests.c.state == "done")
            .order_by(src_requests.c.seq)
        ).all()
    receipts = [r.receipt_id for r in sent]
    assert len(receipts) == 12 and receipts == sorted(receipts) and len(set(receipts)) == 12
    assert {a.json()["srcReceiptId"] for a in answers} == set(receipts)
    assert set(states(api)) == {"completed"}
    assert verify_database(api.db).entries == 12
