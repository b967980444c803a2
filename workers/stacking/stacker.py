"""One file's way into its stack: read Frame.io, ask the planner, act, read back.

The I/O edge around the pure planner. Every write is guarded: the plan is made from a fresh read,
and after a write the stack is read back and its order fixed if Frame.io put the file elsewhere
(where a moved file lands, and in which order children are listed, are undocumented).

Frame.io's reads may lag its writes (undocumented): a write refused after a fresh read, a file a
webhook named that is not found yet, and a read-back that lacks a write Frame.io accepted are
:class:`~workers.frameio.errors.StaleRead`, retried later after a fresh read, unless the
:class:`~workers.frameio.platform.Platform` says reads never lag.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from workers.frameio.client import FrameioClient
from workers.frameio.errors import FrameioError, NotFound, PermanentError, StaleRead, Unprocessable
from workers.frameio.models import Asset, FileAsset, StackAsset
from workers.frameio.platform import Platform
from workers.naming.media import media_kind
from workers.naming.parser import Declined, Parsed, Rules, parse
from workers.naming.scopes import RuleBook
from workers.stacking import order
from workers.stacking.holds import unheld_files
from workers.stacking.locks import Guard, LockFactory, group_lock_name, no_lock
from workers.stacking.memory import Memory, NoMemory
from workers.stacking.planner import (
    AddToStack,
    CreateStack,
    FolderView,
    Nothing,
    Plan,
    Policy,
    StackView,
    Version,
    apply,
    plan,
)
from workers.stacking.scope import FolderRules, FolderScope, Refusal
from workers.stacking.writes import Write


@dataclass(frozen=True)
class Outcome:
    """What a step did (or would do, in a dry run) and why; and what it saw and wrote on the way,
    for a caller that keeps its own view of the folder (the drain) or hands work on (a job)."""

    status: str  # stacked | added | nothing | declined | waiting | failed
    reason: str
    code: str
    name: str = ""
    parsed: Parsed | None = None
    folder_id: str = ""
    stack_id: str = ""
    wait_s: float = 0
    created: int = 0  # stacks created
    moved: int = 0  # files moved into a stack
    writes: tuple[Write, ...] = ()  # the writes made, in order (none in a dry run)
    seen: frozenset[str] = frozenset()  # every file id a folder or stack listing showed
    listing: tuple[Asset, ...] | None = None  # the folder as this step read it afresh, if it did
    scope: str = ""  # the rules file's [[scope]] whose rules read the name ("global": none matched)


@dataclass(frozen=True)
class Scene:
    folder_id: str
    view: FolderView
    group: str = ""
    cached: bool = False
    children: tuple[Asset, ...] = ()
    seen: frozenset[str] = field(default_factory=frozenset)
    lags: bool = False  # the listing does not show the file, or a stack autostack moved a file into


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


@dataclass(frozen=True)
class Moves:
    """The files moved into one stack by a run, in order, and the stack's order before them
    (None: unknown, as for a stack the run created)."""

    before: tuple[str, ...] | None
    moved: tuple[str, ...] = ()

    def plus(self, file_id: str) -> Moves:
        return replace(self, moved=(*self.moved, file_id))


Coalescer = Callable[[str], bool]
MAX_STEPS = 40
#: How Frame.io may answer a folder call made with a version stack's id (undocumented: 404, 400 or 422).
NOT_A_FOLDER = (NotFound, Unprocessable)


def lagging(error: PermanentError, platform: Platform) -> FrameioError:
    """``error`` (a refused write, a file not found) as a :class:`StaleRead` to retry after a
    fresh read, unless ``platform`` knows that Frame.io's reads do not lag its writes."""
    if platform.read_lag_ms == 0:
        return error
    return StaleRead(error.endpoint, error.status, f"{error.detail or 'refused'} (reads may lag writes)")


def is_stack(client: FrameioClient, account_id: str, asset_id: str) -> bool:
    """After a folder call with ``asset_id`` was refused (:data:`NOT_A_FOLDER`): is it a stack?"""
    try:
        client.show_stack(account_id, asset_id)
    except NotFound:
        return False
    return True


def _book(rules: Rules | RuleBook) -> RuleBook:
    return rules if isinstance(rules, RuleBook) else RuleBook(rules)


def _versions(files: Iterable[FileAsset], rules: Rules) -> list[Version]:
    versions = []
    for file in files:
        parsed = parse(file.name, rules)
        if isinstance(parsed, Parsed) and file.uploaded:
            versions.append(to_version(file, parsed))
    return versions


