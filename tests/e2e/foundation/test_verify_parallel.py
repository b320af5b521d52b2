"""``openvcr verify --database`` on a journal long enough for its signatures to be checked in worker
processes: the real command, run as ``python -m openvcr`` and as the installed ``openvcr`` script, says VALID
for the journal as written and names the entry whose signature was replaced, deep inside, and nothing else."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import insert, select, update

from openvcr.core.journal import CountersDelta
from openvcr.registers import journal
from openvcr.registers.export import PARALLEL_FROM
from openvcr.registers.signing_keys import ensure_register_key, signer_for
from openvcr.store import migrate
from openvcr.store.db import Database, now_ms
from openvcr.store.schema.foundation import business_entities, registers
from openvcr.store.schema.journal import journal_entries
from tests.e2e.server import openvcr_env, run_cli

ENTRIES = PARALLEL_FROM + 100
BROKEN = ENTRIES - 50
MASTER_KEY = "e2e-verify-master-key"


def _journal(url: str) -> int:
    """A register whose journal holds ``ENTRIES`` sales, appended through the write path."""
    db = Database(url)
    try:
        migrate.upgrade(db)
        with db.write() as conn:
            entity = conn.execute(
                insert(business_entities)
                .values(tin="01234567", name="Shop", created_at=now_ms())
                .returning(business_entities.c.id)
            ).scalar_one()
            register_id = int(
                conn.execute(
                    insert(registers)
                    .values(
                        entity_id=entity,
                        crn="CRN1",
                        mode="sandbox",
                        trading_platform_name="shop",
                        authority_status="operating",
                        created_at=now_ms(),
                    )
                    .returning(registers.c.id)
                ).scalar_one()
            )
            ensure_register_key(conn, register_id, MASTER_KEY)
        signer = signer_for(db, register_id, MASTER_KEY)
        with db.write() as conn:
            for i in range(1, ENTRIES + 1):
                journal.append(
                    conn,
                    register_id,
                    doc_type="sale",
                    doc_ref=str(i),
                    body={"lines": [{"offer": "A-1", "quantity": Decimal("1.000")}], "total": Decimal("700.00")},
                    delta=CountersDelta.sale(Decimal("700.00")),
                    signer=signer,
                )
        return register_id
    finally:
        db.dispose()


def _replace_signature(url: str, register_id: int, number: int) -> None:
    """Entry ``number`` gets the signature of the entry before it: well-formed, by the right key, not of it."""
    db = Database(url)
    try:
        with db.write() as conn:
            where = (journal_entries.c.register_id == register_id, journal_entries.c.number == number - 1)
            other = conn.execute(select(journal_entries.c.signature).where(*where)).scalar_one()
            conn.execute(
                update(journal_entries)
                .where(journal_entries.c.register_id == register_id, journal_entries.c.number == number)
                .values(signature=other)
            )
    finally:
        db.dispose()


SCRIPT = Path(sys.executable).with_name("openvcr")
COMMANDS = [
    pytest.param([sys.executable, "-m", "openvcr"], id="python-m-openvcr"),
    pytest.param(
        [str(SCRIPT)], id="openvcr-script", marks=pytest.mark.skipif(not SCRIPT.is_file(), reason="not installed")
    ),
]


@pytest.mark.parametrize("command", COMMANDS)
def test_verify_checks_a_long_journal_in_worker_processes(command: list[str], tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'journal.db'}"
    env = openvcr_env(tmp_path / "sandbox")
    register_id = _journal(url)
    valid = run_cli(["verify", "--database", url], env, command=command)
    assert valid.returncode == 0, valid.stdout + valid.stderr
    assert f"VALID: {ENTRIES} entries" in valid.stdout
    _replace_signature(url, register_id, BROKEN)
    broken = run_cli(["verify", "--database", url], env, command=command)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert f"entry #{BROKEN}: the signature does not verify" in broken.stderr
    for done in (valid, broken):
        assert "Traceback" not in done.stdout + done.stderr
        assert "checked in this process" not in done.stderr  # the worker processes did the checking
