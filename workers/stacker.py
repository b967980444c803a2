"""One file's way into its stack: read Frame.io, ask the planner, act, read back.

The I/O edge around the pure planner. Every write is guarded: the plan is made from a fresh read,
and after a write the stack is read back and its order fixed if Frame.io put the file elsewhere
(where a moved file lands, and in which order children are listed, are undocumented).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from workers.errors import NotFound, ServerError, Unprocessable
from workers.frameio import FrameioClient
from workers.locks import Guard, LockFactory, group_lock_name, no_lock
from workers.media import media_kind
from workers.memory import Memory, NoMemory, Write
from workers.models import Asset, FileAsset, StackAsset
from workers.naming import Declined, Parsed, Rules, parse
from workers.planner import (
    AddToStack,
    CreateStack,
    FolderView,
    Nothing,
    Plan,
    Policy,
    StackView,
    Version,
    Wait,
    apply,
    plan,
)
from workers.scope import FolderScope
from workers.undo import held_back_reason, journal_write, unheld_files

Orientation = Literal["top_first", "bottom_first"]


@dataclass(frozen=True)
class Outcome:
    """What the job did (or would do, in a dry run) and why."""

    outcome: str  # stacked | added | nothing | declined | waiting
    reason: str
    code: str
    name: str = ""
    parsed: Parsed | None = None
    folder_id: str = ""
    stack_id: str = ""
    wait_s: float = 0
    created: int = 0  # stacks created
    moved: int = 0  # files moved into a stack


@dataclass(frozen=True)
class Scene:
    folder_id: str
    view: FolderView
    group: str = ""
    cached: bool = False


def to_version(file: FileAsset, parsed: Parsed) -> Version:
    return Version(
        file_id=file.id,
        name=file.name,
        group_key=parsed.group_key,
        version=parsed.version,
        created_at=file.created_at,
        sub_version=parsed.sub_version or "",
        kind=media_kind(file.name, file.media_type),
    )


Coalescer = Callable[[str], bool]
MAX_STEPS = 40


class Stacker:
    def __init__(
        self,
        client: FrameioClient,
        rules: Rules,
        policy: Policy,
        *,
        dry_run: bool = False,
        lock: LockFactory = no_lock,
        memory: Memory | NoMemory | None = None,
        job_id: str = "",
        scope: FolderScope | None = None,
        seen: set[str] | None = None,
    ) -> None:
        self.client = client
        self.rules = rules
        self.policy = policy
        self.dry_run = dry_run
        self.lock = lock
        self.memory = memory or NoMemory()
        self.job_id = job_id
        self.scope = scope
        self.not_before = 0.0
        self.orientation: Orientation | None = None
        self.seen = set() if seen is None else seen  # every file id a folder or stack listing showed

    def run(
        self,
        account_id: str,
        file_id: str,
        *,
        not_ready_wait_s: float = 10,
        coalesce: tuple[Coalescer, float] | None = None,
        not_before: float = 0.0,
    ) -> Outcome:
        """Decide for one file and act. ``coalesce`` is (lead_or_follow, window): on a first run the
        group's first job waits the window out and the others leave their files to it.
        ``not_before``: a shared folder listing older than this (Redis time) is not used."""
        self.not_before = not_before
        file = self.client.show_file(account_id, file_id)
        parsed = parse(file.name, self.rules)
        if isinstance(parsed, Declined):
            return Outcome("declined", parsed.reason, parsed.rule, file.name)
        outcome = self._gate(account_id, file, parsed, not_ready_wait_s, coalesce)
        if outcome is None:
            outcome = self._decide(account_id, file, parsed)
        return replace(outcome, name=file.name, parsed=parsed)

    def _gate(
        self,
        account_id: str,
        file: FileAsset,
        parsed: Parsed,
        not_ready_wait_s: float,
        coalesce: tuple[Coalescer, float] | None,
    ) -> Outcome | None:
        """Reasons to stop before reading the folder: not uploaded yet, no folder, coalesced."""
        if not file.uploaded:
            return Outcome("waiting", "the upload has not finished", "not-uploaded", wait_s=not_ready_wait_s)
        if file.parent_id is None:
            return Outcome("nothing", "the file has no parent folder", "no-parent")
        left_alone = self._left_alone(account_id, file, file.parent_id)
        if left_alone is not None:
            return left_alone
        if coalesce is None or self.memory.is_known_stack(file.parent_id):
            return None  # a file in a stack autostack made is answered at once, without a window
        lead, window = coalesce
        # Both name the folder, so the sweep looks at it even if the leader fails for good.
        folder = file.parent_id
        if not lead(group_lock_name(account_id, folder, parsed.group_key)):
            reason = "coalesced: the group's first job of this window stacks it"
            return Outcome("nothing", reason, "coalesced", folder_id=folder)
        reason = f"gathering the group's versions for {window:g} s"
        return Outcome("waiting", reason, "coalescing", wait_s=window, folder_id=folder)

    def stack_listed(self, account_id: str, file: FileAsset, children: list[Asset]) -> Outcome:
        """Stack ``file``'s group from a listing of its folder the caller already holds (backfill);
        the listing is treated like a shared one: if Frame.io refuses a write, read afresh."""
        parsed = parse(file.name, self.rules)
        if isinstance(parsed, Declined):
            return Outcome("declined", parsed.reason, parsed.rule, file.name)
        if (held := held_back_reason(self.memory, file)) is not None:
            return Outcome("nothing", held, "held-back", file.name)
        return replace(self._decide(account_id, file, parsed, children), name=file.name, parsed=parsed)

    def _left_alone(self, account_id: str, file: FileAsset, parent_id: str) -> Outcome | None:
        """A file a person took out of a stack, or outside the configured folders."""
        if (held := held_back_reason(self.memory, file)) is not None:
            return Outcome("nothing", held, "held-back")
        if not self._in_scope(account_id, parent_id):
            return Outcome("nothing", "the folder is outside autostack's scope (AUTOSTACK_FOLDERS)", "out-of-scope")
        return None

    def _in_scope(self, account_id: str, parent_id: str) -> bool:
        if self.scope is None or not self.scope.entries:
            return True
        try:
            return self.scope.allows(account_id, parent_id)
        except NotFound:
            return True  # the parent is a version stack: the file is already stacked, nothing to write

    def _decide(self, account_id: str, file: FileAsset, parsed: Parsed, listed: list[Asset] | None = None) -> Outcome:
        assert file.parent_id is not None
        target = to_version(file, parsed)
        if self.memory.is_unsettled(file.parent_id):
            return self._resettle(account_id, file.parent_id, target)
        if self.memory.is_known_stack(file.parent_id):
            return Outcome("nothing", f"already in version stack {file.parent_id}", "already-stacked")
        group = group_lock_name(account_id, file.parent_id, target.group_key)
        with self.lock(group) as guard:
            scene = self._scene(account_id, file.parent_id, target, group, cached=True, listed=listed)
            if scene is None:
                reason = f"already in version stack {file.parent_id}"
                return Outcome("nothing", reason, "already-stacked", stack_id=file.parent_id)
            try:
                outcome = self._converge(account_id, target, file.parent_id, scene, guard)
            except Unprocessable:
                if not scene.cached:
                    raise
                # The shared listing was stale (a person moved something meanwhile): read afresh.
                scene = self._scene(account_id, file.parent_id, target, group, cached=False)
                if scene is None:
                    return Outcome("nothing", f"already in version stack {file.parent_id}", "already-stacked")
                outcome = self._converge(account_id, target, file.parent_id, scene, guard)
        return replace(outcome, folder_id=scene.folder_id)

    # -- reading -----------------------------------------------------------------------------

    def _scene(
        self,
        account_id: str,
        parent_id: str,
        target: Version,
        group: str,
        cached: bool,
        listed: list[Asset] | None = None,
    ) -> Scene | None:
        """The folder around ``target``; None when its parent is a version stack (already stacked)."""
        try:
            children, from_cache = self._listing(account_id, parent_id, group, cached, listed)
        except NotFound:
            self.client.show_stack(account_id, parent_id)  # NotFound here: the parent is gone
            return None
        loose = tuple(self._versions(unheld_files(self.memory, children)))
        stacks = tuple(
            self._stack_view(account_id, stack)
            for stack in children
            if isinstance(stack, StackAsset) and self._may_hold(stack, target)
        )
        self.seen.update(asset.id for asset in children)
        self.seen.update(member for stack in stacks for member in stack.order)
        return Scene(parent_id, FolderView(parent_id, loose, stacks), group, from_cache)

    def _listing(
        self, account_id: str, parent_id: str, group: str, cached: bool, listed: list[Asset] | None
    ) -> tuple[list[Asset], bool]:
        """The folder's children and whether they came from a listing made earlier."""
        if listed is not None:
            return listed, True

        def fetch() -> list[Asset]:
            return self.client.list_folder_children(account_id, parent_id)

        if not cached:
            fetched_at = self.memory.now()
            children = fetch()
            self.memory.store_listing(parent_id, children, fetched_at)
            return children, False
        return self.memory.shared_listing(parent_id, group, self.not_before, fetch)

    def _versions(self, files: Iterable[FileAsset]) -> list[Version]:
        versions = []
        for file in files:
            parsed = parse(file.name, self.rules)
            if isinstance(parsed, Parsed) and file.uploaded:
                versions.append(to_version(file, parsed))
        return versions

    def _may_hold(self, stack: StackAsset, target: Version) -> bool:
        """A stack is worth listing when its name (the head's name) parses to the target's key."""
        parsed = parse(stack.name, self.rules)
        return isinstance(parsed, Parsed) and parsed.group_key == target.group_key

    def _stack_view(self, account_id: str, stack: StackAsset) -> StackView:
        listed = self.client.list_stack_children(account_id, stack.id)
        self._learn(listed, stack.head_version_id)
        order = self._bottom_to_top(listed)
        return StackView(stack.id, tuple(file.id for file in order), tuple(self._versions(order)))

    def _learn(self, listed: Sequence[FileAsset], head_id: str | None) -> None:
        """Which end of a children listing is the head: a platform fact, learned from any stack
        of two or more whose head is known."""
        if head_id is None or len(listed) < 2:
            return
        if listed[0].id == head_id:
            self.orientation = "top_first"
        elif listed[-1].id == head_id:
            self.orientation = "bottom_first"

    def _bottom_to_top(self, listed: Sequence[FileAsset]) -> list[FileAsset]:
        # Until learned, assume top first (the documented reorder example lists the head first).
        return list(listed) if self.orientation == "bottom_first" else list(reversed(listed))

    # -- acting ------------------------------------------------------------------------------

    def _converge(self, account_id: str, target: Version, parent_id: str, scene: Scene, guard: Guard) -> Outcome:
        """Plan, write, update the view, plan again, until the planner says Nothing; then read
        each touched stack back once and fix its order."""
        view = scene.view
        done: list[str] = []
        touched: dict[str, str | None] = {}  # stack id -> head id when known
        moved_into: set[str] = set()  # stacks a file was moved into (where it lands is undocumented)
        last: Plan = Nothing("no step", "nothing")
        for _ in range(MAX_STEPS):
            last = plan(target, parent_id, view, self.policy)
            if isinstance(last, Nothing | Wait):
                break
            guard()
            stack_id, head_id = self._write(account_id, last)
            if not self.dry_run:
                write = Write(_action(last), stack_id, view.folder_id, _moved(last), self.memory.now(), self.job_id)
                self.memory.remember_write(write, scene.group)
                journal_write(self.memory, write, account_id)
            view = apply(view, last, stack_id)
            touched.setdefault(stack_id, head_id)
            if isinstance(last, AddToStack):
                moved_into.add(stack_id)
            parent_id = stack_id if target.file_id in _moved(last) else parent_id
            done.append(_describe(last, self.dry_run))
        for stack_id, head_id in touched.items():
            order = _order_of(view, stack_id)
            # A create takes its files bottom to top (documented), and its answer names the head:
            # a stack only created, whose head is the planned top, needs no read-back.
            if not self.dry_run and (stack_id in moved_into or head_id != order[-1]):
                guard()
                self._settle(account_id, stack_id, order, head_id)
        created = sum(step.startswith("create") for step in done)
        return replace(_summary(done, last, parent_id), created=created, moved=len(done) - created)

    def _resettle(self, account_id: str, stack_id: str, target: Version) -> Outcome:
        """A job that moved a file into ``stack_id`` died before ordering it: order it now."""
        stack = self.client.show_stack(account_id, stack_id)
        folder_id = stack.parent_id or ""
        with self.lock(group_lock_name(account_id, folder_id, target.group_key)) as guard:
            listed = self.client.list_stack_children(account_id, stack_id)
            self._learn(listed, stack.head_version_id)
            members = self._versions(self._bottom_to_top(listed))
            if len(members) == len(listed):  # every member parsed: version order is the whole order
                desired = tuple(member.file_id for member in sorted(members, key=lambda member: member.sort_key))
                guard()
                self._settle(account_id, stack_id, desired, stack.head_version_id)
        return Outcome(
            "nothing", f"already in version stack {stack_id}; its order checked", "settled", stack_id=stack_id
        )

    def _write(self, account_id: str, step: CreateStack | AddToStack) -> tuple[str, str | None]:
        """One write; returns the stack it touched (and its head, when Frame.io said)."""
        if isinstance(step, CreateStack):
            if self.dry_run:
                return f"dry-run-stack-{step.file_ids[0]}", None
            stack = self.client.create_stack(account_id, step.folder_id, list(step.file_ids))
            return stack.id, stack.head_version_id
        if not self.dry_run:
            self.memory.mark_unsettled(step.stack_id)
            self.client.move_file(account_id, step.file_id, step.stack_id)
        return step.stack_id, None

    def _settle(self, account_id: str, stack_id: str, desired: tuple[str, ...], head_id: str | None) -> None:
        """Read the stack back and reorder until it matches ``desired`` (bottom to top)."""
        listed = self.client.list_stack_children(account_id, stack_id)
        self._learn(listed, head_id)
        actual = [file.id for file in self._bottom_to_top(listed)]
        missing = set(desired) - set(actual)
        if missing:
            # Frame.io accepted the write but the read-back lacks a file: try the job again later.
            raise ServerError("list_stack_children", None, f"{len(missing)} file(s) not yet in the stack")
        for file_id, body in reorders(actual, list(desired)):
            self.client.reorder(account_id, stack_id, file_id, body)
        self.memory.settled(stack_id)


