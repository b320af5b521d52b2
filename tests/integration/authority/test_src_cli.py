"""``openvcr src …`` operator commands on a real database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from openvcr.authority.cli import src_app
from openvcr.config import get_settings
from openvcr.store.db import Database
from openvcr.store.schema.foundation import registers
from tests.integration.authority.conftest import make_env, ready, sale


@pytest.fixture(autouse=True)
def _sandbox_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("OPENVCR_SANDBOX_STATE_DIR", str(tmp_path / "sandbox-increasing"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_resync_seq_sets_the_last_seq_and_refuses_an_unknown_register(database: Database, tmp_path: Path) -> None:
    env = make_env(database, tmp_path)
    runner = CliRunner()
    result = runner.invoke(src_app, ["resync-seq", "--register", str(env.register_id), "--seq", "41",
                                     "--database", database.url])  # fmt: skip
    assert result.exit_code == 0, result.output
    with database.read() as conn:
        assert conn.execute(select(registers.c.src_seq).where(registers.c.id == env.register_id)).scalar() == 41
    bad = runner.invoke(src_app, ["resync-seq", "--register", "999", "--seq", "1", "--database", database.url])
    assert bad.exit_code == 1
    with database.read() as conn:
        assert conn.execute(select(registers.c.src_seq).where(registers.c.id == env.register_id)).scalar() == 41


def test_in_doubt_lists_unsettled_requests_and_resolve_settles_them(database: Database, tmp_path: Path) -> None:
    from openvcr.core.errors import AuthorityInDoubt

    env = make_env(database, tmp_path)
    ready(env)
    env.simulator.state.add_fault(env.crn, "print", "drop")
    env.simulator.state.add_fault(env.crn, "printCopy", "timeout")
    with pytest.raises(AuthorityInDoubt):
        env.service.print_receipt(env.register_id, "sale-1", sale())
    runner = CliRunner()
    listed = runner.invoke(src_app, ["in-doubt", "--json", "--database", database.url])
    assert listed.exit_code == 0, listed.output
    assert [r["documentKey"] for r in json.loads(listed.output)] == ["sale-1"]
    resolved = runner.invoke(src_app, ["resolve", "--database", database.url])
    assert resolved.exit_code == 0, resolved.output
    assert env.service.outcome("sale-1") is not None
    assert env.simulator.state.receipt_count(env.crn) == 1
