"""One rule set: an export file and the database, each through the verifier's fast and complete paths and with
signatures checked in worker processes, name the same first broken entry and rule for every journal of the
corpus (``tests/unit/journal``)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from functools import partial
from pathlib import Path

import orjson
import pytest
from sqlalchemy import delete, insert
from typer.testing import CliRunner

from openvcr.cli import app
from openvcr.core.canonical import canonical_bytes
from openvcr.core.errors import JournalError
from openvcr.core.journal import RawEntry
from openvcr.registers.export import EXPORT_FORMAT, EXPORT_VERSION, verify_database, verify_file
from openvcr.registers.signing_keys import signer_for
from openvcr.store.db import Database, now_ms
from openvcr.store.schema.journal import journal_entries, journal_heads
from tests.integration.journal.conftest import MASTER_KEY, MakeRegister
from tests.unit.journal.corrupted_journals import COUNTERS_CASES, DOCUMENTS, ORDER_CASES, Case

STORABLE_ORDER_CASES = tuple(case for case in ORDER_CASES if case.name not in {"swapped_entries", "repeated_entry"})
"""A database holds one row per number, in order: it cannot hold a swapped or a repeated entry."""

Verdict = tuple[str, int | None, str] | None
IN_WORKERS = {"workers": 2, "parallel_from": 0, "batch_size": 2}
"""Worker processes even for the corpus' journals of 8 entries: four batches of two."""


def _store(database: Database, register_id: int, entries: list[RawEntry]) -> None:
    """The entries as journal rows, and the head after the last one, as ``journal.append`` writes them."""
    with database.write() as conn:
        for entry in entries:
            content = entry.content
            conn.execute(
                insert(journal_entries).values(
                    register_id=register_id,
                    number=content["number"],
                    doc_type=content["type"],
                    doc_ref=content["ref"],
                    time_ms=content["time"],
                    prev_hash=content["prev_hash"],
                    hash=entry.recorded_hash,
                    key_id=content["key_id"],
                    counters=canonical_bytes(content["counters"]).decode(),
                    content=entry.data,
                    signature=entry.signature,
                )
            )
        conn.execute(delete(journal_heads).where(journal_heads.c.register_id == register_id))
        conn.execute(
            insert(journal_heads).values(
                register_id=register_id,
                number=len(DOCUMENTS),
                last_hash=entries[-1].recorded_hash,
                counters=canonical_bytes(entries[-1].content["counters"]).decode(),
                updated_at=now_ms(),
            )
        )


def _export(path: Path, register_id: int, public_key_pem: str, key_id: str, entries: list[RawEntry]) -> None:
    header = {
        "kind": "register",
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "register": register_id,
        "algorithm": "ecdsa-p256-sha256",
        "key_id": key_id,
        "public_key_pem": public_key_pem,
        "entries": len(DOCUMENTS),
    }
    lines = [header] + [
        {
            "kind": "entry",
            "hash": entry.recorded_hash,
            "signature": base64.b64encode(entry.signature).decode(),
            "entry": orjson.Fragment(entry.data),
        }
        for entry in entries
    ]
    path.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))


def _verdict(run: Callable[[], object]) -> Verdict:
    try:
        run()
    except JournalError as exc:
        return exc.code, exc.number, exc.message
    return None


@pytest.mark.parametrize("case", COUNTERS_CASES + STORABLE_ORDER_CASES, ids=lambda case: case.name)
def test_a_file_and_the_database_on_the_fast_and_the_complete_path_give_the_same_verdict(
    case: Case, database: Database, make_register: MakeRegister, tmp_path: Path
) -> None:
    register_id = make_register()
    signer = signer_for(database, register_id, MASTER_KEY)
    entries = case.build(signer, register_id)
    _store(database, register_id, entries)
    path = tmp_path / "journal.jsonl"
    _export(path, register_id, signer.public_key_pem(), signer.key_id, entries)
    verdicts: dict[tuple[str, str], Verdict] = {}
    for fast in (True, False):
        path_name = "fast" if fast else "complete"
        verdicts["file", path_name] = _verdict(partial(verify_file, path, fast=fast))
        verdicts["database", path_name] = _verdict(
            partial(verify_database, database, register_id=register_id, fast=fast)
        )
    verdicts["file", "workers"] = _verdict(partial(verify_file, path, **IN_WORKERS))
    verdicts["database", "workers"] = _verdict(
        partial(verify_database, database, register_id=register_id, **IN_WORKERS)
    )
    assert len(set(verdicts.values())) == 1, verdicts
    found = verdicts["file", "fast"]
    assert (found[:2] if found else None) == case.verdict


def test_verify_names_a_last_entry_with_an_infinite_counter_by_its_number(
    database: Database, make_register: MakeRegister, tmp_path: Path
) -> None:
    register_id = make_register()
    signer = signer_for(database, register_id, MASTER_KEY)
    entries = next(case for case in COUNTERS_CASES if case.name == "infinity_in_the_last_entry").build(
        signer, register_id
    )
    _store(database, register_id, entries)
    path = tmp_path / "journal.jsonl"
    _export(path, register_id, signer.public_key_pem(), signer.key_id, entries)
    runner = CliRunner()
    for args in (["verify", str(path)], ["verify", "--database", database.url, "--register", str(register_id)]):
        result = runner.invoke(app, args)
        assert result.exit_code == 1, result.output
        assert f"NOT VALID: register {register_id}: malformed_entry: entry #8: counter sales_total" in result.output