def _action(step: CreateStack | AddToStack) -> str:
    return "created" if isinstance(step, CreateStack) else "added"


def _moved(step: CreateStack | AddToStack) -> tuple[str, ...]:
    return step.file_ids if isinstance(step, CreateStack) else (step.file_id,)


def _order_of(view: FolderView, stack_id: str) -> tuple[str, ...]:
    return next(stack.order for stack in view.stacks if stack.stack_id == stack_id)


def _describe(step: CreateStack | AddToStack, dry_run: bool) -> str:
    prefix = "dry run: would " if dry_run else ""
    if isinstance(step, CreateStack):
        return f"{prefix}create a version stack of {len(step.file_ids)} versions"
    return f"{prefix}add {step.file_id} at position {step.position + 1} of {len(step.order)}"


def _summary(done: list[str], last: Plan, parent_id: str) -> Outcome:
    if isinstance(last, Wait):
        return Outcome("waiting", last.reason, "wait", wait_s=last.seconds)
    if not done:
        assert isinstance(last, Nothing)
        return Outcome("nothing", last.reason, last.code)
    created = any("create" in step for step in done)
    code = "dry-run" if done[0].startswith("dry run") else ("created" if created else "added")
    return Outcome("stacked" if created else "added", "; ".join(done), code, stack_id=parent_id)


