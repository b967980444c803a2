"""``autostack undo`` and ``autostack unstack``: take stacked files back out to their folder.

``undo --file ID`` reverses what autostack did to one file, ``undo --since TIME`` every write
autostack made in a window (newest first), ``undo --clear --file ID`` lets autostack stack an
undone file again, and ``unstack --stack ID`` empties any stack, bottom first. Each shows its plan
as a table, then (unless ``--dry-run``) applies it with a progress line per move, through the
shared rate limiter. The rules are in :mod:`workers.tools.undo`. Exit codes: 0 done, 1 refused or a
move failed, 2 usage (an unreadable time, an account that cannot be told).
"""

from __future__ import annotations

import argparse
import getpass
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, TextIO

import redis

from service.failures import failure_for
from service.progress import Steps
from workers import decisions
from workers.decisions import Decision
from workers.frameio.errors import RetryableError
from workers.settings import Settings
from workers.stacking.holds import Holds
from workers.stacking.journal import Journal
from workers.stacking.writes import JournalEntry
from workers.tools.undo import Asker, OnWait, Report, StepResult, Undoer
from workers.tools.undo_plan import Refusal, UndoPlan

if TYPE_CHECKING:
    from workers.runtime import Runtime

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_RELATIVE = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])", re.IGNORECASE)
_WHY = {"asked": "undo", "unstack": "unstack", "last-of-stack": "last file: no stacks of one"}
RECENT_DECISIONS = 500


def parse_since(text: str, now: float) -> float:
    """A window start: ``30m``/``2h``/``1d``/``1w``/``90s`` back from ``now``, or an ISO 8601 time
    (a time without an offset is UTC). Raises ValueError with a line for people."""
    text = text.strip()
    relative = _RELATIVE.fullmatch(text)
    if relative:
        return now - float(relative[1]) * _UNITS[relative[2].lower()]
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"--since {text!r}: give an ISO 8601 time (2026-03-01T14:00Z) or a span (30m, 2h, 1d)"
        ) from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true", help="show the plan and change nothing")
    parser.add_argument("--reason", metavar="TEXT", default="", help="why (kept in the decision log)")
    parser.add_argument("--by", metavar="NAME", default=None, help="who asks (default: the OS user)")
    parser.add_argument("--account", metavar="ID", default=None, help="Frame.io account (default: from the log)")