def _may_hold(stack: StackAsset, target: Version, rules: Rules) -> bool:
    """A stack is worth listing when its name (the head's name) parses to the target's key."""
    parsed = parse(stack.name, rules)
    return isinstance(parsed, Parsed) and parsed.group_key == target.group_key


def _version_order(members: list[FileAsset], rules: Rules) -> tuple[str, ...]:
    """The members' ids in version order, bottom to top; empty unless every one parses."""
    versions = _versions(members, rules)
    if len(versions) != len(members):
        return ()
    return tuple(version.file_id for version in sorted(versions, key=lambda version: version.sort_key))


class Stacker:
    def __init__(
        self,
        client: FrameioClient,
        rules: Rules | RuleBook | FolderRules,
        policy: Policy,
        *,
        dry_run: bool = False,
        lock: LockFactory = no_lock,
        memory: Memory | NoMemory | None = None,
        job_id: str = "",
        scope: FolderScope | None = None,
        platform: Platform | None = None,
    ) -> None:
        self.client = client
        self.platform = platform or client.platform
        # The rules per folder: a rules file's [[scope]] decides the files of the folders it covers.
        self.naming = rules if isinstance(rules, FolderRules) else FolderRules(_book(rules))
        self.rules = self.naming.book.rules  # the global rules
        self.policy = policy
        self.dry_run = dry_run
        self.lock = lock
        self.memory = memory or NoMemory()
        self.job_id = job_id
        self.scope = scope
        self.not_before = 0.0
        self.orientation: order.Orientation | None = self.platform.children_order  # learned once if unknown
        self.landing: order.Landing | None = self.platform.move_lands  # likewise
        self.created: dict[str, tuple[str, ...]] = {}  # stacks this stacker created, bottom to top

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
        try:
            file = self.client.show_file(account_id, file_id)
        except NotFound as exc:  # deleted, or a webhook faster than Frame.io's reads
            raise lagging(exc, self.platform) from exc
        resolved = self.naming.resolve(account_id, file.parent_id)
        parsed = parse(file.name, resolved.rules)
        if isinstance(parsed, Declined):
            return Outcome("declined", parsed.reason, parsed.rule, file.name, scope=resolved.scope)
        outcome = self._gate(account_id, file, parsed, not_ready_wait_s, coalesce)
        if outcome is None:
            outcome = self._decide(account_id, file, parsed)
        return replace(outcome, name=file.name, parsed=parsed, scope=resolved.scope)

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
        resolved = self.naming.resolve(account_id, file.parent_id)
        parsed = parse(file.name, resolved.rules)
        if isinstance(parsed, Declined):
            return Outcome("declined", parsed.reason, parsed.rule, file.name, scope=resolved.scope)
        if (held := self.memory.holds.reason(file)) is not None:
            return Outcome("nothing", held, "held-back", file.name, scope=resolved.scope)
        outcome = self._decide(account_id, file, parsed, children)
        return replace(outcome, name=file.name, parsed=parsed, scope=resolved.scope)

    def _left_alone(self, account_id: str, file: FileAsset, parent_id: str) -> Outcome | None:
        """A file a person took out of a stack, or outside the configured folders."""
        if (held := self.memory.holds.reason(file)) is not None:
            return Outcome("nothing", held, "held-back")
        refusal = self._refusal(account_id, parent_id)
        if refusal is not None:
            return Outcome("nothing", refusal.reason, refusal.code)
        return None

    def _refusal(self, account_id: str, parent_id: str) -> Refusal | None:
        """Outside the configured folders, or paused; None for a parent that is a version stack
        (the file is already stacked: nothing to write)."""
        if self.scope is None:
            return None
        try:
            return self.scope.refusal(account_id, parent_id)
        except NOT_A_FOLDER:
            return None

    def _decide(self, account_id: str, file: FileAsset, parsed: Parsed, listed: list[Asset] | None = None) -> Outcome:
        assert file.parent_id is not None
        target = to_version(file, parsed)
        if self.memory.is_unsettled(file.parent_id):
            return self._resettle(account_id, file.parent_id, target)
        if self.memory.is_known_stack(file.parent_id):
            return Outcome("nothing", f"already in version stack {file.parent_id}", "already-stacked")
        if (ours := self.memory.journal.moved_lately([file.id]).get(file.id)) is not None:
            return self._moved_lately(account_id, ours, target)
        group = group_lock_name(account_id, file.parent_id, target.group_key)
        with self.lock(group) as guard:
            scene = self._scene(account_id, file.parent_id, target, group, cached=True, listed=listed)
            if scene is not None and scene.lags:
                scene = self._showing(account_id, file.parent_id, target, group)
            if scene is None:
                reason = f"already in version stack {file.parent_id}"
                return Outcome("nothing", reason, "already-stacked", stack_id=file.parent_id)
            try:
                outcome = self._converge(account_id, target, file.parent_id, scene, guard)
            except Unprocessable as exc:
                if not scene.cached:
                    raise lagging(exc, self.platform) from exc
                # The shared listing was stale (a person moved something meanwhile): read afresh.
                scene = self._showing(account_id, file.parent_id, target, group)
                if scene is None:
                    return Outcome("nothing", f"already in version stack {file.parent_id}", "already-stacked")
                try:
                    outcome = self._converge(account_id, target, file.parent_id, scene, guard)
                except Unprocessable as again:  # the fresh read did not show the world Frame.io acts on
                    raise lagging(again, self.platform) from again
        fresh = None if scene.cached else scene.children
        return replace(outcome, folder_id=scene.folder_id, seen=scene.seen, listing=fresh)

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
        except NOT_A_FOLDER:
            if is_stack(self.client, account_id, parent_id):
                return None
            raise
        rules = self.naming.resolve(account_id, parent_id).rules
        versions = _versions(unheld_files(self.memory.holds, children), rules)
        # Files of the group autostack moved lately: a listing that lags the move shows them loose.
        moved = self.memory.journal.moved_lately([v.file_id for v in versions if v.group_key == target.group_key])
        loose = tuple(version for version in versions if version.file_id not in moved)
        stacks = tuple(
            self._stack_view(account_id, stack, rules)
            for stack in children
            if isinstance(stack, StackAsset) and _may_hold(stack, target, rules)
        )
        shown = frozenset(asset.id for asset in children)
        seen = shown | {member for stack in stacks for member in stack.order}
        lags = target.file_id not in seen or any(stack_id not in shown for stack_id in moved.values())
        view = FolderView(parent_id, loose, stacks)
        return Scene(parent_id, view, group, from_cache, tuple(children), seen, lags)

    def _showing(self, account_id: str, parent_id: str, target: Version, group: str) -> Scene | None:
        """A listing older than the file, or than autostack's last move in the group, is read
        afresh; a fresh read that still does not show them lags Frame.io's writes (a plan from it
        could repeat writes it does not show yet)."""
        scene = self._scene(account_id, parent_id, target, group, cached=False)
        if scene is not None and scene.lags:
            why = f"the listing of {parent_id} does not show the file or autostack's last moves yet"
            raise StaleRead("list_folder_children", None, why)
        return scene

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

    def _stack_view(self, account_id: str, stack: StackAsset, rules: Rules) -> StackView:
        listed = self._stack_children(account_id, stack.id)
        members = self._bottom_to_top(listed, stack.id, stack.head_version_id)
        return StackView(stack.id, tuple(file.id for file in members), tuple(_versions(members, rules)))

    def _stack_children(self, account_id: str, stack_id: str) -> list[FileAsset]:
        """A stack's children. A listing or a write showed the stack, so its 404 is a read that
        lags the stack's creation, unless the platform is known not to lag."""
        try:
            return self.client.list_stack_children(account_id, stack_id)
        except NotFound as exc:
            raise lagging(exc, self.platform) from exc

    def _bottom_to_top(self, listed: list[FileAsset], stack_id: str, head_id: str | None) -> list[FileAsset]:
        """The stack's children bottom first; learns the listing's orientation when it can: from
        the head, else (no head named, none known) from the files autostack created it with."""
        learned = order.learn(listed, head_id)
        if learned is None and self._known_orientation() is None:
            learned = order.learn_from_order(listed, self.created.get(stack_id) or self.memory.created_order(stack_id))
        if learned is not None and learned != self.orientation:
            self.orientation = learned
            self.memory.learned_children_order(learned)
        return order.bottom_to_top(listed, self._known_orientation())

    def _known_orientation(self) -> order.Orientation | None:
        """Which end of a children listing is the head, if the platform, this stacker or any
        worker knows (None: assumed top first)."""
        if self.orientation is None:
            self.orientation = self.memory.children_order()
        return self.orientation

    # -- acting ------------------------------------------------------------------------------

    def _converge(self, account_id: str, target: Version, parent_id: str, scene: Scene, guard: Guard) -> Outcome:
        """Plan, write, update the view, plan again, until the planner says Nothing; then read
        each touched stack back once and fix its order."""
        view = scene.view
        steps: list[CreateStack | AddToStack] = []
        writes: list[Write] = []
        touched: dict[str, str | None] = {}  # stack id -> head id when known
        moves: dict[str, Moves] = {}  # stacks files were moved into (where they land is undocumented)
        last: Plan = Nothing("no step", "nothing")
        for _ in range(MAX_STEPS):
            last = plan(target, parent_id, view, self.policy)
            if isinstance(last, Nothing):
                break
            guard()
            stack_id, head_id = self._write(account_id, last)
            if isinstance(last, CreateStack) and not self.dry_run:
                self.created[stack_id] = last.file_ids
            if not self.dry_run:
                writes.append(self._remember(account_id, last, stack_id, view.folder_id, scene.group))
            if isinstance(last, AddToStack):
                known = moves.get(stack_id) or Moves(None if stack_id in touched else _order_of(view, stack_id))
                moves[stack_id] = known.plus(last.file_id)
            view = apply(view, last, stack_id)
            touched.setdefault(stack_id, head_id)
            parent_id = stack_id if target.file_id in _moved(last) else parent_id
            steps.append(last)
        for stack_id, head_id in touched.items():
            desired = _order_of(view, stack_id)
            # A create takes its files bottom to top (documented), and its answer names the head:
            # a stack only created, whose head is the planned top, needs no read-back.
            if not self.dry_run and (stack_id in moves or head_id != desired[-1]):
                guard()
                self._settle(account_id, stack_id, desired, head_id, view.folder_id, moves.get(stack_id))
        return replace(_summary(steps, last, parent_id, self.dry_run), writes=tuple(writes))

    def _remember(
        self, account_id: str, step: CreateStack | AddToStack, stack_id: str, folder_id: str, group: str
    ) -> Write:
        write = Write(_action(step), stack_id, folder_id, _moved(step), self.memory.now(), self.job_id)
        self.memory.remember_write(write, group, account_id)
        return write

    def _moved_lately(self, account_id: str, stack_id: str, target: Version) -> Outcome:
        """Autostack moved the file into ``stack_id`` minutes ago, though a read may lag that: the
        stack is ordered if it is not settled yet, and the file is not moved again."""
        if self.memory.is_unsettled(stack_id):
            return self._resettle(account_id, stack_id, target)
        return Outcome("nothing", f"already in version stack {stack_id}", "already-stacked", stack_id=stack_id)

    def _resettle(self, account_id: str, stack_id: str, target: Version) -> Outcome:
        """A job that moved a file into ``stack_id`` died before ordering it: order it now."""
        stack = self.client.show_stack(account_id, stack_id)
        folder_id = stack.parent_id or ""
        with self.lock(group_lock_name(account_id, folder_id, target.group_key)) as guard:
            listed = self._stack_children(account_id, stack_id)
            members = self._bottom_to_top(listed, stack_id, stack.head_version_id)
            if missing := self._moved_in_unseen(stack_id, {file.id for file in members}):
                # A read that lags autostack's move: ordering what it shows would settle too early.
                raise StaleRead("list_stack_children", None, f"{len(missing)} file(s) not yet in the stack")
            desired = _version_order(members, self.naming.resolve(account_id, stack.parent_id).rules)
            if desired:
                guard()
                self._settle(account_id, stack_id, desired, stack.head_version_id, folder_id)
        return Outcome(
            "nothing", f"already in version stack {stack_id}; its order checked", "settled", stack_id=stack_id
        )

    def _moved_in_unseen(self, stack_id: str, shown: set[str]) -> set[str]:
        """Files autostack moved into ``stack_id`` lately, not settled yet, that ``shown`` lacks (a
        file marked unsettled whose move failed is not among them: only a done move is journaled)."""
        moved = self.memory.journal.moved_lately(sorted(self.memory.unsettled_files(stack_id)))
        return {file_id for file_id, into in moved.items() if into == stack_id} - shown

    def _write(self, account_id: str, step: CreateStack | AddToStack) -> tuple[str, str | None]:
        """One write; returns the stack it touched (and its head, when Frame.io said)."""
        if isinstance(step, CreateStack):
            if self.dry_run:
                return f"dry-run-stack-{step.file_ids[0]}", None
            stack = self.client.create_stack(account_id, step.folder_id, list(step.file_ids))
            return stack.id, stack.head_version_id
        if not self.dry_run:
            self.memory.mark_unsettled(step.stack_id, step.file_id)
            self.client.move_file(account_id, step.file_id, step.stack_id)
        return step.stack_id, None

    def _settle(
        self,
        account_id: str,
        stack_id: str,
        desired: tuple[str, ...],
        head_id: str | None,
        folder_id: str,
        moves: Moves | None = None,
    ) -> None:
        """Read the stack back and reorder until it matches ``desired`` (bottom to top). Where
        Frame.io lands a moved file is known and the stack's order before the moves too, the
        reorders are made at once, without the read-back before them: the read after them checks."""
        predicted = self._predicted(moves)
        if predicted is not None and (calls := order.reorders(predicted, list(desired))):
            for file_id, body in calls:
                self.client.reorder(account_id, stack_id, file_id, body)
            try:
                self._verify(account_id, stack_id, desired, head_id)
            except StaleRead:
                # A wrong guess, or a read that lags: the next move is read back first, and learns.
                self.landing = None
                self.memory.forget_move_lands()
                raise
            self.memory.settled(stack_id, desired)
            return
        listed = self._bottom_to_top(self._stack_children(account_id, stack_id), stack_id, head_id)
        actual = [file.id for file in listed]
        self._learn_landing(moves, actual)
        missing = set(desired) - set(actual)
        if missing:
            # Frame.io accepted the write but the read-back lacks a file: try the job again later
            # (the stack stays marked unsettled, so the next run reads it back and orders it).
            raise StaleRead("list_stack_children", None, f"{len(missing)} file(s) not yet in the stack")
        if len(actual) > len(desired):
            # The plan's read of the stack lagged another job's move into it: order every member.
            extra = len(actual) - len(desired)
            desired = _version_order(listed, self.naming.resolve(account_id, folder_id or None).rules)
            if not desired:
                raise StaleRead("list_stack_children", None, f"{extra} file(s) in the stack the plan did not know")
        calls = order.reorders(actual, list(desired))
        for file_id, body in calls:
            self.client.reorder(account_id, stack_id, file_id, body)
        if calls:
            self._verify(account_id, stack_id, desired, head_id)
        self.memory.settled(stack_id, actual)

    def _predicted(self, moves: Moves | None) -> list[str] | None:
        """The stack's order after the moves, when where a moved file lands is known (None: read it)."""
        if moves is None or moves.before is None:
            return None
        if self.landing is None:
            self.landing = self.memory.move_lands()
        return None if self.landing is None else order.after_moves(moves.before, moves.moved, self.landing)

    def _learn_landing(self, moves: Moves | None, actual: list[str]) -> None:
        """A read-back after one move into a stack whose order was known shows where it landed."""
        if moves is None or moves.before is None or len(moves.moved) != 1:
            return
        learned = order.learn_landing(moves.before, moves.moved[0], actual)
        if learned is not None and learned != self.landing:
            self.landing = learned
            self.memory.learned_move_lands(learned)

    def _verify(self, account_id: str, stack_id: str, desired: tuple[str, ...], head_id: str | None) -> None:
        """After reordering, read the stack once more: it is settled only once an order read back
        is the desired one. Reads may lag writes, and reorders planned from a lagging read-back
        (or from where moved files were expected to land) can miss: then the stack stays
        unsettled and the job comes back to order it again."""
        listed = self._bottom_to_top(self._stack_children(account_id, stack_id), stack_id, head_id)
        if [file.id for file in listed] != list(desired):
            raise StaleRead("list_stack_children", None, "the new order of the stack is not visible yet")


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


def _summary(steps: list[CreateStack | AddToStack], last: Plan, parent_id: str, dry_run: bool) -> Outcome:
    """The outcome of a run of steps, from the steps' types (a dry run writes nothing: it counts
    no stack created and no file moved)."""
    if not steps:
        assert isinstance(last, Nothing)
        return Outcome("nothing", last.reason, last.code)
    creates = sum(isinstance(step, CreateStack) for step in steps)
    reason = "; ".join(_describe(step, dry_run) for step in steps)
    status = "stacked" if creates else "added"
    if dry_run:
        return Outcome(status, reason, "dry-run", stack_id=parent_id)
    code = "created" if creates else "added"
    return Outcome(status, reason, code, stack_id=parent_id, created=creates, moved=len(steps) - creates)
