"""``openvcr export`` → ``openvcr verify`` round trip, and tampering caught with its reason."""

from __future__ import annotations

import base64
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from openvcr.cli import app
from openvcr.core.canonical import canonical_bytes
from openvcr.core.errors import ContentAlteredError, CounterGapError
from openvcr.core.journal import CountersDelta, entry_hash
from openvcr.registers import journal
from openvcr.registers.export import verify_database, verify_file
from openvcr.registers.signing_keys import signer_for
from openvcr.store.db import Database
from openvcr.store.schema.journal import journal_entries
from tests.integration.journal.conftest import MASTER_KEY, MakeRegister

runner = CliRunner()


def _fill(database: Database, register_id: int, n: int) -> None:
    signer = signer_for(database, register_id, MASTER_KEY)
    for i in range(1, n + 1):
        with database.write() as conn:
            journal.append(
                conn,
                register_id,
                doc_type="sale" if i % 3 else "sale_refund",
                doc_ref=f"{register_id}-{i}",
                body={
                    "lines": [
                        {"offer": "A-1", "quantity": Decimal("2.000"), "total": Decimal("44000.00")},
                        {"offer": "Բ-7", "quantity": Decimal("1.500"), "total": Decimal("1500.00")},
                    ],
                    "total": Decimal("45500.00"),
                },
                delta=CountersDelta.sale(Decimal("45500.00"))
                if i % 3
                else CountersDelta.sale_refund(Decimal("22000.00")),
                signer=signer,
            )


@pytest.fixture
def exported(database: Database, make_register: MakeRegister, tmp_path: Path) -> Path:
    one, two = make_register(), make_register()
    _fill(database, one, 8)
    _fill(database, two, 3)
    out = tmp_path / "journal.jsonl"
    result = runner.invoke(app, ["export", "--database", database.url, "--output", str(out)])
    assert result.exit_code == 0, result.output
    return out


def _lines(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def _write(path: Path, lines: list[dict[str, Any]]) -> None:
    path.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))


def _verify(path: Path) -> Any:
    return runner.invoke(app, ["verify", str(path)])


def test_an_export_verifies_offline(exported: Path) -> None:
    result = _verify(exported)
    assert result.exit_code == 0, result.output
    assert "VALID" in result.output
    assert "11 entries" in result.output


def test_an_export_holds_a_header_with_the_key_then_entries_in_order(exported: Path) -> None:
    lines = _lines(exported)
    assert [line["kind"] for line in lines[:10]] == ["register"] + ["entry"] * 8 + ["register"]
    header = lines[0]
    assert header["public_key_pem"].startswith("-----BEGIN PUBLIC KEY-----")
    assert header["entries"] == 8
    entry = lines[1]
    assert entry["entry"]["number"] == 1
    assert entry["entry"]["body"]["total"] == "45500.00"
    assert base64.b64decode(entry["signature"])
    assert lines[2]["entry"]["prev_hash"] == entry["hash"]


