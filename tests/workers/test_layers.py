"""The layout of ``workers/`` holds: each package imports only what its docstring allows, the
packages import each other without a cycle, and the pure modules load no I/O library."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import workers

ROOT = Path(workers.__file__).parent
PACKAGES = ("naming", "frameio", "stacking", "ingest", "tools")
SHARED = frozenset({"settings", "runtime", "logs", "metrics", "decisions"})

#: What each package may import of autostack outside itself (its docstring says the same).
ALLOWED: dict[str, frozenset[str]] = {
    "naming": frozenset(),
    "frameio": frozenset(),
    "stacking": frozenset({"naming", "frameio"}),
    "ingest": frozenset({"stacking", "naming", "frameio"}) | SHARED,
    "tools": frozenset({"stacking", "naming", "frameio"}) | (SHARED - {"runtime"}),
}

PURE = (
    "workers.naming.parser",
    "workers.naming.templates",
    "workers.naming.media",
    "workers.naming.rules",
    "workers.naming.scopes",
    "workers.naming.suggest",
    "workers.frameio.errors",
    "workers.frameio.models",
    "workers.frameio.retry",
    "workers.frameio.platform",
    "workers.stacking.census",
    "workers.stacking.planner",
    "workers.stacking.order",
    "workers.stacking.writes",
    "workers.ingest.arrival",
    "workers.ingest.batch",
    "workers.tools.undo_plan",
    "workers.tools.doctor_verdicts",
)
IO_LIBRARIES = ("httpx", "redis", "rq", "starlette", "uvicorn")


def node_of(module: str) -> str:
    """The graph node of a ``workers.…`` module: its package, or the shared module's own name."""
    return module.split(".")[1]


def imports_of(path: Path) -> set[str]:
    """The ``workers.…`` modules a file imports (at any depth of the file)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module == "workers":
            found.update(f"workers.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("workers."):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("workers."))
    return found


def package_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT)
        source = relative.parts[0] if len(relative.parts) > 1 else relative.stem
        if source == "__init__":
            continue
        targets = {node_of(module) for module in imports_of(path)}
        graph.setdefault(source, set()).update(targets - {source})
    return graph


def test_each_package_imports_only_what_it_may() -> None:
    graph = package_graph()
    for package in PACKAGES:
        assert graph[package] <= ALLOWED[package], f"{package} imports {sorted(graph[package] - ALLOWED[package])}"


def test_the_packages_import_each_other_without_a_cycle() -> None:
    graph = package_graph()
    done: set[str] = set()

    def visit(node: str, path: tuple[str, ...]) -> None:
        assert node not in path, f"import cycle: {' -> '.join((*path, node))}"
        if node in done:
            return
        for target in graph.get(node, ()):
            visit(target, (*path, node))
        done.add(node)

    for node in graph:
        visit(node, ())


def test_no_module_defers_an_import_to_dodge_a_cycle() -> None:
    for path in ROOT.rglob("*.py"):
        assert "PLC0415" not in path.read_text(), f"{path} imports inside a function"


@pytest.mark.parametrize("module", PURE)
def test_a_pure_module_loads_no_io_library(module: str) -> None:
    probe = f"import json, sys, {module}; print(json.dumps(sorted(m for m in {IO_LIBRARIES!r} if m in sys.modules)))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert json.loads(loaded) == [], f"{module} loads {loaded.strip()}"


def test_every_package_says_what_it_owns_and_may_import() -> None:
    for package in PACKAGES:
        doc = ast.get_docstring(ast.parse((ROOT / package / "__init__.py").read_text())) or ""
        assert "import" in doc and len(doc) > 100, f"workers.{package} has no docstring saying what it may import"


def test_nothing_imports_the_action_jobs_rq_names_them_by_path() -> None:
    importers = [path for path in ROOT.rglob("*.py") if "workers.action_jobs" in imports_of(path)]
    assert importers == []
