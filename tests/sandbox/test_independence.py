"""The sandbox stands in for Frame.io: it imports nothing of autostack's service or workers, so
it can be swapped for the real thing (and never shares a bug with the code it referees)."""

from __future__ import annotations

import ast
from pathlib import Path

import sandbox

ROOT = Path(sandbox.__file__).parent


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_the_sandbox_imports_neither_the_service_nor_the_workers() -> None:
    for path in sorted(ROOT.rglob("*.py")):
        foreign = {name for name in imported_modules(path) if name.split(".")[0] in ("service", "workers")}
        assert not foreign, f"{path.name} imports {sorted(foreign)}"
