"""``OPENVCR_ENVIRONMENT=production`` refuses the simulators and development secrets before anything is
created: ``serve`` and ``init`` exit with status 2 and name the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.server import openvcr_env, run_cli

SECRET = "a-production-master-key-of-forty-characters!"


@pytest.mark.parametrize(
    ("extra_env", "args", "named"),
    [
        ({}, ["serve"], "OPENVCR_MASTER_KEY"),
        ({"OPENVCR_MASTER_KEY": SECRET}, ["serve"], "OPENVCR_SRC_MODE"),
        (
            {"OPENVCR_MASTER_KEY": SECRET, "OPENVCR_SRC_MODE": "remote"},
            ["serve", "--vsdc-port", "18443"],
            "OPENVCR_ATAX_URL",
        ),
        ({"OPENVCR_MASTER_KEY": SECRET}, ["init"], "never created"),
    ],
)
def test_production_refuses_and_creates_nothing(
    tmp_path: Path, extra_env: dict[str, str], args: list[str], named: str
) -> None:
    database = tmp_path / "prod.db"
    env = openvcr_env(tmp_path / "sandbox", OPENVCR_ENVIRONMENT="production", **extra_env)
    done = run_cli([*args, "--database", f"sqlite:///{database}"], env, timeout=60)
    assert done.returncode == 2, done.stdout + done.stderr
    assert named in done.stderr
    assert "Traceback" not in done.stderr
    assert not database.exists()  # refused before the database was opened
    assert not (tmp_path / "sandbox").exists()  # no simulator state either
