"""``autostack rules suggest``: how well autostack reads the names already in a folder tree, and a
rules-file fragment that would cover the shapes it misses, with what that fragment would change.

Read-only: it lists the tree like ``backfill --dry-run`` (through the shared rate limiter, waiting its
turn) and writes nothing; the user saves the fragment or not. The names are read with the rules that
decide the start folder (its ``[[scope]]`` when the rules file has one). Exit codes: 0 done, 1 Frame.io
refused a read, 2 bad usage or configuration.
"""

from __future__ import annotations

import argparse
from typing import TextIO

from service.worker import rules_for
from workers import runtime
from workers.frameio.errors import FrameioError
from workers.frameio.models import FileAsset
from workers.naming.scopes import GLOBAL
from workers.naming.suggest import Named, Reading, Report, suggest
from workers.settings import Settings
from workers.tools.backfill import walk


def add_suggest_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--folder", required=True, help="the Frame.io folder id to read")
    parser.add_argument("--account", default=None, help="the account id (default: FRAMEIO_ACCOUNT_ID)")
    parser.add_argument("--recursive", action="store_true", help="read the subfolders too")


def suggest_main(
    args: argparse.Namespace, settings: Settings, out: TextIO, err: TextIO, rt: runtime.Runtime | None = None
) -> int:
    account_id = settings.account_for(args.account)
    settings.require_frameio_credentials()
    rt = rt or runtime.Runtime(settings, rules_for(settings), foreground=True)
    client = rt.frameio()
    try:
        resolved = rt.folder_rules().resolve(account_id, args.folder)
        folders = list(walk(client, account_id, args.folder, args.recursive))
    except FrameioError as exc:
        print(f"autostack rules suggest: cannot read folder {args.folder}: {exc}", file=err)
        return 1
    names = [Named(f.id, c.name) for f in folders for c in f.children if isinstance(c, FileAsset)]
    report = suggest(names, resolved.rules)
    scope = None if resolved.scope == GLOBAL else resolved.scope
    print_report(report, len(folders), scope, out)
    return 0


def print_report(report: Report, folders: int, scope: str | None, out: TextIO) -> None:
    where = f"the rules of [[scope]] {scope!r}" if scope else "the global rules"
    print(f"read {report.before.names} names in {folders} folder(s) with {where}", file=out)
    print(f"today: {_summary(report.before)}", file=out)
    if report.before.declined:
        print("  declined: " + ", ".join(f"{rule} {count}" for rule, count in report.before.declined), file=out)
    if report.before.shapes:
        print("  shapes it does not read (most common first):", file=out)
        for shape in report.before.shapes:
            print(f"    {shape.count:>4}  {shape.shape:<32} e.g. {shape.example} ({shape.rule})", file=out)
    if not report.suggestion:
        print("\nno suggestion: nothing in these names that a version word, an annotation word or a", file=out)
        print("studio toggle would read better", file=out)
        return
    section = f"the [[scope]] {scope!r} section" if scope else "the top of the rules file"
    print(f"\nsuggested rules (add them to {section}; nothing was written):\n", file=out)
    for line in report.suggestion.fragment(scope).splitlines():
        print(f"  {line}", file=out)
    print(f"\nwith them: {_summary(report.after)}", file=out)
    for name, before, after in report.changes:
        print(f"  {name}: {before} -> {after}", file=out)


def _summary(reading: Reading) -> str:
    return (
        f"{reading.groups} groups, {reading.stackable} of them stacks of 2 or more; "
        f"{reading.declined_total} names declined"
    )
