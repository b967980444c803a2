"""The actions autostack puts in Frame.io's menu, and the answer each gives a person.

**Why?** and **Pause here** / **Resume here** answer from Redis alone. **Stack versions here** and
**Undo autostack** answer a click with a form; its submission queues the work (a worker calls
Frame.io) and answers with the work's result if it is ready within ``AUTOSTACK_ACTION_WAIT_S``,
else with a message that it is queued. No answer here ever waits on Frame.io.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis
from rq import Queue

from service.action_calls import ActionCall
from service.interactions import poll
from workers import decisions
from workers.decisions import Decision
from workers.ingest.queue import STACK_ACTION_JOB, UNDO_ACTION_JOB, enqueue_action
from workers.settings import Settings
from workers.stacking.pauses import Pauses

Answer = dict[str, Any]
RESULT_KEY = "autostack:action-result:{step}"
WHY_LINES = 8


@dataclass(frozen=True)
class MenuContext:
    settings: Settings
    redis: redis.Redis
    queue: Queue


@dataclass(frozen=True)
class ActionSpec:
    """One menu item: its event key (the payload's ``type``), its name and description in
    Frame.io, the resource types it works on, and how it answers."""

    event: str
    name: str
    description: str
    resources: tuple[str, ...]
    answer: Callable[[MenuContext, ActionCall], Answer]


def message(title: str, description: str) -> Answer:
    return {"title": title, "description": description}


def who(call: ActionCall) -> str:
    return f"frameio-user:{call.user_id}"


# -- Why? --------------------------------------------------------------------------------------


def why(context: MenuContext, call: ActionCall) -> Answer:
    if call.resource_type == "version_stack":
        history = decisions.for_stack(context.redis, call.resource_id)
    else:
        history = decisions.for_file(context.redis, call.resource_id)
    if not history:
        what = "version stack" if call.resource_type == "version_stack" else "file"
        return message("Why?", f"autostack has recorded no decision about this {what} yet.")
    name = next((d.name for d in history if d.name), call.resource_id)
    lines = [_why_line(decision) for decision in history[:WHY_LINES]]
    return message(f"Why? {name}", "\n".join(lines))


def _why_line(decision: Decision) -> str:
    when = datetime.fromtimestamp(decision.at, UTC).strftime("%Y-%m-%d %H:%M UTC")
    rule = f" [rule {decision.rule}]" if decision.rule else ""
    name = f"{decision.name}: " if decision.name else ""
    did = f" (stack {decision.stack_id})" if decision.stack_id and decision.outcome in ("stacked", "added") else ""
    return f"{when} {name}{decision.outcome}{did}: {decision.reason}{rule}"


# -- Pause here / Resume here ------------------------------------------------------------------


def pause(context: MenuContext, call: ActionCall) -> Answer:
    pauses = Pauses(context.redis)
    if not pauses.pause(call.resource_id, who(call), time.time()):
        earlier = pauses.get(call.resource_id)
        by = f" by {earlier.by}" if earlier else ""
        return message("Already paused", f"autostack was already paused in this folder{by}.")
    return message(
        "Paused",
        "autostack leaves this folder and every folder below it alone (new uploads, the sweep and "
        "Stack versions here) until someone chooses Resume here on it.",
    )


def resume(context: MenuContext, call: ActionCall) -> Answer:
    if not Pauses(context.redis).resume(call.resource_id):
        return message(
            "Not paused here",
            "autostack was not paused in this folder itself (if a folder above it is paused, resume that one).",
        )
    return message("Resumed", "autostack acts in this folder again, from its next upload or sweep.")


# -- Stack versions here -----------------------------------------------------------------------

STACK_FORM = [
    {
        "type": "select",
        "label": "Where",
        "name": "where",
        "value": "folder",
        "options": [{"name": "This folder only", "value": "folder"}, {"name": "With subfolders", "value": "tree"}],
    },
    {
        "type": "select",
        "label": "What",
        "name": "mode",
        "value": "preview",
        "options": [{"name": "Preview the plan", "value": "preview"}, {"name": "Stack them now", "value": "apply"}],
    },
]


def stack_here(context: MenuContext, call: ActionCall) -> Answer:
    if call.data is None:
        description = "autostack stacks the versions it finds here by their names. Preview first, or stack now."
        return {"title": "Stack versions here", "description": description, "fields": STACK_FORM}
    paused = Pauses(context.redis).get(call.resource_id)
    if paused is not None:
        return message("Nothing to stack", f"autostack is paused in this folder by {paused.by}: Resume here first.")
    apply = call.value("mode") == "apply"
    args = (call.account_id, call.resource_id, call.value("where") == "tree", apply, who(call))
    result = _queue(context, call, STACK_ACTION_JOB, args)
    if apply:
        return message(
            "Stack versions here: queued",
            "autostack is stacking the versions here now. Why? on a file shows what it did.",
        )
    late = message(
        "Stack versions here: preview queued",
        "The preview is taking longer than Frame.io waits (autostack is busy). Run the action again in a minute.",
    )
    return _result_or(context, result, late)


# -- Undo autostack ------------------------------------------------------------------------------


def undo(context: MenuContext, call: ActionCall) -> Answer:
    what = "this version stack's files back into its folder" if call.resource_type == "version_stack" else None
    what = what or "this file out of the stack autostack put it in, and keeps it out"
    if call.data is None:
        field = {"type": "boolean", "label": "Yes, undo it", "name": "confirm", "value": False}
        return {"title": "Undo autostack?", "description": f"This takes {what}.", "fields": [field]}
    if call.value("confirm") != "true":
        return message("Undo autostack: cancelled", "Nothing was changed.")
    args = (call.account_id, call.resource_type, call.resource_id, who(call))
    result = _queue(context, call, UNDO_ACTION_JOB, args)
    late = message("Undo autostack: queued", "autostack is undoing it now. Why? shows what it did.")
    return _result_or(context, result, late)


# -- queued work -----------------------------------------------------------------------------------


def _queue(context: MenuContext, call: ActionCall, job: str, args: tuple[str | bool, ...]) -> str:
    """Queue the work (the interaction claimed this step: it is queued once); its result key."""
    step = f"{call.interaction_id}_{hashlib.sha256(repr(call.data).encode()).hexdigest()[:12]}"
    result_key = RESULT_KEY.format(step=step)
    enqueue_action(context.queue, job, (*args, result_key), context.settings, step)
    return result_key


def _result_or(context: MenuContext, result_key: str, late: Answer) -> Answer:
    """The queued work's own message if it comes within the wait, else ``late``."""
    found = poll(lambda: context.redis.get(result_key), context.settings.autostack_action_wait_s)
    if found is None:
        return late
    result: Answer = json.loads(found)
    return result


ACTIONS = (
    ActionSpec("autostack.why", "Why?", "What autostack decided about this, and why", ("file", "version_stack"), why),
    ActionSpec(
        "autostack.stack",
        "Stack versions here",
        "Stack the versions in this folder by their names (preview first)",
        ("folder",),
        stack_here,
    ),
    ActionSpec(
        "autostack.undo",
        "Undo autostack",
        "Take this file (or this stack's files) back out of autostack's stack",
        ("file", "version_stack"),
        undo,
    ),
    ActionSpec("autostack.pause", "Pause autostack here", "autostack leaves this folder alone", ("folder",), pause),
    ActionSpec("autostack.resume", "Resume autostack here", "autostack acts in this folder again", ("folder",), resume),
)
BY_EVENT = {spec.event: spec for spec in ACTIONS}