def add_undo_arguments(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--file", metavar="ID", help="take this file back out of the stack autostack put it in")
    which.add_argument("--since", metavar="TIME", help="reverse every autostack write since TIME (ISO 8601 or 2h, 30m)")
    parser.add_argument("--folder", metavar="ID", default=None, help="with --since: only the writes in this folder")
    parser.add_argument("--clear", action="store_true", help="with --file: let autostack stack an undone file again")
    _add_common(parser)


def add_unstack_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", metavar="ID", required=True, help="the version stack to empty, bottom first")
    _add_common(parser)


def undo_main(
    args: argparse.Namespace, settings: Settings, out: TextIO, err: TextIO, *, runtime: Runtime | None = None
) -> int:
    """The ``undo`` command (``runtime`` for tests: a Runtime on the sandbox's transport)."""
    if args.folder and not args.since:
        return _usage(err, "undo", "--folder goes with --since")
    if args.clear and not args.file:
        return _usage(err, "undo", "--clear goes with --file")
    rt = runtime or _runtime(settings)
    client = rt.redis()
    client.ping()  # a Redis that does not answer: one line from service.failures
    if args.clear:
        return _clear(client, args, settings, out)
    settings.require_frameio_credentials()
    undoer = Undoer(rt.frameio(), rt.memory(), rt.folder_rules(), lock=rt.locks().hold)
    asker = Asker(args.by or os_user(), args.reason, settings.autostack_decision_log_max, settings.decision_retention_s)
    if args.file:
        return _undo_file(undoer, client, args, asker, out, err)
    return _undo_window(undoer, client, args, asker, out, err)


def unstack_main(
    args: argparse.Namespace, settings: Settings, out: TextIO, err: TextIO, *, runtime: Runtime | None = None
) -> int:
    """The ``unstack`` command: every file of the stack back to its folder, bottom first."""
    rt = runtime or _runtime(settings)
    client = rt.redis()
    client.ping()
    settings.require_frameio_credentials()
    account = resolve_account(client, args.account)
    if account is None:
        return _usage(err, "unstack", "cannot tell the Frame.io account: pass --account")
    undoer = Undoer(rt.frameio(), rt.memory(), rt.folder_rules(), lock=rt.locks().hold)
    plan = _planned(
        undoer, out, "unstack", f"version stack {args.stack}", partial(undoer.plan_unstack, account, args.stack)
    )
    asker = Asker(args.by or os_user(), args.reason, settings.autostack_decision_log_max, settings.decision_retention_s)
    return _run(undoer, plan, asker, args.dry_run, out, strict=True, command="unstack")


def _undo_file(
    undoer: Undoer, client: redis.Redis, args: argparse.Namespace, asker: Asker, out: TextIO, err: TextIO
) -> int:
    account = resolve_account(client, args.account, args.file)
    if account is None:
        return _usage(err, "undo", "cannot tell the Frame.io account of this file: pass --account")
    plan = _planned(undoer, out, "undo", f"file {args.file}", partial(undoer.plan_file, account, args.file))
    return _run(undoer, plan, asker, args.dry_run, out, strict=True, command="undo")


def _undo_window(
    undoer: Undoer, client: redis.Redis, args: argparse.Namespace, asker: Asker, out: TextIO, err: TextIO
) -> int:
    try:
        since = parse_since(args.since, undoer.memory.now())
    except ValueError as exc:
        return _usage(err, "undo", str(exc))
    entries = Journal(client).since(since, args.folder)
    fallback = resolve_account(client, args.account)
    if args.account:
        entries = [entry for entry in entries if entry.account_id in ("", args.account)]
    if any(not entry.account_id for entry in entries) and fallback is None:
        return _usage(err, "undo", "some writes do not name their account: pass --account")
    entries = [JournalEntry(entry.account_id or fallback or "", entry.write) for entry in entries]
    when = datetime.fromtimestamp(since, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    out.write(f"{len(entries)} autostack write(s) since {when}{_in_folder(args.folder)}, newest first\n")
    plan = _planned(undoer, out, "undo", "the stacks of those writes", partial(undoer.plan_window, entries))
    return _run(undoer, plan, asker, args.dry_run, out, strict=False, command="undo")


def _run(
    undoer: Undoer, plan: UndoPlan, asker: Asker, dry_run: bool, out: TextIO, *, strict: bool, command: str
) -> int:
    """Show the plan; apply it unless a dry run. ``strict``: a refusal is a failure (exit 1)."""
    print_plan(plan, out)
    refused = 1 if strict and plan.refusals else 0
    if not plan.moves:
        return refused
    if dry_run:
        out.write("dry run: nothing moved\n")
        return refused

    with Steps(out, command, len(plan.moves)) as steps:
        undoer.on_wait = _waits(steps)
        report = undoer.apply(plan, asker, lambda done, total, step: steps.advance(step_text(step)))
    print_report(report, out)
    return 1 if report.stopped else refused


def print_plan(plan: UndoPlan, out: TextIO) -> None:
    if plan.moves:
        rows = [
            (str(n), move.file_id, move.name, move.stack_id, move.folder_id, _WHY[move.why])
            for n, move in enumerate(plan.moves, 1)
        ]
        out.write(f"plan: {len(plan.moves)} move(s)\n")
        _table(("#", "file", "name", "out of stack", "to folder", "why"), rows, out)
    else:
        out.write("plan: nothing to move\n")
    if plan.refusals:
        out.write(f"left alone: {len(plan.refusals)}\n")
        for refusal in plan.refusals:
            out.write(f"  {_refused(refusal)}\n")


def _refused(refusal: Refusal) -> str:
    what = ", ".join(refusal.file_ids) or refusal.stack_id
    return f"{what}: {refusal.reason} [{refusal.code}]"


def step_text(step: StepResult) -> str:
    """``moved a_v2.mov (id)``, and the detail unless the move simply happened."""
    detail = "" if step.status == "moved" else f": {step.detail}"
    return f"{step.status} {step.move.name} ({step.move.file_id}){detail}"


def _planned(undoer: Undoer, out: TextIO, command: str, what: str, plan: Callable[[], UndoPlan]) -> UndoPlan:
    """``plan()``, saying what it reads and each wait (reading a large stack can take minutes)."""
    with Steps(out, command) as reading:
        undoer.on_wait = _waits(reading)
        reading.note(f"reading {what} from Frame.io")
        return plan()


def _waits(steps: Steps) -> OnWait:
    """A wait before reading or moving again, said (so a long wait is never silence)."""

    def say(seconds: float, why: RetryableError) -> None:
        steps.note(f"waiting {seconds:.0f} s: {failure_for(why).cause}")

    return say


def print_report(report: Report, out: TextIO) -> None:
    done = sum(step.status in ("moved", "already-out", "dissolved") for step in report.steps)
    out.write(f"done: {done} of {len(report.steps)} step(s) tried\n")
    if report.stopped:
        out.write("stopped at the failed step; the moves after it were not tried (run the command again)\n")
    for fate in report.fates:
        if fate.fate == "gone":
            out.write(f"version stack {fate.stack_id} ({fate.name}) is gone\n")
        elif fate.fate == "left-empty":
            out.write(f"version stack {fate.stack_id} ({fate.name}) is left empty in folder {fate.folder_id}: ")
            out.write(f"{fate.detail}\n")
        else:
            out.write(f"version stack {fate.stack_id} ({fate.name}) was not emptied: {fate.detail}\n")


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], out: TextIO) -> None:
    table = [tuple(headers), *(tuple(row) for row in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(headers) - 1)]
    for line in table:
        padded = [cell.ljust(width) for cell, width in zip(line, widths, strict=False)]
        out.write("  " + "  ".join([*padded, line[-1]]).rstrip() + "\n")


