"""Operator commands that fail well: without a database they say which URL they tried and how to set it, exit
with 3 and create nothing; ``keys list`` shows names and dates people read; ``--help`` shows defaults."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from openvcr.commands import EXIT_NO_DATABASE
from tests.e2e.server import init_json, openvcr_env, run_cli

COMMANDS = [
    ["verify"],
    ["export", "--output", "journal.jsonl"],
    ["keys", "list"],
    ["registers", "list"],
    ["src", "in-doubt"],
    ["rates", "show", "USD"],
    ["rates", "set", "USD", "387.5"],
    ["outbox", "status"],
    ["outbox", "list", "--kind", "receipt_email"],
]


def _in(directory: Path, args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "openvcr", *args],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a))
def test_without_a_database_one_line_exit_3_and_nothing_created(tmp_path: Path, args: list[str]) -> None:
    env = openvcr_env(tmp_path / "sandbox-state")
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    done = _in(tmp_path, args, env)
    assert done.returncode == EXIT_NO_DATABASE, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert "no database file openvcr.db (sqlite:///./openvcr.db)" in lines[0]
    assert "OPENVCR_DATABASE_URL" in lines[0] and "--database" in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no openvcr.db, no journal.jsonl, no sandbox state


def test_a_file_that_is_not_an_openvcr_database_is_not_touched(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    other.write_bytes(b"")
    env = openvcr_env(tmp_path / "sandbox")
    done = run_cli(["keys", "list", "--database", f"sqlite:///{other}"], env)
    assert done.returncode == EXIT_NO_DATABASE and "holds no OpenVCR database" in done.stderr
    assert other.read_bytes() == b""


def test_an_unreachable_postgresql_names_the_url_without_its_password(tmp_path: Path) -> None:
    env = openvcr_env(tmp_path / "sandbox")
    url = "postgresql+psycopg://openvcr:s3cret@127.0.0.1:1/nothing"
    done = run_cli(["registers", "list", "--database", url], env)
    assert done.returncode == EXIT_NO_DATABASE, done.stderr
    assert "cannot reach the database" in done.stderr and "127.0.0.1:1/nothing" in done.stderr
    assert "s3cret" not in done.stderr


def test_keys_list_shows_names_and_readable_dates(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'k.db'}"
    env = openvcr_env(tmp_path / "sandbox", COLUMNS="200")
    init_json(database, env)
    created = run_cli(["keys", "create", "--name", "shop", "--database", database, "--json"], env)
    assert created.returncode == 0, created.stderr
    table = run_cli(["keys", "list", "--database", database], env).stdout
    assert "shop" in table and "init" in table
    assert re.search(r"20\d\d-\d\d-\d\d \d\d:\d\d", table), table
    assert not re.search(r"\b1\d{12}\b", table), table  # no epoch milliseconds
    listed = json.loads(run_cli(["keys", "list", "--database", database, "--json"], env).stdout)
    assert {k["name"] for k in listed} == {"init", "shop"}
    assert all(re.fullmatch(r"20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ", k["createdAt"]) for k in listed)
    assert all(k["lastUsedAt"] is None for k in listed)


def test_serve_help_shows_its_defaults(tmp_path: Path) -> None:
    env = openvcr_env(tmp_path / "sandbox", COLUMNS="200")
    text = run_cli(["serve", "--help"], env).stdout
    for option, default in (("--host", "127.0.0.1"), ("--port", "8000"), ("--workers", "1")):
        line = next(line for line in text.splitlines() if f" {option} " in line)
        assert re.search(rf"\[default: \(?{re.escape(default)}\)?\]", line), line