def test_an_export_of_one_register_holds_only_it(database: Database, exported: Path, tmp_path: Path) -> None:
    out = tmp_path / "one.jsonl"
    result = runner.invoke(app, ["export", "--database", database.url, "--register", "2", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert [line["register"] for line in _lines(out) if line["kind"] == "register"] == [2]
    assert verify_file(out).entries == 3


def test_an_altered_amount_fails_as_altered_content(exported: Path) -> None:
    lines = _lines(exported)
    lines[4]["entry"]["body"]["lines"][0]["total"] = "4400.00"
    _write(exported, lines)
    result = _verify(exported)
    assert result.exit_code == 1
    assert "NOT VALID" in result.output
    assert "entry #4" in result.output
    assert "content_altered" in result.output


def test_a_removed_document_line_fails_as_altered_content(exported: Path) -> None:
    lines = _lines(exported)
    lines[2]["entry"]["body"]["lines"].pop()
    _write(exported, lines)
    with pytest.raises(ContentAlteredError) as info:
        verify_file(exported)
    assert info.value.number == 2


def test_a_removed_entry_fails_as_a_gap(exported: Path) -> None:
    lines = _lines(exported)
    del lines[5]
    _write(exported, lines)
    result = _verify(exported)
    assert result.exit_code == 1
    assert "counter_gap" in result.output
    assert "entry #5" in result.output


def test_a_removed_last_entry_fails_as_a_gap(exported: Path) -> None:
    lines = _lines(exported)
    del lines[8]
    _write(exported, lines)
    with pytest.raises(CounterGapError) as info:
        verify_file(exported)
    assert info.value.number == 8


def test_swapped_entries_fail_as_a_reordering(exported: Path) -> None:
    lines = _lines(exported)
    lines[3], lines[4] = lines[4], lines[3]
    _write(exported, lines)
    result = _verify(exported)
    assert result.exit_code == 1
    assert "entry_order" in result.output
    assert "entry #3" in result.output


def test_a_replaced_signature_fails_as_a_bad_signature(exported: Path) -> None:
    lines = _lines(exported)
    lines[6]["signature"] = lines[7]["signature"]
    _write(exported, lines)
    result = _verify(exported)
    assert result.exit_code == 1
    assert "signature_invalid" in result.output
    assert "entry #6" in result.output


def test_a_forged_entry_with_its_hash_recomputed_fails_on_its_signature(exported: Path) -> None:
    lines = _lines(exported)
    lines[3]["entry"]["body"]["total"] = "1.00"
    lines[3]["hash"] = entry_hash(canonical_bytes(lines[3]["entry"]))
    _write(exported, lines)
    result = _verify(exported)
    assert result.exit_code == 1
    assert "signature_invalid" in result.output
    assert "entry #3" in result.output


def test_a_relinked_chain_fails_as_a_broken_chain(exported: Path) -> None:
    lines = _lines(exported)
    lines[3]["entry"]["prev_hash"] = "00" * 32
    _write(exported, lines)
    # the hash no longer matches either, but the broken link is the first rule the entry breaks
    result = _verify(exported)
    assert result.exit_code == 1
    assert "chain_broken" in result.output


def test_a_file_that_is_not_an_export_is_an_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text("hello\n")
    result = _verify(bad)
    assert result.exit_code == 1
    assert "malformed_entry" in result.output


def test_a_missing_file_exits_2(tmp_path: Path) -> None:
    assert _verify(tmp_path / "nothing.jsonl").exit_code == 2


def test_the_database_verifies(database: Database, exported: Path) -> None:
    result = runner.invoke(app, ["verify", "--database", database.url])
    assert result.exit_code == 0, result.output
    assert "11 entries" in result.output


def test_a_tampered_row_in_the_database_fails(database: Database, exported: Path) -> None:
    with database.write() as conn:
        row = journal.entry_for(conn, "sale", "1-5")
        assert row is not None
        altered = row.content.replace(b'"45500.00"', b'"45501.00"', 1)
        conn.execute(
            update(journal_entries)
            .where(journal_entries.c.register_id == 1, journal_entries.c.number == 5)
            .values(content=altered)
        )
    with pytest.raises(ContentAlteredError) as info:
        verify_database(database)
    assert (info.value.register_id, info.value.number) == (1, 5)
    result = runner.invoke(app, ["verify", "--database", database.url, "--register", "1"])
    assert result.exit_code == 1
    assert "entry #5" in result.output
    assert runner.invoke(app, ["verify", "--database", database.url, "--register", "2"]).exit_code == 0


def test_a_deleted_row_in_the_database_fails_as_a_gap(database: Database, exported: Path) -> None:
    with database.write() as conn:
        conn.execute(journal_entries.delete().where(journal_entries.c.register_id == 2, journal_entries.c.number == 3))
    with pytest.raises(CounterGapError) as info:
        verify_database(database)
    assert (info.value.register_id, info.value.number) == (2, 3)
