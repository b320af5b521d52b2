"""The only write path of the journal, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import OperationalError

from openvcr.core.canonical import parse
from openvcr.core.errors import DuplicateDocumentError, InvalidDeltaError, MalformedEntryError
from openvcr.core.journal import GENESIS_HASH, CountersDelta, JournalEntry
from openvcr.core.signing import verify_signature
from openvcr.registers import journal
from openvcr.registers.export import verify_database
from openvcr.registers.signing_keys import SigningKeyError, ensure_register_key, signer_for
from openvcr.store.db import Database
from openvcr.store.schema.foundation import registers
from openvcr.store.schema.journal import journal_entries, journal_heads
from tests.integration.journal.conftest import MASTER_KEY, MakeRegister


class Boom(Exception):
    pass


def _sale(database: Database, register_id: int, ref: str, total: str = "45500.00") -> JournalEntry:
    signer = signer_for(database, register_id, MASTER_KEY)
    with database.write() as conn:
        return journal.append(
            conn,
            register_id,
            doc_type="sale",
            doc_ref=ref,
            body={"saleId": ref, "total": Decimal(total)},
            delta=CountersDelta.sale(Decimal(total)),
            signer=signer,
        )


def _count(database: Database, register_id: int) -> int:
    with database.read() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(journal_entries).where(journal_entries.c.register_id == register_id)
            ).scalar_one()
        )


def test_first_entries_are_numbered_from_one_and_chained(database: Database, register_id: int) -> None:
    first = _sale(database, register_id, "1")
    second = _sale(database, register_id, "2")
    assert (first.number, second.number) == (1, 2)
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash
    assert second.counters.sales_total == Decimal("91000.00")
    with database.read() as conn:
        pem = conn.execute(select(registers.c.public_key_pem).where(registers.c.id == register_id)).scalar_one()
    assert verify_signature(pem, second.content, second.signature)


def test_the_entry_keeps_every_amount_as_a_decimal_string(database: Database, register_id: int) -> None:
    entry = _sale(database, register_id, "7", "44000.50")
    with database.read() as conn:
        stored = journal.entry_for(conn, "sale", "7")
    assert stored is not None
    assert stored.body == {"saleId": "7", "total": "44000.50"}
    assert stored.content == entry.content
    assert parse(stored.content)["counters"]["sales_total"] == "44000.50"


def test_parallel_appends_on_one_register_are_numbered_without_gap_or_repeat(
    database: Database, register_id: int
) -> None:
    n = 60
    signer_for(database, register_id, MASTER_KEY)
    errors: list[BaseException] = []
    barrier = threading.Barrier(n)

    def work(i: int) -> None:
        try:
            barrier.wait()
            _sale(database, register_id, f"p{i}", "10.00")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with database.read() as conn:
        numbers = [e.number for e in journal.entries(conn, register_id)]
        head = journal.head(conn, register_id)
    assert numbers == list(range(1, n + 1))
    assert head.number == n
    assert head.counters.sales_total == Decimal("600.00")
    assert verify_database(database).entries == n


def test_appends_on_two_registers_are_independent(database: Database, make_register: MakeRegister) -> None:
    one, two = make_register(), make_register()
    for i in range(3):
        _sale(database, one, f"a{i}")
    entry = _sale(database, two, "b0")
    assert entry.number == 1
    assert entry.prev_hash == GENESIS_HASH
    assert entry.counters.documents == 1
    assert _sale(database, one, "a3").number == 4
    report = verify_database(database)
    assert [(j.register_id, j.entries) for j in report.journals] == [(one, 4), (two, 1)]


def test_a_rolled_back_business_transaction_leaves_no_entry_and_no_counter_moved(
    database: Database, register_id: int
) -> None:
    _sale(database, register_id, "1")
    signer = signer_for(database, register_id, MASTER_KEY)

    def sale_then_failure() -> None:
        with database.write() as conn:
            journal.append(
                conn,
                register_id,
                doc_type="sale",
                doc_ref="2",
                body={"total": Decimal("5.00")},
                delta=CountersDelta.sale(Decimal("5.00")),
                signer=signer,
            )
            raise Boom

    with pytest.raises(Boom):
        sale_then_failure()
    with database.read() as conn:
        head = journal.head(conn, register_id)
        assert journal.entry_for(conn, "sale", "2") is None
    assert head.number == 1
    assert head.counters.sales_total == Decimal("45500.00")
    assert _count(database, register_id) == 1
    assert _sale(database, register_id, "3").number == 2


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"doc_type": "invoice"}, InvalidDeltaError),
        ({"doc_ref": ""}, MalformedEntryError),
        ({"doc_ref": "x" * 101}, MalformedEntryError),
        ({"body": {"total": 1.5}}, MalformedEntryError),
        ({"body": {"when": object()}}, MalformedEntryError),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(
    database: Database, register_id: int, changes: dict[str, Any], error: type[Exception]
) -> None:
    _sale(database, register_id, "1")
    arguments: dict[str, Any] = {
        "doc_type": "sale",
        "doc_ref": "2",
        "body": {"total": Decimal("1.00")},
        "delta": CountersDelta.sale(Decimal("1.00")),
        "signer": signer_for(database, register_id, MASTER_KEY),
        **changes,
    }
    with pytest.raises(error), database.write() as conn:
        journal.append(conn, register_id, **arguments)
    with database.read() as conn:
        assert journal.head(conn, register_id).number == 1
    assert _count(database, register_id) == 1


def test_a_document_enters_the_journal_once(database: Database, register_id: int) -> None:
    _sale(database, register_id, "1")
    with pytest.raises(DuplicateDocumentError):
        _sale(database, register_id, "1")
    with database.read() as conn:
        assert journal.head(conn, register_id).number == 1
    assert _sale(database, register_id, "2").number == 2


def test_a_training_document_is_journaled_without_moving_money(database: Database, register_id: int) -> None:
    _sale(database, register_id, "1")
    with database.write() as conn:
        entry = journal.append(
            conn,
            register_id,
            doc_type="vsdc_invoice",
            doc_ref="T-1",
            body={"invoiceType": "Training", "total": Decimal("999.00")},
            delta=CountersDelta.non_fiscal(),
            signer=signer_for(database, register_id, MASTER_KEY),
        )
    assert entry.counters.sales_total == Decimal("45500.00")
    assert entry.counters.non_fiscal == 1
    assert verify_database(database).entries == 2


def test_entries_reads_after_a_number_in_batches(database: Database, register_id: int) -> None:
    for i in range(7):
        _sale(database, register_id, str(i))
    with database.read() as conn:
        assert [e.number for e in journal.entries(conn, register_id, after=2, batch=2)] == [3, 4, 5, 6, 7]


def test_the_head_of_an_empty_journal_is_the_genesis(database: Database, register_id: int) -> None:
    with database.read() as conn:
        head = journal.head(conn, register_id)
    assert (head.number, head.last_hash, head.counters.documents) == (0, GENESIS_HASH, 0)


def test_a_register_key_is_generated_once(database: Database, register_id: int) -> None:
    with database.write() as conn:
        first = ensure_register_key(conn, register_id, MASTER_KEY)
        again = ensure_register_key(conn, register_id, MASTER_KEY)
    assert first == again
    assert signer_for(database, register_id, MASTER_KEY).public_key_pem() == first


def test_the_signer_is_loaded_once_per_process(database: Database, register_id: int) -> None:
    assert signer_for(database, register_id, MASTER_KEY) is signer_for(database, register_id, MASTER_KEY)


def test_a_wrong_master_key_is_a_clear_error(database: Database, register_id: int) -> None:
    with pytest.raises(SigningKeyError, match="master key"):
        signer_for(database, register_id, "not-the-master-key")


def test_a_register_without_a_key_has_no_signer(database: Database, register_id: int) -> None:
    with database.write() as conn:
        conn.execute(
            update(registers).where(registers.c.id == register_id).values(signing_key_enc=None, public_key_pem=None)
        )
    with pytest.raises(SigningKeyError, match="no signing key"):
        signer_for(database, register_id, MASTER_KEY)


def test_the_head_row_is_created_with_the_first_entry(database: Database, register_id: int) -> None:
    with database.read() as conn:
        assert conn.execute(select(journal_heads)).first() is None
    _sale(database, register_id, "1")
    with database.read() as conn:
        assert conn.execute(select(journal_heads.c.number)).scalar_one() == 1


@pytest.mark.parametrize("db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_an_open_append_on_one_register_does_not_lock_another_register(
    database: Database, make_register: MakeRegister
) -> None:
    """PostgreSQL only: SQLite has one writer at a time by design, so there is no per-register lock to test."""
    one, two = make_register(), make_register()
    _sale(database, one, "a0")
    _sale(database, two, "b0")
    signer_one = signer_for(database, one, MASTER_KEY)
    signer_two = signer_for(database, two, MASTER_KEY)
    with database.write() as held:
        journal.append(
            held,
            one,
            doc_type="sale",
            doc_ref="a1",
            body={"total": Decimal("1.00")},
            delta=CountersDelta.sale(Decimal("1.00")),
            signer=signer_one,
        )
        # register one's head row is locked until `held` commits; register two must not need that lock
        with database.write() as other:
            other.exec_driver_sql("SET LOCAL lock_timeout = '3s'")
            entry = journal.append(
                other,
                two,
                doc_type="sale",
                doc_ref="b1",
                body={"total": Decimal("1.00")},
                delta=CountersDelta.sale(Decimal("1.00")),
                signer=signer_two,
            )
        assert entry.number == 2

        # while the same register's next append does wait for it (the check above can fail)
        def append_on_the_same_register() -> None:
            with database.write() as same:
                same.exec_driver_sql("SET LOCAL lock_timeout = '200ms'")
                journal.append(
                    same,
                    one,
                    doc_type="sale",
                    doc_ref="a2",
                    body={},
                    delta=CountersDelta.sale(Decimal("1.00")),
                    signer=signer_one,
                )

        with pytest.raises(OperationalError, match="lock timeout"):
            append_on_the_same_register()
    assert verify_database(database).entries == 4
