"""SrcService on real SQLite and PostgreSQL with the in-process sandbox."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from openvcr.authority.gateway import ReturnLine, ReturnRequest
from openvcr.core.errors import AuthorityInDoubt, AuthorityRefused, AuthorityUnavailable, Conflict
from openvcr.store.db import Database
from openvcr.store.schema.authority import src_requests
from openvcr.store.schema.foundation import registers
from tests.integration.authority.conftest import Env, make_env, ready, sale


def _seq(env: Env) -> int | None:
    with env.db.read() as conn:
        return conn.execute(select(registers.c.src_seq).where(registers.c.id == env.register_id)).scalar()


def _status(env: Env) -> str:
    with env.db.read() as conn:
        return str(conn.execute(select(registers.c.authority_status).where(registers.c.id == env.register_id)).scalar())


def test_activate_marks_the_register_operating_and_is_idempotent(env: Env) -> None:
    env.service.activate(env.register_id)
    assert _status(env) == "operating"
    env.service.activate(env.register_id)
    assert _status(env) == "operating"


def test_activate_when_src_already_operating_but_database_lags_still_succeeds(env: Env) -> None:
    env.service.activate(env.register_id)
    with env.db.write() as conn:
        conn.execute(registers.update().where(registers.c.id == env.register_id).values(authority_status="current"))
    env.service.activate(env.register_id)
    assert _status(env) == "operating"


def test_configure_departments_is_one_request_per_dep_and_repeatable(env: Env) -> None:
    env.service.activate(env.register_id)
    env.service.configure_departments(env.register_id, [(1, 1), (2, 2)])
    assert _seq(env) == 2
    env.service.configure_departments(env.register_id, [(1, 1), (3, 3)])  # dep 1 exists: fine
    summary = env.simulator.state.summary(env.crn)
    assert summary is not None
    assert [d["dep"] for d in summary["departments"]] == [1, 2, 3]


def test_print_reserves_seq_persists_the_request_and_stores_the_outcome(env: Env) -> None:
    ready(env)
    receipt = env.service.print_receipt(env.register_id, "sale-1", sale())
    assert receipt.total == Decimal("1000.0")
    assert receipt.fiscal is not None
    assert _seq(env) == 3
    assert env.service.outcome("sale-1") == receipt
    state = env.service.request_state("sale-1")
    assert state is not None and state.state == "done" and state.seq == 3 and '"seq":3' in state.body


def test_same_document_key_returns_the_stored_receipt_and_registers_nothing_more(env: Env) -> None:
    ready(env)
    first = env.service.print_receipt(env.register_id, "sale-1", sale())
    again = env.service.print_receipt(env.register_id, "sale-1", sale())
    assert again == first
    assert env.simulator.state.receipt_count(env.crn) == 1


def test_same_document_key_with_another_request_is_a_conflict_and_registers_nothing(env: Env) -> None:
    ready(env)
    env.service.print_receipt(env.register_id, "sale-1", sale())
    with pytest.raises(Conflict):
        env.service.print_receipt(env.register_id, "sale-1", sale(cash="2000.00", price="2000.00"))
    assert env.simulator.state.receipt_count(env.crn) == 1


def test_business_rejection_is_refused_with_src_code_and_text_and_can_be_retried(env: Env) -> None:
    ready(env)
    with pytest.raises(AuthorityRefused) as info:
        env.service.print_receipt(env.register_id, "sale-1", sale(cash="10.00"))
    assert info.value.authority_code == 152
    assert "10" in info.value.authority_message
    assert env.simulator.state.receipt_count(env.crn) == 0
    state = env.service.request_state("sale-1")
    assert state is not None and state.state == "rejected" and state.error_code == 152


def test_dropped_answer_is_resolved_to_exactly_one_receipt(env: Env) -> None:
    ready(env)
    env.service.print_receipt(env.register_id, "sale-0", sale())
    env.simulator.state.add_fault(env.crn, "print", "drop")
    receipt = env.service.print_receipt(env.register_id, "sale-1", sale(cash="500.00", price="500.00"))
    assert env.simulator.state.receipt_count(env.crn) == 2
    assert receipt.receipt_id == 2
    assert env.service.print_receipt(env.register_id, "sale-1", sale(cash="500.00", price="500.00")) == receipt
    assert env.simulator.state.receipt_count(env.crn) == 2
    state = env.service.request_state("sale-1")
    assert state is not None and state.state == "done" and "printCopy" in (state.note or "")


def test_lost_answer_of_the_first_receipt_is_found_without_an_anchor(env: Env) -> None:
    ready(env)
    env.simulator.state.add_fault(env.crn, "print", "drop")
    receipt = env.service.print_receipt(env.register_id, "sale-1", sale())
    assert receipt.receipt_id == 1
    assert env.simulator.state.receipt_count(env.crn) == 1


def test_lost_answer_while_src_stays_down_is_in_doubt_then_settled_by_retry(env: Env) -> None:
    ready(env)
    env.simulator.state.add_fault(env.crn, "print", "drop")
    env.simulator.state.add_fault(env.crn, "printCopy", "timeout")  # resolution fails once
    with pytest.raises(AuthorityInDoubt) as info:
        env.service.print_receipt(env.register_id, "sale-1", sale())
    assert info.value.document_key == "sale-1"
    assert env.service.outcome("sale-1") is None
    assert [r.document_key for r in env.service.unsettled(env.register_id)] == ["sale-1"]
    receipt = env.service.print_receipt(env.register_id, "sale-1", sale())
    assert env.simulator.state.receipt_count(env.crn) == 1
    assert env.service.outcome("sale-1") == receipt


def test_resolve_in_doubt_settles_a_request_left_pending_by_a_crash(env: Env) -> None:
    ready(env)
    env.simulator.state.add_fault(env.crn, "print", "drop")
    env.simulator.state.add_fault(env.crn, "printCopy", "timeout")
    with pytest.raises(AuthorityInDoubt):
        env.service.print_receipt(env.register_id, "sale-1", sale())
    with env.db.write() as conn:  # as if the process died after sending
        conn.execute(src_requests.update().where(src_requests.c.document_key == "sale-1").values(state="pending"))
    resolutions = env.service.resolve_in_doubt()
    assert [(r.document_key, r.state, r.receipt_id) for r in resolutions] == [("sale-1", "done", 1)]
    assert env.service.outcome("sale-1") is not None


def test_several_identical_requests_left_pending_by_a_crash_are_resolved_in_seq_order(env: Env) -> None:
    """A pipelined register can die with several sent documents whose answers were never recorded. Their
    receipts cannot be told apart by content, but SRC numbers a register's receipts in seq order: the
    resolution gives each request the next receipt in that order. The pipeline sends a turn's documents in
    seq order, so a crash leaves the sent ones first and the unsent ones after them: those get none."""
    ready(env)
    env.service.print_receipt(env.register_id, "sale-0", sale(cash="500.00", price="500.00"))
    keys = ["a", "b", "c", "d"]
    for key in keys:
        with env.db.write() as conn:
            reservations = env.service.reserve(conn, env.register_id, key, sale())
        if key in ("a", "b"):  # "c" and "d" were persisted, but the process died before sending them
            env.service.send(reservations)  # sent and registered; the answer is never recorded
    assert env.simulator.state.receipt_count(env.crn) == 3
    with env.db.write() as conn:  # as if the process died: every answer lost
        conn.execute(src_requests.update().where(src_requests.c.document_key.in_(keys)).values(state="pending"))
    resolutions = env.service.resolve_in_doubt()
    assert [(r.document_key, r.state, r.receipt_id) for r in resolutions] == [
        ("a", "done", 2),
        ("b", "done", 3),
        ("c", "failed", None),
        ("d", "failed", None),
    ]
    assert env.simulator.state.receipt_count(env.crn) == 3


def test_lost_request_that_never_arrived_is_resolved_as_not_registered_and_sent_again(env: Env) -> None:
    ready(env)
    env.simulator.state.add_fault(env.crn, "print", "timeout")  # SRC 101: nothing registered, in doubt
    receipt = env.service.print_receipt(env.register_id, "sale-1", sale())
    assert env.simulator.state.receipt_count(env.crn) == 1
    state = env.service.request_state("sale-1")
    assert state is not None and state.attempts == 2 and receipt.receipt_id == 1


def test_internal_error_is_unavailable_and_registers_nothing(env: Env) -> None:
    ready(env)
    env.simulator.state.add_fault(env.crn, "print", "internal")
    with pytest.raises(AuthorityUnavailable):
        env.service.print_receipt(env.register_id, "sale-1", sale())
    assert env.simulator.state.receipt_count(env.crn) == 0
    env.service.print_receipt(env.register_id, "sale-1", sale())
    assert env.simulator.state.receipt_count(env.crn) == 1


def test_return_copy_and_returned_info(env: Env) -> None:
    ready(env)
    original = env.service.print_receipt(env.register_id, "sale-1", sale(card="2000.00", cash="0", qty="2"))
    info = env.service.get_returned_receipt_info(env.register_id, original.receipt_id)
    assert info.total_amount == Decimal("2000.0")
    refund = env.service.print_return_receipt(
        env.register_id,
        "refund-1",
        ReturnRequest(
            receipt_id=original.receipt_id,
            card_amount=Decimal("1000"),
            cash_amount=Decimal("0"),
            items=(ReturnLine(0, Decimal("1")),),
        ),
    )
    assert refund.fiscal is None and refund.receipt_id == original.receipt_id + 1
    assert env.service.print_copy(env.register_id, original.receipt_id) == original
    after = env.service.get_returned_receipt_info(env.register_id, original.receipt_id)
    assert after.total_amount == Decimal("1000.0")


def test_dropped_return_answer_is_resolved_to_one_return(env: Env) -> None:
    ready(env)
    original = env.service.print_receipt(env.register_id, "sale-1", sale(card="2000.00", cash="0", qty="2"))
    env.simulator.state.add_fault(env.crn, "printReturnReceipt", "drop")
    request = ReturnRequest(
        receipt_id=original.receipt_id,
        card_amount=Decimal("1000"),
        cash_amount=Decimal("0"),
        items=(ReturnLine(0, Decimal("1")),),
    )
    refund = env.service.print_return_receipt(env.register_id, "refund-1", request)
    assert refund.fiscal is None
    assert env.simulator.state.receipt_count(env.crn) == 2


def test_strict_policy_gives_back_a_seq_src_did_not_consume(database: Database, tmp_path: Path) -> None:
    env = make_env(database, tmp_path, "strict")
    ready(env)  # seq 1, 2
    with pytest.raises(AuthorityRefused) as info:
        env.service.print_receipt(env.register_id, "bad", sale().__class__(**{**sale().__dict__, "mode": 5}))
    assert info.value.authority_code == 198
    assert _seq(env) == 2
    env.service.print_receipt(env.register_id, "sale-1", sale())
    assert _seq(env) == 3


def test_strict_policy_keeps_a_seq_consumed_by_a_business_rejection(database: Database, tmp_path: Path) -> None:
    env = make_env(database, tmp_path, "strict")
    ready(env)
    with pytest.raises(AuthorityRefused):
        env.service.print_receipt(env.register_id, "bad", sale(cash="1.00"))
    assert _seq(env) == 3
    env.service.print_receipt(env.register_id, "sale-1", sale())
    assert _seq(env) == 4


def test_resync_seq_after_src_got_ahead(env: Env) -> None:
    ready(env)
    with env.simulator.state.transaction() as conn:
        conn.execute("UPDATE ecrs SET last_seq = 100 WHERE crn = ?", (env.crn,))
    with pytest.raises(AuthorityRefused) as info:
        env.service.print_receipt(env.register_id, "sale-1", sale())
    assert info.value.authority_code == 104
    env.service.resync_seq(env.register_id, 100)
    env.service.print_receipt(env.register_id, "sale-1", sale())
    assert _seq(env) == 101
    with env.db.read() as conn:  # two departments + one document row, sent twice
        assert conn.execute(select(func.count()).select_from(src_requests)).scalar_one() == 3
    state = env.service.request_state("sale-1")
    assert state is not None and state.attempts == 2 and state.seq == 101


def test_strict_policy_lost_request_that_never_arrived_is_sent_again_with_the_same_seq(
    database: Database, tmp_path: Path
) -> None:
    env = make_env(database, tmp_path, "strict")
    ready(env)  # seq 1, 2
    env.simulator.state.add_fault(env.crn, "print", "timeout")  # 101 before the seq check: seq 3 not consumed
    receipt = env.service.print_receipt(env.register_id, "sale-1", sale())
    assert env.simulator.state.receipt_count(env.crn) == 1
    state = env.service.request_state("sale-1")
    assert state is not None and state.seq == 3 and state.attempts == 2
    assert env.service.outcome("sale-1") == receipt
    assert (env.simulator.state.summary(env.crn) or {})["lastSeq"] == 3