def _clear(client: redis.Redis, args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    hold = Holds(client).clear(args.file)
    if hold is None:
        out.write(f"file {args.file} was not held back\n")
        return 0
    by = args.by or os_user()
    why = f": {args.reason}" if args.reason else ""
    decision = Decision(
        account_id=resolve_account(client, args.account, args.file) or "",
        file_id=args.file,
        outcome="nothing",
        reason=f"hold cleared by {by}{why} (it was undone by {hold.by})",
        code="hold-cleared",
        name=hold.name,
    )
    decisions.record(client, decision, settings.autostack_decision_log_max, settings.decision_retention_s)
    out.write(f"file {args.file} ({hold.name}): cleared; autostack may stack it again on its next event or sweep\n")
    return 0


def resolve_account(client: redis.Redis, given: str | None, file_id: str | None = None) -> str | None:
    """The account: as given; else the file's own decisions; else the one account of the recent
    decision log (None when it holds none or several)."""
    if given:
        return given
    if file_id is not None:
        known = next((d.account_id for d in decisions.for_file(client, file_id) if d.account_id), None)
        if known:
            return known
    seen = {d.account_id for d in decisions.latest(client, RECENT_DECISIONS) if d.account_id}
    return seen.pop() if len(seen) == 1 else None


def os_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name and no passwd entry (a bare container)
        return "unknown"


def _runtime(settings: Settings) -> Runtime:
    # Imported here: the parser is built for every command, and these load RQ.
    from service.worker import rules_for  # noqa: PLC0415
    from workers.runtime import Runtime  # noqa: PLC0415

    return Runtime(settings, rules_for(settings))


def _usage(err: TextIO, command: str, message: str) -> int:
    err.write(f"autostack {command}: {message}\n")
    return 2


def _in_folder(folder_id: str | None) -> str:
    return f" in folder {folder_id}" if folder_id else ""
