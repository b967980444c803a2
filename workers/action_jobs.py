"""RQ entry points for what a person asks from Frame.io's menu (Custom Actions) that needs Frame.io:
**Stack versions here** (preview or apply a backfill of one folder, or of its tree) and **Undo
autostack** (the undo of one file, or the unstack of one stack).

The web tier queues these through :mod:`workers.ingest.queue` and answers Frame.io at once; each
job leaves the message a person should see under its ``result_key`` (for the web tier to show if
it comes within Frame.io's 10 s, and for nobody otherwise: the decision log keeps what happened).
It imports the tools and the ingest path's recording; nothing imports it (RQ names it by path).
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace

from workers import runtime
from workers.ingest.queue import Run
from workers.ingest.record import record_outcome
from workers.naming.parser import Parsed, Rules, parse
from workers.stacking.pauses import Pauses
from workers.stacking.scope import FolderScope
from workers.stacking.stacker import Outcome, Stacker
from workers.tools.backfill import DoneGroups, GroupPlan, apply_plans, plan_folder, walk
from workers.tools.undo import Asker, Report, Undoer

log = logging.getLogger("autostack.actions")

RESULT_TTL_S = 600
PREVIEW_LINES = 5
STACK_EVENT = "action:stack"


def leave_result(rt: runtime.Runtime, result_key: str, title: str, description: str) -> dict[str, str]:
    answer = {"title": title, "description": description}
    rt.redis().set(result_key, json.dumps(answer), ex=RESULT_TTL_S)
    return answer


def stack_folder(account_id: str, folder_id: str, recursive: bool, apply: bool, by: str, result_key: str) -> str:
    """Plan (and with ``apply``, stack) every group of the folder (and below, with ``recursive``)."""
    rt = runtime.current()
    client = rt.frameio()
    refusal = FolderScope(client, rt.redis(), rt.settings.autostack_folders).refusal(account_id, folder_id)
    if refusal is not None:
        return leave_result(rt, result_key, "Nothing to stack", refusal.reason)["title"]
    naming = rt.folder_rules()
    folders = walk(client, account_id, folder_id, recursive, Pauses(rt.redis()).ids())
    plans = [p for f in folders for p in plan_folder(f, naming.resolve(account_id, f.id).rules, rt.policy())]
    if not apply:
        return leave_result(rt, result_key, "Stack versions here: preview", _preview(plans))["title"]
    stacker = Stacker(client, naming, rt.policy(), lock=rt.locks().hold, memory=rt.memory(), job_id=result_key)
    progress = DoneGroups(rt.redis(), result_key)
    outcomes = apply_plans(stacker, account_id, plans, progress, lambda *_: None)
    progress.clear()
    for plan, outcome in zip([p for p in plans if p.action != "skip"], outcomes, strict=True):
        _record_group(rt, account_id, plan, outcome, naming.resolve(account_id, plan.folder.id).rules)
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "nothing to do"
    log.info("stack versions here in folder %s by %s: %s", folder_id, by, summary)
    return leave_result(rt, result_key, "Stack versions here: done", f"{len(plans)} group(s): {summary}")["title"]


def _record_group(rt: runtime.Runtime, account_id: str, plan: GroupPlan, outcome: Outcome, rules: Rules) -> None:
    """A decision for every file the group's writes touched (and its planned file), each under its
    own name, so **Why?** on any of them tells what this action did."""
    names = {asset.id: asset.name for asset in plan.folder.children}
    touched = {plan.target.id, *(file_id for write in outcome.writes for file_id in write.file_ids)}
    for file_id in sorted(touched):
        name = names.get(file_id, outcome.name)
        parsed = parse(name, rules)
        mine = replace(outcome, name=name, parsed=parsed if isinstance(parsed, Parsed) else outcome.parsed)
        record_outcome(rt, mine, Run(account_id, file_id, STACK_EVENT))


def _preview(plans: list[GroupPlan]) -> str:
    if not plans:
        return "Nothing to stack: every group here is already one stack."
    counts = {action: sum(plan.action == action for plan in plans) for action in ("create", "add", "skip")}
    head = (
        f"{len(plans)} group(s): {counts['create']} stack(s) to create, {counts['add']} to add to, "
        f"{counts['skip']} skipped."
    )
    lines = [f"{plan.folder.path} {plan.group_key}: {plan.detail}" for plan in plans[:PREVIEW_LINES]]
    more = [f"... and {len(plans) - PREVIEW_LINES} more"] if len(plans) > PREVIEW_LINES else []
    return "\n".join([head, *lines, *more])


def undo_resource(account_id: str, resource_type: str, resource_id: str, by: str, result_key: str) -> str:
    """Undo what autostack did to a file, or empty a version stack, as ``by`` (recorded as who)."""
    rt = runtime.current()
    undoer = Undoer(rt.frameio(), rt.memory(), rt.folder_rules(), lock=rt.locks().hold)
    if resource_type == "version_stack":
        plan = undoer.plan_unstack(account_id, resource_id)
    else:
        plan = undoer.plan_file(account_id, resource_id)
    settings = rt.settings
    asker = Asker(
        by, "Undo autostack (Frame.io action)", settings.autostack_decision_log_max, settings.decision_retention_s
    )
    refused = [f"{', '.join(r.file_ids) or r.stack_id}: {r.reason}" for r in plan.refusals]
    if not plan.moves:
        text = "\n".join(refused) or "autostack has nothing to undo here."
        return leave_result(rt, result_key, "Undo autostack: nothing to undo", text)["title"]
    report = undoer.apply(plan, asker)
    return leave_result(rt, result_key, "Undo autostack: done", "\n".join([*_report_lines(report), *refused]))["title"]


def _report_lines(report: Report) -> list[str]:
    lines = [f"{step.move.name}: {step.status} (out of stack {step.move.stack_id})" for step in report.steps]
    if report.stopped:
        lines.append("A move failed; the moves after it were not tried. Run Undo autostack again.")
    lines += [f"Version stack {fate.stack_id} ({fate.name}): {fate.fate}" for fate in report.fates]
    return lines