def reorders(actual: list[str], desired: list[str]) -> list[tuple[str, dict[str, str]]]:
    """The fewest reorder calls that turn ``actual`` into ``desired`` (both bottom to top).

    The files on a longest run already in the right relative order stay put; every other file is
    placed directly above its desired lower neighbour, bottom up (reorder costs 10 calls a minute).
    """
    rank = {file_id: index for index, file_id in enumerate(desired)}
    staying = _longest_increasing([file_id for file_id in actual if file_id in rank], rank)
    calls: list[tuple[str, dict[str, str]]] = []
    for index, file_id in enumerate(desired):
        if file_id in staying:
            continue
        calls.append((file_id, {"move_to": "bottom"} if index == 0 else {"move_above_file_id": desired[index - 1]}))
    return calls


def _longest_increasing(order: list[str], rank: dict[str, int]) -> set[str]:
    """The files of a longest subsequence of ``order`` whose ranks increase (patience sorting)."""
    tails: list[int] = []  # tails[k]: index in order of the smallest tail of a run of length k + 1
    parent: list[int] = [-1] * len(order)
    for index, file_id in enumerate(order):
        low, high = 0, len(tails)
        while low < high:
            middle = (low + high) // 2
            if rank[order[tails[middle]]] < rank[file_id]:
                low = middle + 1
            else:
                high = middle
        parent[index] = tails[low - 1] if low else -1
        tails[low : low + 1] = [index]
    kept: set[str] = set()
    cursor = tails[-1] if tails else -1
    while cursor >= 0:
        kept.add(order[cursor])
        cursor = parent[cursor]
    return kept
