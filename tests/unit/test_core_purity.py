"""`openvcr.core` imports no web, database or HTTP-client code and never reads the environment."""

from __future__ import annotations

import ast
from pathlib import Path

import openvcr.core

CORE = Path(openvcr.core.__file__).parent
FORBIDDEN_MODULES = (
    "fastapi",
    "starlette",
    "uvicorn",
    "sqlalchemy",
    "alembic",
    "psycopg",
    "sqlite3",
    "httpx",
    "urllib.request",
    "http.client",
    "requests",
    "socket",
    "pydantic_settings",
    "openvcr.config",
    "openvcr.api",
    "openvcr.store",
    "openvcr.authority",
)
FORBIDDEN_ATTRIBUTES = {("os", "environ"), ("os", "getenv"), ("os", "putenv")}


def _violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[str] = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        for name in names:
            if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN_MODULES):
                found.append(f"{path.name}:{node.lineno} imports {name}")
                break
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and (node.value.id, node.attr) in FORBIDDEN_ATTRIBUTES
        ):
            found.append(f"{path.name}:{node.lineno} reads os.{node.attr}")
        if isinstance(node, ast.ImportFrom) and node.module == "os":
            for alias in node.names:
                if ("os", alias.name) in FORBIDDEN_ATTRIBUTES:
                    found.append(f"{path.name}:{node.lineno} imports os.{alias.name}")
    return found


def test_core_imports_no_io_and_reads_no_environment() -> None:
    files = sorted(CORE.rglob("*.py"))
    assert files, "openvcr.core has no modules"
    violations = [v for f in files for v in _violations(f)]
    assert violations == []


def test_the_purity_check_catches_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nimport httpx\nfrom sqlalchemy import select\nx = os.environ['A']\n")
    found = _violations(bad)
    assert len(found) == 3
