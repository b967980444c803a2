"""Backfill: stack the versions that were uploaded before autostack was listening.

Walks a folder tree (one listing per folder), plans every group with the same planner the jobs
use, and applies the plan group by group through the same stacker, under the shared rate limiter.
Progress is kept in Redis per root folder, so an interrupted backfill resumes where it stopped.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass

import redis

from workers.frameio.client import FrameioClient
from workers.frameio.models import Asset, FileAsset, FolderAsset
from workers.naming.media import media_kind
from workers.naming.parser import Rules
from workers.stacking.census import Census, Loose, take_census
from workers.stacking.planner import CreateStack, FolderView, Nothing, Policy, StackView, Version, apply, plan
from workers.stacking.stacker import Outcome, Stacker, to_version

DONE_KEY = "autostack:backfill:{root}:done"
DONE_TTL_S = 30 * 24 * 3600


@dataclass(frozen=True)
class Folder:
    id: str
    path: str
    children: list[Asset]


@dataclass(frozen=True)
class GroupPlan:
    """What backfill will do for one group: ``action`` is create, add or skip."""

    folder: Folder
    group_key: str
    action: str
    detail: str
    target: FileAsset
    files: int

    @property
    def id(self) -> str:
        return f"{self.folder.id}|{self.group_key}|{self.target.media_type or ''}"


def walk(
    client: FrameioClient, account_id: str, root_id: str, recursive: bool, paused: Collection[str] = ()
) -> Iterator[Folder]:
    """Every folder of the tree with its children (files, stacks and folders), depth first; a
    folder in ``paused`` is left out with everything below it."""
    pending = [(root_id, "")]
    while pending:
        folder_id, path = pending.pop()
        if folder_id in paused:
            continue
        children = client.list_folder_children(account_id, folder_id, types="file,version_stack,folder")
        yield Folder(folder_id, path or "/", [child for child in children if not isinstance(child, FolderAsset)])
        if recursive:
            subfolders = [child for child in children if isinstance(child, FolderAsset)]
            pending += [(sub.id, f"{path}/{sub.name}") for sub in reversed(subfolders)]


def plan_folder(folder: Folder, rules: Rules, policy: Policy) -> list[GroupPlan]:
    """Pure: the plan for every group of one folder that is not yet one stack."""
    census = take_census(folder.children, rules, policy.separate_media_kinds)
    stacks = _stack_views(census)
    plans = (_plan_group(folder, members, stacks, policy) for _, members in sorted(census.loose.items()))
    return [group_plan for group_plan in plans if group_plan is not None]


def _stack_views(census: Census) -> tuple[StackView, ...]:
    """Stacks as far as the listing shows them: each known by its name (the head's name)."""
    views = []
    for named in census.stacks.values():
        for stack, parsed in named:
            kind = media_kind(stack.name, None)
            head = Version(stack.head_version_id or stack.id, stack.name, parsed.group_key, parsed.version, kind=kind)
            views.append(StackView(stack.id, (head.file_id,), (head,)))
    return tuple(views)


#: The planner's codes for a group with nothing to do (everything else it declines is a skip).
SETTLED = frozenset({"first-version", "already-stacked"})


def _plan_group(
    folder: Folder, members: tuple[Loose, ...], stacks: tuple[StackView, ...], policy: Policy
) -> GroupPlan | None:
    versions = [to_version(member.file, member.parsed) for member in members]
    target = min(versions, key=lambda version: version.sort_key)
    view = FolderView(folder.id, tuple(versions), stacks)
    parent, creates, adds = folder.id, 0, 0
    step = plan(target, parent, view, policy)
    while not isinstance(step, Nothing):
        if isinstance(step, CreateStack):
            creates, stack_id, moved = creates + 1, f"planned-{creates + 1}", step.file_ids
        else:
            adds, stack_id, moved = adds + 1, step.stack_id, (step.file_id,)
        view = apply(view, step, stack_id)
        parent = stack_id if target.file_id in moved else parent
        step = plan(target, parent, view, policy)
    file = next(member.file for member in members if member.file.id == target.file_id)
    if creates == 0 and adds == 0:
        return None if step.code in SETTLED else _skip(folder, target, file, step, members)
    return _planned(folder, target, file, creates, adds, len(members))


def _skip(folder: Folder, target: Version, file: FileAsset, step: Nothing, members: tuple[Loose, ...]) -> GroupPlan:
    return GroupPlan(folder, target.group_key, "skip", step.reason, file, len(members))


def _planned(folder: Folder, target: Version, file: FileAsset, creates: int, adds: int, files: int) -> GroupPlan:
    if creates:
        detail = f"create a stack of {files} versions" + (f" ({adds} added after the first 10)" if adds else "")
        return GroupPlan(folder, target.group_key, "create", detail, file, files)
    return GroupPlan(folder, target.group_key, "add", f"add {adds} version(s) to the existing stack", file, files)


class DoneGroups:
    """Which groups of a backfill are done, in Redis, so a second run resumes."""

    def __init__(self, client: redis.Redis, root_id: str) -> None:
        self.client = client
        self.key = DONE_KEY.format(root=root_id)

    def done(self) -> set[str]:
        return {member.decode() for member in self.client.smembers(self.key)}  # type: ignore[union-attr]

    def mark(self, group_id: str) -> None:
        pipe = self.client.pipeline(transaction=False)
        pipe.sadd(self.key, group_id)
        pipe.expire(self.key, DONE_TTL_S)
        pipe.execute()

    def clear(self) -> None:
        self.client.delete(self.key)


def apply_plans(
    stacker: Stacker,
    account_id: str,
    plans: list[GroupPlan],
    progress: DoneGroups,
    report: Callable[[int, int, GroupPlan, Outcome | None], None],
) -> list[Outcome]:
    """Apply every planned group not yet done, in order; ``report`` is told after each one."""
    done = progress.done()
    outcomes = []
    for index, group_plan in enumerate(plans, start=1):
        if group_plan.action == "skip" or group_plan.id in done:
            report(index, len(plans), group_plan, None)
            continue
        outcome = stacker.stack_listed(account_id, group_plan.target, group_plan.folder.children)
        progress.mark(group_plan.id)
        outcomes.append(outcome)
        report(index, len(plans), group_plan, outcome)
    return outcomes
