"""Signatures checked in worker processes give the verdict of the caller's thread: the same summary for a valid
journal, the same first broken entry, rule and message for a broken one, even when the broken entry's batch
comes back after a later entry broke another rule. ``parallel_from=0`` and small batches force the workers on
journals of a few dozen entries."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from openvcr.cli import app
from openvcr.core.errors import ContentAlteredError, JournalError, SignatureInvalidError
from openvcr.core.journal import CountersDelta
from openvcr.registers import journal
from openvcr.registers.export import VerifyReport, verify_database, verify_file
from openvcr.registers.signing_keys import signer_for
from openvcr.store.db import Database
from openvcr.store.schema.journal import journal_entries
from tests.integration.journal.conftest import MASTER_KEY, MakeRegister

ENTRIES = 40
IN_PROCESS: dict[str, Any] = {"workers": 0, "threads": 0}
IN_WORKERS: dict[str, Any] = {"workers": 2, "parallel_from": 0, "batch_size": 4}
"""Ten batches of four entries for a journal of ``ENTRIES``."""

Verdict = VerifyReport | tuple[type[JournalError], int | None, str]


@pytest.fixture(autouse=True)
def _the_workers_run(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """No check fell back to the caller's thread: the workers started and answered."""
    with caplog.at_level(logging.WARNING, logger="openvcr.verify"):
        yield
    assert [r.getMessage() for r in caplog.records if r.name == "openvcr.verify"] == []


def _fill(database: Database, register_id: int, n: int = ENTRIES) -> None:
    signer = signer_for(database, register_id, MASTER_KEY)
    with database.write() as conn:
        for i in range(1, n + 1):
            journal.append(
                conn,
                register_id,
                doc_type="sale",
                doc_ref=f"{register_id}-{i}",
                body={"lines": [{"offer": "A-1", "quantity": Decimal("1.000")}], "total": Decimal("1500.00")},
                delta=CountersDelta.sale(Decimal("1500.00"), Decimal("250.00")),
                signer=signer,
            )


def _signature(database: Database, register_id: int, number: int) -> bytes:
    with database.read() as conn:
        return bytes(
            conn.execute(
                select(journal_entries.c.signature).where(
                    journal_entries.c.register_id == register_id, journal_entries.c.number == number
                )
            ).scalar_one()
        )


def _set(database: Database, register_id: int, number: int, **values: Any) -> None:
    with database.write() as conn:
        conn.execute(
            update(journal_entries)
            .where(journal_entries.c.register_id == register_id, journal_entries.c.number == number)
            .values(**values)
        )


def _resign_with_another_entrys_signature(database: Database, register_id: int, number: int) -> None:
    """Entry ``number`` gets the signature of the entry before it: well-formed, by the right key, not of it."""
    _set(database, register_id, number, signature=_signature(database, register_id, number - 1))


def _alter_content(database: Database, register_id: int, number: int) -> None:
    with database.read() as conn:
        content = bytes(
            conn.execute(
                select(journal_entries.c.content).where(
                    journal_entries.c.register_id == register_id, journal_entries.c.number == number
                )
            ).scalar_one()
        )
    _set(database, register_id, number, content=content.replace(b'"1500.00"', b'"1501.00"', 1))


def _verdict(run: Callable[[], VerifyReport]) -> Verdict:
    try:
        return run()
    except JournalError as exc:
        return type(exc), exc.number, exc.message


def _database_verdicts(database: Database, register_id: int) -> tuple[Verdict, Verdict]:
    return (
        _verdict(lambda: verify_database(database, register_id=register_id, **IN_PROCESS)),
        _verdict(lambda: verify_database(database, register_id=register_id, **IN_WORKERS)),
    )


def test_a_valid_journal_verifies_the_same_in_worker_processes(database: Database, make_register: MakeRegister) -> None:
    register_id = make_register()
    _fill(database, register_id)
    in_process, in_workers = _database_verdicts(database, register_id)
    assert isinstance(in_workers, VerifyReport)
    assert in_workers == in_process
    assert in_workers.entries == ENTRIES


