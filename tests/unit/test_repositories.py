"""SQL lives in repositories; services hand typed models to the edge. Checked on the source text (``ast``).

Rules:
- ``SQL_FREE`` modules (the sales and prepayments services, their document kinds, the prepayment ledger's
  rules) import nothing of SQLAlchemy but ``Connection`` (the handle they pass to repositories): no statement
  builders (``select``, ``insert``, ``update``, ``delete``, ``func`` …), no ``import sqlalchemy``. They call no
  ``execute`` and no table method that builds a statement (``table.insert()``, ``.where(…)`` …).
- A public method of a service class, and a public function of a service module, is not annotated to return
  ``Row``, ``Any`` or a ``dict`` (nor ``Mapping``/``RowMapping``), not even nested (``list[Row]``).
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = SRC / "openvcr"

SQL_FREE = (
    "sales/service.py",
    "sales/documents.py",
    "prepayments/service.py",
    "prepayments/documents.py",
    "prepayments/ledger.py",
)
SERVICES = ("sales/service.py", "prepayments/service.py")

ALLOWED_FROM_SQLALCHEMY = frozenset({"Connection"})
STATEMENT_CALLS = frozenset(
    {"execute", "scalar", "scalars", "select", "insert", "delete", "where", "returning", "with_for_update", "group_by"}
)
"""Method names that build or run a statement (``update``, ``values`` and ``join`` are left out: dicts and
strings have them too, and a statement that uses them also calls ``where`` or ``execute``)."""
UNTYPED_RETURNS = frozenset({"Row", "RowMapping", "Any", "dict", "Dict", "Mapping", "MutableMapping"})


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def sql_problems(path: Path) -> list[str]:
    """Imports of SQLAlchemy beyond ``Connection`` and statement-building calls in ``path``."""
    problems: list[str] = []
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Import):
            problems += [
                f"{path.name}:{node.lineno} imports {a.name}"
                for a in node.names
                if a.name == "sqlalchemy" or a.name.startswith("sqlalchemy.")
            ]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "sqlalchemy":
            problems += [
                f"{path.name}:{node.lineno} imports {a.name} from {node.module}"
                for a in node.names
                if node.module != "sqlalchemy" or a.name not in ALLOWED_FROM_SQLALCHEMY
            ]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in STATEMENT_CALLS:
            problems.append(f"{path.name}:{node.lineno} calls .{node.func.attr}()")
    return problems


def _names(annotation: ast.expr) -> set[str]:
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        annotation = ast.parse(annotation.value, mode="eval").body
    found: set[str] = set()
    for node in ast.walk(annotation):
        if isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.Attribute):
            found.add(node.attr)
    return found


def return_problems(path: Path) -> list[str]:
    """Public service methods and functions of ``path`` annotated to return rows, ``Any`` or dicts (or nothing)."""
    problems: list[str] = []
    tree = _tree(path)
    functions: list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            functions.append((node.name, node))
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            functions += [
                (f"{node.name}.{item.name}", item)
                for item in node.body
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
            ]
    for name, function in functions:
        if function.name.startswith("_"):
            continue
        if function.returns is None:
            problems.append(f"{path.name}:{function.lineno} {name} has no return annotation")
            continue
        bad = _names(function.returns) & UNTYPED_RETURNS
        if bad:
            problems.append(f"{path.name}:{function.lineno} {name} returns {', '.join(sorted(bad))}")
    return problems


# --- the checks on openvcr ---


def test_the_checked_modules_exist() -> None:
    missing = [name for name in (*SQL_FREE, *SERVICES) if not (PACKAGE / name).is_file()]
    assert not missing
    assert (PACKAGE / "sales" / "repository.py").is_file()
    assert (PACKAGE / "prepayments" / "repository.py").is_file()


def test_sales_and_prepayments_keep_their_sql_in_repositories() -> None:
    problems = [problem for name in SQL_FREE for problem in sql_problems(PACKAGE / name)]
    assert not problems, "\n" + "\n".join(problems)


def test_public_service_methods_return_typed_models() -> None:
    problems = [problem for name in SERVICES for problem in return_problems(PACKAGE / name)]
    assert not problems, "\n" + "\n".join(problems)


# --- the checker itself, on synthetic sources ---


def _source(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "service.py"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_checker_refuses_statement_builders_and_execute(tmp_path: Path) -> None:
    path = _source(
        tmp_path,
        "from sqlalchemy import Connection, select\n"
        "import sqlalchemy.sql\n"
        "from sqlalchemy.sql.functions import func\n"
        "from openvcr.store.schema.sales import sales\n"
        "def f(conn: Connection) -> None:\n"
        "    conn.execute(sales.insert().values(id=1).returning(sales.c.id))\n",
    )
    assert sql_problems(path) == [
        "service.py:1 imports select from sqlalchemy",
        "service.py:2 imports sqlalchemy.sql",
        "service.py:3 imports func from sqlalchemy.sql.functions",
        "service.py:6 calls .execute()",
        "service.py:6 calls .returning()",
        "service.py:6 calls .insert()",
    ]


def test_the_checker_accepts_a_service_that_only_passes_the_connection(tmp_path: Path) -> None:
    path = _source(
        tmp_path,
        "from sqlalchemy import Connection\n"
        "from openvcr.sales import repository as repo\n"
        "def f(conn: Connection) -> int:\n"
        "    return repo.insert_sale(conn, total=1)\n",
    )
    assert sql_problems(path) == []


def test_the_checker_refuses_rows_any_and_dicts_returned_by_public_methods(tmp_path: Path) -> None:
    path = _source(
        tmp_path,
        "from typing import Any\n"
        "from sqlalchemy import Row\n"
        "class Service:\n"
        "    def detail(self) -> dict[str, Any]: ...\n"
        "    def rows(self) -> list[Row[Any]]: ...\n"
        "    def one(self) -> 'sqlalchemy.Row[tuple[int]]': ...\n"
        "    def untyped(self): ...\n"
        "    def view(self) -> SaleView: ...\n"
        "    def _private(self) -> Any: ...\n"
        "def helper() -> Any: ...\n"
        "def split() -> tuple[Decimal, Decimal]: ...\n",
    )
    assert return_problems(path) == [
        "service.py:4 Service.detail returns Any, dict",
        "service.py:5 Service.rows returns Any, Row",
        "service.py:6 Service.one returns Row",
        "service.py:7 Service.untyped has no return annotation",
        "service.py:10 helper returns Any",
    ]
