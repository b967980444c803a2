"""``autostack explain``: show how file names parse (group key, version, the rule that fired, and why).

Names come from the command line, or from stdin one per line when none are given. ``--json`` prints one
JSON object per line with exactly the keys name, group_key, version, rule and reason (group_key and
version are null when the name is declined). ``--rules FILE`` applies a rules file; a bad file exits 2
with a one-line reason.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TextIO

from workers.naming import DEFAULT_RULES, Parsed, Rules, parse
from workers.rules import RulesError, load_rules

_HEADERS = ("name", "group key", "version", "rule", "reason")


def _row(name: str, rules: Rules) -> dict[str, str | int | None]:
    result = parse(name, rules)
    if isinstance(result, Parsed):
        return {
            "name": name,
            "group_key": result.group_key,
            "version": result.version,
            "rule": result.rule,
            "reason": result.reason,
        }
    return {"name": name, "group_key": None, "version": None, "rule": result.rule, "reason": result.reason}


def _cells(row: dict[str, str | int | None]) -> tuple[str, ...]:
    shown = ("-" if row[key] is None else str(row[key]) for key in ("name", "group_key", "version", "rule", "reason"))
    return tuple(cell.replace("\t", " ").replace("\n", " ") for cell in shown)


def run_explain(names: list[str], rules: Rules, as_json: bool, out: TextIO) -> int:
    """Print how each name parses: a table, or JSON lines. Returns the exit code (0)."""
    rows = [_row(name, rules) for name in names]
    if as_json:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        return 0
    table = [_HEADERS, *(_cells(row) for row in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(_HEADERS) - 1)]
    for line in table:
        padded = [cell.ljust(width) for cell, width in zip(line, widths, strict=False)]
        out.write("  ".join([*padded, line[-1]]).rstrip() + "\n")
    return 0


def add_explain_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("names", nargs="*", help="file names to explain (default: read them from stdin, one a line)")
    parser.add_argument("--json", action="store_true", help="one JSON object per line instead of a table")
    parser.add_argument("--rules", metavar="FILE", type=Path, default=None, help="a naming rules file (TOML)")


def explain_main(args: argparse.Namespace, stdin: TextIO, out: TextIO, err: TextIO) -> int:
    """The ``explain`` command: 0 on success, 2 when the rules file cannot be used."""
    rules = DEFAULT_RULES
    if args.rules is not None:
        try:
            rules = load_rules(Path(args.rules))
        except RulesError as exc:
            err.write(f"autostack explain: {' '.join(str(exc).split())}\n")
            return 2
    names = list(args.names) or [line.rstrip("\r\n") for line in stdin if line.strip()]
    return run_explain(names, rules, bool(args.json), out)
