"""The integrator's usage file passes ``mypy --strict`` — with the pydantic plugin (as this project runs mypy)
and without it (as most integrators do) — and a misuse of the SDK's types fails it: the types are seen."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
USAGE = ROOT / "tests" / "client_usage" / "usage.py"
MISUSE = """\
from openvcr.client import Client, SaleCreate


def misuse(vcr: Client, sale: SaleCreate) -> str:
    vcr.create_sale(sale, idempotency_key=1042)
    total: str = vcr.get_sale(1).cash_amount
    return total + vcr.whoami().no_such_field
"""


def mypy(path: Path, config: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MYPYPATH": str(ROOT / "src")}
    command = [sys.executable, "-m", "mypy", "--strict", "--no-incremental", f"--config-file={config}", str(path)]
    return subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)


@pytest.mark.parametrize("config", ["", str(ROOT / "pyproject.toml")], ids=["no-plugin", "pydantic-plugin"])
def test_the_usage_file_passes_mypy_strict(config: str, tmp_path: Path) -> None:
    done = mypy(USAGE, config, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Success: no issues found in 1 source file" in done.stdout


def test_a_misuse_of_the_sdk_fails_mypy_strict(tmp_path: Path) -> None:
    misuse = tmp_path / "misuse.py"
    misuse.write_text(MISUSE, encoding="utf-8")
    done = mypy(misuse, "", tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert 'Argument "idempotency_key" to "create_sale" of "Client" has incompatible type "int"' in done.stdout
    assert 'Incompatible types in assignment (expression has type "Decimal", variable has type "str")' in done.stdout
    assert '"WhoAmI" has no attribute "no_such_field"' in done.stdout
