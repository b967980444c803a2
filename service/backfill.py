"""``autostack backfill``: plan every group of a folder tree, show the plan, apply it, resumably.

Listing and applying show progress (:mod:`service.progress`): a bar with the ETA on a terminal,
a plain line per folder listed and per group applied elsewhere."""

from __future__ import annotations

import argparse
from typing import TextIO

from service.progress import Steps
from service.tables import table_lines
from service.worker import rules_for
from workers import runtime
from workers.settings import Settings
from workers.stacking.pauses import Pauses
from workers.stacking.scope import FolderScope
from workers.stacking.stacker import Outcome, Stacker
from workers.tools.backfill import DoneGroups, GroupPlan, apply_plans, plan_folder, walk


def add_backfill_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--folder", required=True, help="the Frame.io folder id to start from")
    parser.add_argument("--account", default=None, help="the account id (default: FRAMEIO_ACCOUNT_ID)")
    parser.add_argument("--recursive", action="store_true", help="walk the subfolders too")
    parser.add_argument("--dry-run", action="store_true", help="show the plan, write nothing")
    parser.add_argument("--restart", action="store_true", help="forget the progress of an earlier run")


def backfill_main(args: argparse.Namespace, settings: Settings, out: TextIO, rt: runtime.Runtime | None = None) -> int:
    account_id = settings.account_for(args.account)
    settings.require_frameio_credentials()
    rt = rt or runtime.Runtime(settings, rules_for(settings), foreground=True)
    client, policy, naming = rt.frameio(), rt.policy(), rt.folder_rules()
    paused = FolderScope(client, rt.redis(), ()).refusal(account_id, args.folder)
    if paused is not None:
        print(f"nothing to stack: {paused.reason}", file=out)
        return 0
    plans: list[GroupPlan] = []
    with Steps(out, "listing") as listing:
        for folder in walk(client, account_id, args.folder, args.recursive, Pauses(rt.redis()).ids()):
            plans += plan_folder(folder, naming.resolve(account_id, folder.id).rules, policy)
            listing.advance(f"{folder.path}: {len(folder.children)} file(s), {len(plans)} group(s) so far")
    print_plan(plans, out)
    if args.dry_run or not plans:
        return 0
    progress = DoneGroups(rt.redis(), args.folder)
    if args.restart:
        progress.clear()
    stacker = Stacker(client, naming, policy, lock=rt.locks().hold, memory=rt.memory(), job_id="backfill")
    try:
        with Steps(out, "backfill", len(plans)) as steps:
            outcomes = apply_plans(stacker, account_id, plans, progress, lambda *row: steps.advance(_step_text(*row)))
    except KeyboardInterrupt:
        print("\ninterrupted: run the same command again to resume", file=out)
        return 130
    print(f"done: {_summary(outcomes)}", file=out)
    return 0


def print_plan(plans: list[GroupPlan], out: TextIO) -> None:
    if not plans:
        print("nothing to stack", file=out)
        return
    rows = [(p.folder.path, p.group_key, p.action, p.detail) for p in plans]
    for line in table_lines(("folder", "group key", "action", "detail"), rows):
        print(line, file=out)
    counts = {action: sum(p.action == action for p in plans) for action in ("create", "add", "skip")}
    print(
        f"\n{len(plans)} groups: {counts['create']} to create, {counts['add']} to add to, {counts['skip']} skipped",
        file=out,
    )


def _step_text(index: int, total: int, plan: GroupPlan, outcome: Outcome | None) -> str:
    state = "skipped" if outcome is None else outcome.status
    return f"{state} {plan.folder.path} {plan.group_key}"


def _summary(outcomes: list[Outcome]) -> str:
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    return ", ".join(f"{count} {name}" for name, count in sorted(counts.items())) or "nothing applied"
