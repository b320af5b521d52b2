"""The layering of ``openvcr``, checked on the source text (``ast``; nothing of the app is imported).

Rules:
- No import cycle between the top-level packages of ``openvcr`` (``openvcr.sales``, ``openvcr.vsdc`` …); a
  module directly under ``openvcr/`` (``config.py``, ``cli.py``) is a node of its own. Every import counts:
  module level, inside functions, under ``if TYPE_CHECKING:``, absolute and relative.
- The edges are nodes of their own: a domain package's router modules (``api.py``, ``api_*.py``) belong to the
  HTTP edge ``openvcr.api``, its command modules (``cli.py``, ``*_cli.py``) to the command line ``openvcr.cli``.
  The edges may import anything; nothing else may import the HTTP edge (``openvcr.api``), so a domain module
  that needs something of it is a violation, not a cycle.
- ``openvcr.core`` imports no other ``openvcr`` package (and, see ``test_core_purity``, no I/O library).
- ``KNOWN_CYCLES`` lists the cycles that exist today and are being removed; the test fails on any cycle not in
  it *and* on an entry that no longer exists, so the list can only shrink.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping, Set
from dataclasses import dataclass
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
PACKAGE = "openvcr"
HTTP_EDGE = f"{PACKAGE}.api"
CLI_EDGE = f"{PACKAGE}.cli"
CORE = f"{PACKAGE}.core"
ENTRY_POINTS = frozenset({CLI_EDGE, f"{PACKAGE}.__main__"})
API_RULE = "only openvcr.api, the routers (api.py, api_*.py) and the CLI may import openvcr.api"
CORE_RULE = "openvcr.core imports no other openvcr package"

Cycle = tuple[str, ...]
"""The nodes of an import cycle in import order, starting at the smallest name (a → b → … → a)."""

# MUST BE EMPTIED. Each entry is a cycle that exists today and is being removed; never add one.
KNOWN_CYCLES: frozenset[Cycle] = frozenset()


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, e.g. openvcr.sales.service
    target: str  # the imported module, e.g. openvcr.prepayments.ledger
    path: Path
    line: int

    def where(self) -> str:
        return f"{self.path}:{self.line} imports {self.target}"


def modules(src: Path, package: str = PACKAGE) -> dict[str, Path]:
    """Every module of ``package`` under ``src``, by dotted name (a package by its ``__init__``)."""
    found: dict[str, Path] = {}
    for path in sorted((src / package).rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imports(src: Path, package: str = PACKAGE) -> Iterator[Import]:
    """Every import of a module of ``package`` by a module of ``package``, wherever it is written."""
    known = modules(src, package)
    for module, path in known.items():
        here = module if path.name == "__init__.py" else module.rpartition(".")[0]
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = ".".join(here.split(".")[: len(here.split(".")) - node.level + 1])
                    base = f"{base}.{node.module}" if node.module else base
                else:
                    base = node.module or ""
                # ``from openvcr.x import y`` imports the module ``openvcr.x.y`` when there is one.
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
            for target in dict.fromkeys(targets):
                if target == package or target.startswith(package + "."):
                    yield Import(module, target, path.relative_to(src.parent), node.lineno)


def node_of(module: str) -> str:
    """The node of ``module`` in the package graph (see the module docstring)."""
    parts = module.split(".")
    leaf = parts[-1]
    if len(parts) > 2 and (leaf == "api" or leaf.startswith("api_")):
        return HTTP_EDGE
    if len(parts) > 2 and (leaf == "cli" or leaf.endswith("_cli")):
        return CLI_EDGE
    return ".".join(parts[:2])


Graph = dict[str, dict[str, list[Import]]]


def package_graph(found: Iterator[Import] | list[Import]) -> Graph:
    """node → node it imports → the imports that make the edge."""
    graph: Graph = {}
    for imp in found:
        source, target = node_of(imp.module), node_of(imp.target)
        graph.setdefault(source, {})
        graph.setdefault(target, {})
        if source != target:
            graph[source].setdefault(target, []).append(imp)
    return graph


def cycles(graph: Mapping[str, Mapping[str, object]]) -> set[Cycle]:
    """Every elementary cycle of ``graph``, each starting at its smallest node."""
    found: set[Cycle] = set()
    for start in sorted(graph):
        stack: list[tuple[str, list[str]]] = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in sorted(graph[node]):
                if nxt == start:
                    found.add(tuple(path))
                elif nxt > start and nxt not in path:
                    stack.append((nxt, [*path, nxt]))
    return found


def describe(cycle: Cycle, graph: Graph) -> str:
    lines = [" → ".join([*cycle, cycle[0]])]
    for source, target in zip(cycle, [*cycle[1:], cycle[0]], strict=True):
        lines.extend(f"    {imp.where()}" for imp in graph[source][target])
    return "\n".join(lines)


def cycle_problems(graph: Graph, known: Set[Cycle]) -> list[str]:
    """New cycles (with the imports that make them) and allowlisted cycles that are gone."""
    found = cycles(graph)
    problems = [f"import cycle {describe(cycle, graph)}" for cycle in sorted(found - known)]
    problems += [
        f"KNOWN_CYCLES lists {' → '.join([*cycle, cycle[0]])}, which no longer exists: remove it from the list"
        for cycle in sorted(known - found)
    ]
    return problems


def is_edge(module: str) -> bool:
    return module in ENTRY_POINTS or node_of(module) in (HTTP_EDGE, CLI_EDGE)


def direction_problems(found: Iterator[Import] | list[Import]) -> list[str]:
    """Imports of the HTTP edge from outside the edges; imports of other packages from ``core``."""
    problems: list[str] = []
    for imp in found:
        if node_of(imp.target) == HTTP_EDGE and not is_edge(imp.module):
            problems.append(f"{imp.where()}: {API_RULE}")
        if node_of(imp.module) == CORE and node_of(imp.target) != CORE:
            problems.append(f"{imp.where()}: {CORE_RULE}")
    return problems


def _report(problems: list[str]) -> str:
    return "\n" + "\n".join(problems)


# --- the checks on openvcr ---


def test_the_source_tree_is_found() -> None:
    found = modules(SRC)
    assert {"openvcr.core", "openvcr.api", "openvcr.sales", "openvcr.cli"} <= {node_of(m) for m in found}


def test_no_import_cycle_between_packages_except_the_known_ones() -> None:
    problems = cycle_problems(package_graph(imports(SRC)), KNOWN_CYCLES)
    assert not problems, _report(problems)


def test_only_the_edges_import_the_api_and_core_imports_no_other_package() -> None:
    problems = direction_problems(list(imports(SRC)))
    assert not problems, _report(problems)


# --- the checker itself, on small synthetic trees ---


def _tree(tmp_path: Path, files: Mapping[str, str]) -> Path:
    root = tmp_path / "src"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for directory in {p for p in (root / PACKAGE).rglob("*") if p.is_dir()} | {root / PACKAGE}:
        (directory / "__init__.py").touch()
    return root


def test_the_checker_finds_a_cycle_through_a_function_import_and_a_type_checking_import(tmp_path: Path) -> None:
    src = _tree(
        tmp_path,
        {
            "openvcr/a/service.py": "def f():\n    from openvcr.b import models\n",
            "openvcr/b/models.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import openvcr.c.x\n",
            "openvcr/c/x.py": "from ..a.service import f\n",
            "openvcr/d/y.py": "import openvcr.a.service\n",
        },
    )
    graph = package_graph(imports(src))
    assert cycles(graph) == {("openvcr.a", "openvcr.b", "openvcr.c")}
    [problem] = cycle_problems(graph, frozenset())
    assert problem.startswith("import cycle openvcr.a → openvcr.b → openvcr.c → openvcr.a")
    assert "openvcr/a/service.py:2 imports openvcr.b.models" in problem
    assert "openvcr/b/models.py:3 imports openvcr.c.x" in problem
    assert "openvcr/c/x.py:1 imports openvcr.a.service" in problem


def test_the_checker_accepts_a_known_cycle_and_refuses_a_stale_one(tmp_path: Path) -> None:
    src = _tree(tmp_path, {"openvcr/a/m.py": "import openvcr.b.m\n", "openvcr/b/m.py": "from openvcr.a import m\n"})
    graph = package_graph(imports(src))
    assert cycle_problems(graph, frozenset({("openvcr.a", "openvcr.b")})) == []
    [stale] = cycle_problems(graph, frozenset({("openvcr.a", "openvcr.b"), ("openvcr.b", "openvcr.c")}))
    assert "openvcr.b → openvcr.c → openvcr.b, which no longer exists" in stale


def test_the_checker_counts_routers_and_commands_as_edges(tmp_path: Path) -> None:
    src = _tree(
        tmp_path,
        {
            "openvcr/api/app.py": "from openvcr.a.api import router\nfrom openvcr.a.api_rates import router2\n",
            "openvcr/api/auth.py": "from openvcr.a.models import Principal\n",
            "openvcr/a/api.py": "from openvcr.api.auth import require\nfrom openvcr.a import models\n",
            "openvcr/a/api_rates.py": "from openvcr.api import auth\n",
            "openvcr/a/cli.py": "from openvcr.cli import app\nfrom openvcr.api import app as web\n",
            "openvcr/a/models.py": "Principal = object\n",
            "openvcr/cli.py": "from openvcr.a.cli import command\n",
        },
    )
    found = list(imports(src))
    assert cycles(package_graph(found)) == set()
    assert direction_problems(found) == []


def test_the_checker_refuses_a_domain_module_importing_the_api_and_core_importing_a_package(tmp_path: Path) -> None:
    src = _tree(
        tmp_path,
        {
            "openvcr/api/types.py": "",
            "openvcr/a/schemas.py": "import json\nfrom openvcr.api.types import Money\n",
            "openvcr/config.py": "from openvcr.api import types\n",
            "openvcr/core/money.py": "from openvcr.core import errors\nfrom openvcr.config import Settings\n",
            "openvcr/core/errors.py": "def f():\n    from openvcr import __version__\n",
        },
    )
    problems = direction_problems(list(imports(src)))
    assert problems == [
        f"src/openvcr/a/schemas.py:2 imports openvcr.api.types: {API_RULE}",
        f"src/openvcr/config.py:1 imports openvcr.api.types: {API_RULE}",
        f"src/openvcr/core/errors.py:2 imports openvcr: {CORE_RULE}",
        f"src/openvcr/core/money.py:2 imports openvcr.config: {CORE_RULE}",
    ]
