"""``autostack explain``: show how file names parse (group key, version, the rule that fired, and why).

Names come from the command line, or from stdin one per line (``-``, or none given with stdin
not a terminal; none given at a terminal exits 2 saying so). ``--json`` prints one JSON object per
line with exactly the keys name, group_key, version, rule and reason (group_key and version are
null when the name is declined). The rules are ``--rules FILE``, else ``AUTOSTACK_RULES`` (the
workers' rules), else the defaults; a bad file exits 2 with a one-line reason naming its source.
``--project ID`` and ``--folder PATH`` (from the project root) pick the rules file's ``[[scope]]``
that would read names there: the table is headed by the scope that decided, and the JSON objects
then carry a sixth key, scope. ``--file ID`` shows the decisions recorded about one file, as a
table or (``--json``) JSON lines.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TextIO

import redis

from service.tables import table_lines, utc_iso, utc_text
from workers import decisions
from workers.naming.parser import Parsed, Rules, parse
from workers.naming.rules import RulesError, load_rulebook
from workers.naming.scopes import DEFAULT_BOOK, GLOBAL, RuleBook

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
    return tuple(
        "-" if row[key] is None else str(row[key]) for key in ("name", "group_key", "version", "rule", "reason")
    )


def run_explain(names: list[str], rules: Rules, as_json: bool, out: TextIO, scope: str | None = None) -> int:
    """Print how each name parses: a table, or JSON lines. Returns the exit code (0).
    ``scope``: the [[scope]] whose rules these are, shown when the caller asked for one."""
    rows = [_row(name, rules) for name in names]
    if as_json:
        for row in rows:
            out.write(json.dumps(row if scope is None else {**row, "scope": scope}, ensure_ascii=False) + "\n")
        return 0
    if scope is not None:
        out.write(f"rules: {scope if scope == GLOBAL else f'scope {scope!r}'}\n")
    for line in table_lines(_HEADERS, [_cells(row) for row in rows]):
        out.write(line + "\n")
    return 0


def add_explain_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "names", nargs="*", help="file names to explain; - (or a pipe and no names) reads them from stdin, one a line"
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per line instead of a table")
    parser.add_argument(
        "--rules", metavar="FILE", type=Path, default=None, help="a naming rules file (TOML; default: AUTOSTACK_RULES)"
    )
    parser.add_argument(
        "--file", metavar="ID", default=None, help="show the recorded decisions about one Frame.io file instead"
    )
    parser.add_argument("--project", metavar="ID", default=None, help="read the names as in this project's scope")
    parser.add_argument("--folder", metavar="PATH", default=None, help="...and this folder path (like /Dailies/Day 3)")


def explain_file(client: redis.Redis, file_id: str, out: TextIO, as_json: bool = False) -> int:
    """The decisions recorded about one file, newest first; 1 when there are none."""
    history = decisions.for_file(client, file_id)
    if not history:
        out.write(f"no decision recorded for file {file_id}\n")
        return 1
    if as_json:
        for d in history:
            row: dict[str, str | int | None] = {"at": utc_iso(d.at), "event": d.event, "outcome": d.outcome}
            row |= {"name": d.name}
            row |= {"group_key": d.group_key or None, "version": d.version, "rule": d.rule, "code": d.code}
            row |= {"scope": d.scope or None, "reason": d.reason}
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        return 0
    rows = [
        (
            utc_text(d.at),
            d.event,
            d.outcome,
            d.name,
            d.group_key or "-",
            "-" if d.version is None else str(d.version),
            d.rule,
            d.scope or "-",
            d.reason,
        )
        for d in history
    ]
    headers = ("when", "event", "outcome", "name", "group key", "version", "rule", "scope", "reason")
    for line in table_lines(headers, rows):
        out.write(line + "\n")
    return 0


def explain_main(
    args: argparse.Namespace, stdin: TextIO, out: TextIO, err: TextIO, rules_file: Path | None = None
) -> int:
    """The ``explain`` command: 0 on success, 2 when the rules file cannot be used or no names
    are given at a terminal. ``rules_file``: AUTOSTACK_RULES, used when ``--rules`` is not given."""
    book: RuleBook = DEFAULT_BOOK
    source, path = ("--rules", args.rules) if args.rules is not None else ("AUTOSTACK_RULES", rules_file)
    if path is not None:
        try:
            book = load_rulebook(Path(path))
        except RulesError as exc:
            err.write(f"autostack explain: {source}: {' '.join(str(exc).split())}\n")
            return 2
    if not args.names and stdin.isatty():
        err.write("autostack explain: give file names, or - to read them from standard input (one a line)\n")
        return 2
    names = [name for name in args.names if name != "-"]
    if not args.names or "-" in args.names:
        names += [line.rstrip("\r\n") for line in stdin if line.strip()]
    asked = args.project is not None or args.folder is not None
    folder = None if args.folder is None else "/" + args.folder.strip("/")
    resolved = book.resolve(args.project, folder)
    return run_explain(names, resolved.rules, bool(args.json), out, resolved.scope if asked else None)