def test_a_bad_signature_deep_in_the_journal_is_named_the_same_in_worker_processes(
    database: Database, make_register: MakeRegister
) -> None:
    register_id = make_register()
    _fill(database, register_id)
    _resign_with_another_entrys_signature(database, register_id, 37)  # in the tenth batch of four
    in_process, in_workers = _database_verdicts(database, register_id)
    assert in_workers == in_process
    assert in_workers == (
        SignatureInvalidError,
        37,
        "entry #37: the signature does not verify with the register's key",
    )


def test_the_first_of_two_bad_signatures_in_different_batches_is_named(
    database: Database, make_register: MakeRegister
) -> None:
    register_id = make_register()
    _fill(database, register_id)
    _resign_with_another_entrys_signature(database, register_id, 35)
    _resign_with_another_entrys_signature(database, register_id, 22)
    in_process, in_workers = _database_verdicts(database, register_id)
    assert in_workers == in_process
    assert in_workers[:2] == (SignatureInvalidError, 22)  # type: ignore[index]


def test_a_bad_signature_is_named_before_a_later_entry_that_breaks_another_rule(
    database: Database, make_register: MakeRegister
) -> None:
    """Entry #35's altered content is found in the caller's thread, while the batch holding entry #22's bad
    signature may still be in a worker: the verdict waits for it and names #22."""
    register_id = make_register()
    _fill(database, register_id)
    _resign_with_another_entrys_signature(database, register_id, 22)
    _alter_content(database, register_id, 35)
    in_process, in_workers = _database_verdicts(database, register_id)
    assert in_workers == in_process
    assert in_workers[:2] == (SignatureInvalidError, 22)  # type: ignore[index]


def test_an_entry_that_breaks_another_rule_is_named_before_a_later_bad_signature(
    database: Database, make_register: MakeRegister
) -> None:
    register_id = make_register()
    _fill(database, register_id)
    _alter_content(database, register_id, 22)
    _resign_with_another_entrys_signature(database, register_id, 35)
    in_process, in_workers = _database_verdicts(database, register_id)
    assert in_workers == in_process
    assert in_workers[:2] == (ContentAlteredError, 22)  # type: ignore[index]


def test_an_export_broken_deep_inside_gets_the_same_verdict_in_worker_processes(
    database: Database, make_register: MakeRegister, tmp_path: Path
) -> None:
    one, two = make_register(), make_register()
    _fill(database, one)
    _fill(database, two, 30)
    _resign_with_another_entrys_signature(database, two, 29)
    out = tmp_path / "journal.jsonl"
    result = CliRunner().invoke(app, ["export", "--database", database.url, "--output", str(out)])
    assert result.exit_code == 0, result.output
    in_process = _verdict(lambda: verify_file(out, **IN_PROCESS))
    in_workers = _verdict(lambda: verify_file(out, **IN_WORKERS))
    assert in_workers == in_process
    assert in_workers[:2] == (SignatureInvalidError, 29)  # type: ignore[index]


def test_verification_in_worker_processes_runs_from_a_daemon_thread(
    database: Database, make_register: MakeRegister
) -> None:
    register_id = make_register()
    _fill(database, register_id)
    _resign_with_another_entrys_signature(database, register_id, 31)
    found: list[Verdict] = []
    thread = threading.Thread(
        target=lambda: found.append(_verdict(lambda: verify_database(database, register_id=register_id, **IN_WORKERS))),
        daemon=True,
    )
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive()
    assert found == [_verdict(lambda: verify_database(database, register_id=register_id, **IN_PROCESS))]
    assert found[0][:2] == (SignatureInvalidError, 31)  # type: ignore[index]


@pytest.mark.parametrize("entries", [3, 40])
def test_a_journal_shorter_than_the_threshold_is_verified_in_process(
    database: Database, make_register: MakeRegister, entries: int
) -> None:
    """Below ``parallel_from`` no worker is started (nothing to wait for), above it they are; same result."""
    register_id = make_register()
    _fill(database, register_id, entries)
    below = verify_database(database, register_id=register_id, workers=2, parallel_from=entries + 1, batch_size=4)
    above = verify_database(database, register_id=register_id, workers=2, parallel_from=entries, batch_size=4)
    assert below == above
    assert below.entries == entries
