"""Undo, unstack and repair: take files back out of version stacks to the stack's folder.

Frame.io V4 has no unstack and no stack-delete endpoint; a version leaves a stack when the file is
moved to the stack's folder (``PATCH …/files/{id}/move``). The planning here is pure (a few
frozen views in, a list of moves and of refusals out); the :class:`Undoer` reads Frame.io and
Redis at the edges and applies a plan under the group locks, one verified move at a time.

The rules (the README's "Undo and unstack" says the same for people):

- **Only autostack's own writes are undone**: a file with no journal entry (``Memory.write_for``)
  was stacked by a person, and is refused.
- **Changed by hand** (refused too): the file is no longer in the stack the journal names; the
  stack is no longer in the journal's folder; or the stack holds a file whose journal entry does
  not name this stack (a file autostack never put there). Reorders and files a person took out
  do not count: they leave nothing of someone else's to undo.
- **No stacks of one**: when autostack's moves would leave one file in a stack, that file goes
  back to the folder too. An emptied stack is gone, or left empty (Frame.io decides; V4 cannot
  delete it, so it is reported); when Frame.io dissolves a stack of one itself, the last file is
  found already in the folder and nothing more is done.
- **Held back**: a file taken out on request is remembered with its name, and autostack neither
  stacks it nor stacks others onto it until a person clears the hold or renames the file. The
  last file of a stack (moved only so that no stack of one is left) is not held back.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, replace
from itertools import groupby
from typing import Any, Literal, TypeVar

import redis

from workers.decisions import Decision, record
from workers.errors import FrameioError, LockBusy, LockLost, NotFound, RetryableError
from workers.frameio import FrameioClient
from workers.locks import Guard, LockFactory, group_lock_name, no_lock
from workers.memory import GROUP_WRITE_KEY, LISTING_KEY, STACK_KEY, STACK_TTL_S, WRITE_TTL_S, Memory, NoMemory, Write
from workers.models import Asset, FileAsset
from workers.naming import DEFAULT_RULES, Parsed, Rules, parse
from workers.retry import retry_delay

WRITES_KEY = "autostack:writes"
HOLD_KEY = "autostack:held:{file_id}"

Why = Literal["asked", "last-of-stack", "unstack"]
Status = Literal["moved", "already-out", "dissolved", "skipped", "failed"]
DONE: frozenset[str] = frozenset({"moved", "already-out", "dissolved"})
T = TypeVar("T")


# -- the journal's index by time -------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One journaled write and the account it was made in ("" when the caller did not say)."""

    account_id: str
    write: Write


def journal_write(memory: Memory | NoMemory, write: Write, account_id: str) -> None:
    """Index ``write`` by its time (a sorted set), for ``autostack undo --since``; entries older
    than the journal's own lifetime are dropped on the way."""
    if not isinstance(memory, Memory):
        return
    text = json.dumps({"account_id": account_id, **asdict(write)}, sort_keys=True)
    pipe = memory.client.pipeline(transaction=False)
    pipe.zadd(WRITES_KEY, {text: write.at})
    pipe.zremrangebyscore(WRITES_KEY, "-inf", f"({write.at - WRITE_TTL_S}")
    pipe.execute()


def entries_since(client: redis.Redis, since: float, folder_id: str | None = None) -> list[Entry]:
    """The writes made at or after ``since`` (Redis time), newest first; only ``folder_id``'s when given."""
    raw: list[bytes] = client.zrevrangebyscore(WRITES_KEY, "+inf", since)  # type: ignore[assignment]
    entries = [_entry(json.loads(item)) for item in raw]
    return [entry for entry in entries if folder_id is None or entry.write.folder_id == folder_id]


def _entry(data: dict[str, Any]) -> Entry:
    account_id = str(data.pop("account_id", ""))
    return Entry(account_id, Write(**{**data, "file_ids": tuple(data["file_ids"])}))


# -- holds: undone files autostack leaves alone ----------------------------------------------


@dataclass(frozen=True)
class Hold:
    name: str  # the file's name when it was undone: another name means the hold is cleared
    by: str
    reason: str
    at: float


def hold_back(client: redis.Redis, file_id: str, hold: Hold) -> None:
    client.set(HOLD_KEY.format(file_id=file_id), json.dumps(asdict(hold)))


def release(client: redis.Redis, file_id: str) -> Hold | None:
    """Clear the hold; returns it (None when there was none)."""
    hold = hold_for(client, file_id)
    client.delete(HOLD_KEY.format(file_id=file_id))
    return hold


def hold_for(client: redis.Redis, file_id: str) -> Hold | None:
    raw: bytes | None = client.get(HOLD_KEY.format(file_id=file_id))  # type: ignore[assignment]
    return _hold(raw)


def _hold(raw: bytes | None) -> Hold | None:
    return None if raw is None else Hold(**json.loads(raw))


def is_held_back(client: redis.Redis, file_id: str, name: str) -> bool:
    """True when the file was undone under this very name and nobody cleared the hold."""
    hold = hold_for(client, file_id)
    return hold is not None and hold.name == name


def held_back_reason(memory: Memory | NoMemory, file: FileAsset) -> str | None:
    """Why the stacker leaves ``file`` alone, or None when it is not held back."""
    if not isinstance(memory, Memory):
        return None
    hold = hold_for(memory.client, file.id)
    if hold is None or hold.name != file.name:
        return None
    why = f": {hold.reason}" if hold.reason else ""
    return f"held back: undone by {hold.by}{why} (clear with `autostack undo --clear --file {file.id}`)"


def without_held(memory: Memory | NoMemory, assets: Sequence[Asset]) -> list[Asset]:
    """``assets`` less the files held back (one MGET): they are neither targets nor peers."""
    files = [asset for asset in assets if isinstance(asset, FileAsset)]
    if not isinstance(memory, Memory) or not files:
        return list(assets)
    raw: list[bytes | None] = memory.client.mget([HOLD_KEY.format(file_id=file.id) for file in files])  # type: ignore[assignment]
    held = {file.id for file, text in zip(files, raw, strict=True) if (hold := _hold(text)) and hold.name == file.name}
    return [asset for asset in assets if asset.id not in held]


def unheld_files(memory: Memory | NoMemory, assets: Sequence[Asset]) -> list[FileAsset]:
    """The files among ``assets`` that no undo holds back (what the stacker may plan with)."""
    return [asset for asset in without_held(memory, assets) if isinstance(asset, FileAsset)]


# -- the pure planner ------------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    """A file in a stack, with the journal's entry for it (None: autostack never wrote it)."""

    file_id: str
    name: str
    write: Write | None = None


@dataclass(frozen=True)
class StackState:
    stack_id: str
    name: str
    folder_id: str | None  # the stack's parent now
    members: tuple[Member, ...]  # bottom to top
    group_keys: tuple[str, ...] = ()  # the members' group keys (for the group locks)

    def member(self, file_id: str) -> Member | None:
        return next((member for member in self.members if member.file_id == file_id), None)


@dataclass(frozen=True)
class Move:
    """Move ``file_id`` out of ``stack_id`` to ``folder_id``; ``left``: files still in the stack after it."""

    account_id: str
    file_id: str
    name: str
    stack_id: str
    stack_name: str
    folder_id: str
    why: Why
    left: int
    group_keys: tuple[str, ...] = ()

    @property
    def holds(self) -> bool:
        """Files taken out on request are held back; the last file of a stack is not."""
        return self.why != "last-of-stack"


@dataclass(frozen=True)
class Refusal:
    file_ids: tuple[str, ...]
    stack_id: str
    reason: str
    code: str


@dataclass(frozen=True)
class UndoPlan:
    moves: tuple[Move, ...] = ()
    refusals: tuple[Refusal, ...] = ()


def hand_made(write: Write, state: StackState, file_ids: tuple[str, ...]) -> Refusal | None:
    """A refusal when ``state`` was changed by hand since autostack's ``write`` (module docstring)."""
    if state.folder_id != write.folder_id:
        reason = f"version stack {state.stack_id} was moved to another folder by hand"
        return Refusal(file_ids, state.stack_id, reason, "stack-moved")
    foreign = [member for member in state.members if member.write is None or member.write.stack_id != state.stack_id]
    if not foreign:
        return None
    names = ", ".join(member.name for member in foreign[:3]) + (", …" if len(foreign) > 3 else "")
    reason = f"version stack {state.stack_id} holds {len(foreign)} file(s) autostack never put there: {names}"
    return Refusal(file_ids, state.stack_id, reason, "changed-by-hand")


def take_out(
    account_id: str, state: StackState, file_ids: Iterable[str], why: Why, *, last_too: bool
) -> tuple[list[Move], StackState]:
    """Moves for ``file_ids`` (bottom first), then for a lone last file when ``last_too``; and
    the stack as it is afterwards."""
    wanted = set(file_ids)
    leaving = [member for member in state.members if member.file_id in wanted]
    staying = tuple(member for member in state.members if member.file_id not in wanted)
    moves = [_move(account_id, state, member, why, len(state.members) - n) for n, member in enumerate(leaving, 1)]
    if last_too and len(staying) == 1:
        moves.append(_move(account_id, state, staying[0], "last-of-stack", 0))
        staying = ()
    return moves, replace(state, members=staying)


def _move(account_id: str, state: StackState, member: Member, why: Why, left: int) -> Move:
    folder_id = state.folder_id or ""
    return Move(
        account_id, member.file_id, member.name, state.stack_id, state.name, folder_id, why, left, state.group_keys
    )


def plan_file(
    account_id: str, file_id: str, write: Write | None, parent_id: str | None, state: StackState | None
) -> UndoPlan:
    """Undo one file: ``write`` is the journal's entry, ``parent_id`` where the file is now, and
    ``state`` the journaled stack (None when it is gone)."""
    refusal = _file_refusal(file_id, write, parent_id, state)
    if refusal is not None:
        return UndoPlan(refusals=(refusal,))
    assert state is not None
    moves, _ = take_out(account_id, state, [file_id], "asked", last_too=True)
    return UndoPlan(tuple(moves))


def _file_refusal(file_id: str, write: Write | None, parent_id: str | None, state: StackState | None) -> Refusal | None:
    ids = (file_id,)
    if write is None:
        reason = "autostack did not stack this file (no journal entry): a person did, or it was more than 90 days ago"
        return Refusal(ids, parent_id or "", reason, "not-autostack")
    if parent_id == write.folder_id:
        return Refusal(ids, write.stack_id, f"already loose in folder {write.folder_id}", "not-in-stack")
    if parent_id != write.stack_id:
        reason = f"no longer in version stack {write.stack_id}, where autostack put it: changed by hand"
        return Refusal(ids, write.stack_id, reason, "moved-by-hand")
    if state is None:
        return Refusal(ids, write.stack_id, f"version stack {write.stack_id} no longer exists", "stack-gone")
    return hand_made(write, state, ids)


def plan_window(entries: Sequence[Entry], states: Mapping[str, StackState | None]) -> UndoPlan:
    """Reverse ``entries`` (newest first) on the stacks as read (``states`` by stack id). A stack
    left with one file gives it up after the last (oldest) of its writes is undone."""
    oldest = {entry.write.stack_id: entry for entry in entries}
    current = dict(states)
    moves: list[Move] = []
    refusals: list[Refusal] = []
    for entry in entries:
        write = entry.write
        state = current.get(write.stack_id)
        refusal = _window_refusal(write, state)
        if refusal is not None or state is None:
            refusals.extend([refusal] if refusal else [])
            continue
        wanted, skipped = _still_ours(write, state)
        refusals.extend(skipped)
        last_too = oldest[write.stack_id] is entry
        taken, current[write.stack_id] = take_out(entry.account_id, state, wanted, "asked", last_too=last_too)
        moves.extend(taken)
    return UndoPlan(tuple(moves), tuple(refusals))


def _window_refusal(write: Write, state: StackState | None) -> Refusal | None:
    if state is None:
        return Refusal(write.file_ids, write.stack_id, f"version stack {write.stack_id} no longer exists", "stack-gone")
    return hand_made(write, state, write.file_ids)


def _still_ours(write: Write, state: StackState) -> tuple[list[str], list[Refusal]]:
    """The write's files that are still in the stack by this very write; refusals for the rest."""
    wanted: list[str] = []
    skipped: list[Refusal] = []
    for file_id in write.file_ids:
        member = state.member(file_id)
        if member is None:
            reason = f"no longer in version stack {state.stack_id} (taken out by hand or by an earlier undo)"
            skipped.append(Refusal((file_id,), state.stack_id, reason, "not-in-stack"))
        elif member.write != write:
            reason = "stacked again since, by a later write"
            skipped.append(Refusal((file_id,), state.stack_id, reason, "superseded"))
        else:
            wanted.append(file_id)
    return wanted, skipped


def plan_unstack(account_id: str, stack_id: str, state: StackState | None) -> UndoPlan:
    """Every file of the stack back to its folder, bottom first."""
    if state is None:
        return UndoPlan(refusals=(Refusal((), stack_id, f"version stack {stack_id} does not exist", "stack-gone"),))
    if not state.folder_id:
        return UndoPlan(refusals=(Refusal((), stack_id, "the stack has no parent folder", "no-parent"),))
    moves, _ = take_out(account_id, state, [member.file_id for member in state.members], "unstack", last_too=False)
    return UndoPlan(tuple(moves))


def bottom_to_top(listed: Sequence[FileAsset], head_id: str | None, fallback_top_first: bool = True) -> list[FileAsset]:
    """A stack's children bottom first, whichever end the listing starts at: the head is the top.
    Without a usable head, ``fallback_top_first`` says how the listing runs."""
    if len(listed) >= 2 and head_id in (listed[0].id, listed[-1].id):
        top_first = listed[0].id == head_id
    else:
        top_first = fallback_top_first
    return list(reversed(listed)) if top_first else list(listed)


# -- applying a plan (the I/O edge) ----------------------------------------------------------


@dataclass(frozen=True)
class StepResult:
    move: Move
    status: Status
    detail: str


@dataclass(frozen=True)
class StackFate:
    stack_id: str
    name: str
    folder_id: str
    fate: Literal["gone", "left-empty", "kept", "unknown"]
    detail: str = ""


@dataclass(frozen=True)
class Report:
    steps: tuple[StepResult, ...]
    fates: tuple[StackFate, ...]
    stopped: bool  # a step failed; the moves after it were not tried


@dataclass(frozen=True)
class Asker:
    """Who asked for the undo and why (for the decision log and the holds)."""

    by: str
    reason: str = ""
    decision_log_max: int = 100_000


Progress = Callable[[int, int, StepResult], None]


class Undoer:
    """Reads the stacks a plan needs and applies plans, one verified move at a time."""

    def __init__(
        self,
        frameio: FrameioClient,
        memory: Memory,
        rules: Rules = DEFAULT_RULES,
        *,
        lock: LockFactory = no_lock,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.frameio = frameio
        self.memory = memory
        self.rules = rules
        self.lock = lock
        self.sleep = sleep
        self.rand = rand
        self.top_first = True  # learned from any stack whose head is known, like the stacker

    # -- reading -----------------------------------------------------------------------------

    def patiently(self, call: Callable[[], T]) -> T:
        """``call()``, again after the retry policy's wait while it fails retryably (this is a
        command in the foreground: it waits for the shared rate limiter rather than give up)."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return call()
            except RetryableError as exc:
                delay = retry_delay(exc, attempt, self.rand())
                if delay is None:
                    raise
                self.sleep(delay)

    def stack_state(self, account_id: str, stack_id: str) -> StackState | None:
        try:
            stack = self.patiently(lambda: self.frameio.show_stack(account_id, stack_id))
            listed = self.patiently(lambda: self.frameio.list_stack_children(account_id, stack_id))
        except NotFound:
            return None
        if len(listed) >= 2 and stack.head_version_id in (listed[0].id, listed[-1].id):
            self.top_first = listed[0].id == stack.head_version_id
        ordered = bottom_to_top(listed, stack.head_version_id, self.top_first)
        members = tuple(Member(file.id, file.name, self.memory.write_for(file.id)) for file in ordered)
        keys = sorted({parsed.group_key for parsed in self._parsed(file.name for file in ordered)})
        return StackState(stack.id, stack.name, stack.parent_id, members, tuple(keys))

    def _parsed(self, names: Iterable[str]) -> Iterator[Parsed]:
        return (parsed for parsed in (parse(name, self.rules) for name in names) if isinstance(parsed, Parsed))

    def plan_file(self, account_id: str, file_id: str) -> UndoPlan:
        write = self.memory.write_for(file_id)
        try:
            parent_id = self.patiently(lambda: self.frameio.show_file(account_id, file_id)).parent_id
        except NotFound:
            return UndoPlan(refusals=(Refusal((file_id,), "", f"file {file_id} not found", "not-found"),))
        state = None
        if write is not None and parent_id == write.stack_id:
            state = self.stack_state(account_id, write.stack_id)
        return plan_file(account_id, file_id, write, parent_id, state)

    def plan_window(self, entries: Sequence[Entry]) -> UndoPlan:
        accounts = {entry.write.stack_id: entry.account_id for entry in entries}
        states = {stack_id: self.stack_state(account, stack_id) for stack_id, account in accounts.items()}
        return plan_window(entries, states)

    def plan_unstack(self, account_id: str, stack_id: str) -> UndoPlan:
        return plan_unstack(account_id, stack_id, self.stack_state(account_id, stack_id))

    # -- applying ----------------------------------------------------------------------------

    def apply(self, plan: UndoPlan, asker: Asker, progress: Progress | None = None) -> Report:
        """Apply the moves in order, a stack's run of moves under its group locks; stop at the
        first step that fails (a busy group lock included)."""
        steps: list[StepResult] = []
        fates: list[StackFate] = []

        def done(step: StepResult) -> bool:
            steps.append(step)
            if progress is not None:
                progress(len(steps), len(plan.moves), step)
            return step.status != "failed"

        for (account_id, stack_id), run in groupby(plan.moves, key=lambda move: (move.account_id, move.stack_id)):
            moves = list(run)
            if not self._apply_run(account_id, stack_id, moves, asker, done, fates):
                return Report(tuple(steps), tuple(fates), stopped=True)
        return Report(tuple(steps), tuple(fates), stopped=False)

    def _apply_run(
        self,
        account_id: str,
        stack_id: str,
        moves: list[Move],
        asker: Asker,
        done: Callable[[StepResult], bool],
        fates: list[StackFate],
    ) -> bool:
        """One stack's consecutive moves; False when a step failed."""
        try:
            with self._locks(account_id, moves) as guard:
                for move in moves:
                    if not done(self._step(move, guard, asker)):
                        return False
        except LockBusy as exc:
            return done(StepResult(moves[0], "failed", str(exc)))
        fates.extend(self._settled(account_id, stack_id, moves))
        return True

    @contextmanager
    def _locks(self, account_id: str, moves: list[Move]) -> Iterator[Guard]:
        names = sorted({group_lock_name(account_id, m.folder_id, key) for m in moves for key in m.group_keys})
        with ExitStack() as held:
            guards = [held.enter_context(self.lock(name)) for name in names]

            def guard() -> None:
                for each in guards:
                    each()

            yield guard

    def _step(self, move: Move, guard: Guard, asker: Asker) -> StepResult:
        """One move, re-verified before it is made; retryable failures wait and try again (the
        next try re-reads, so a move that did happen behind a timeout is not made twice)."""
        try:
            result = self.patiently(lambda: self._try(move, guard, asker))
        except (FrameioError, LockBusy, LockLost) as exc:
            return StepResult(move, "failed", str(exc))
        if result.status in DONE:
            self._remember(result, asker)
        return result

    def _try(self, move: Move, guard: Guard, asker: Asker) -> StepResult:
        file = self.frameio.show_file(move.account_id, move.file_id)
        if file.parent_id == move.folder_id:
            if move.why == "last-of-stack":
                return StepResult(move, "dissolved", "Frame.io moved it out itself (the stack of one dissolved)")
            return StepResult(move, "already-out", f"already in folder {move.folder_id}")
        if file.parent_id != move.stack_id:
            return StepResult(move, "skipped", f"moved elsewhere meanwhile (now in {file.parent_id})")
        if move.why == "last-of-stack" and not self._alone(move):
            return StepResult(move, "skipped", "the stack changed meanwhile: it does not hold this file alone")
        guard()
        if move.holds:  # before the move: a sweep between the two must not stack it again
            hold_back(self.memory.client, move.file_id, Hold(file.name, asker.by, asker.reason, self.memory.now()))
        try:
            self.frameio.move_file(move.account_id, move.file_id, move.folder_id)
        except Exception:
            self.memory.client.delete(HOLD_KEY.format(file_id=move.file_id))
            raise
        return StepResult(move, "moved", f"moved to folder {move.folder_id}")

    def _alone(self, move: Move) -> bool:
        try:
            listed = self.frameio.list_stack_children(move.account_id, move.stack_id)
        except NotFound:
            return False
        return [file.id for file in listed] == [move.file_id]

    def _remember(self, result: StepResult, asker: Asker) -> None:
        """Hold (when asked), forget the journal entry and record the decision."""
        move = result.move
        if move.holds and result.status != "moved":
            hold_back(self.memory.client, move.file_id, Hold(move.name, asker.by, asker.reason, self.memory.now()))
        self.memory.forget_write(move.file_id)
        decision = Decision(
            account_id=move.account_id,
            file_id=move.file_id,
            outcome="undone",
            reason=describe(result, asker),
            code={"asked": "undo", "unstack": "unstack", "last-of-stack": "no-stack-of-one"}[move.why],
            name=move.name,
            folder_id=move.folder_id,
            stack_id=move.stack_id,
        )
        record(self.memory.client, decision, asker.decision_log_max)

    def _settled(self, account_id: str, stack_id: str, moves: list[Move]) -> list[StackFate]:
        """Tell the shared memory the folder changed; say what became of a stack the plan emptied."""
        self._invalidate(account_id, moves)
        last = moves[-1]
        if last.left > 0:
            return []
        fate = self._fate(account_id, stack_id, last)
        if fate.fate in ("gone", "left-empty"):
            self.memory.client.delete(STACK_KEY.format(stack_id=stack_id))
        return [fate]

    def _fate(self, account_id: str, stack_id: str, last: Move) -> StackFate:
        try:
            self.frameio.show_stack(account_id, stack_id)
            listed = self.frameio.list_stack_children(account_id, stack_id)
        except NotFound:
            return StackFate(stack_id, last.stack_name, last.folder_id, "gone")
        except FrameioError as exc:
            return StackFate(stack_id, last.stack_name, last.folder_id, "unknown", f"could not read it back: {exc}")
        if listed:
            return StackFate(stack_id, last.stack_name, last.folder_id, "kept", f"it holds {len(listed)} file(s) again")
        detail = "Frame.io V4 has no endpoint to delete a version stack: delete it in the Frame.io web app"
        return StackFate(stack_id, last.stack_name, last.folder_id, "left-empty", detail)

    def _invalidate(self, account_id: str, moves: list[Move]) -> None:
        """A shared folder listing from before these moves must not be used by a stacking job."""
        folder_id = moves[0].folder_id
        now = repr(self.memory.now())
        pipe = self.memory.client.pipeline(transaction=False)
        pipe.delete(LISTING_KEY.format(folder_id=folder_id))
        for key in moves[0].group_keys:
            pipe.set(GROUP_WRITE_KEY.format(name=group_lock_name(account_id, folder_id, key)), now, ex=STACK_TTL_S)
        pipe.execute()


def describe(result: StepResult, asker: Asker) -> str:
    """The decision log's reason for one done step: what happened, who asked and why."""
    move = result.move
    what = {
        "asked": f"taken out of version stack {move.stack_id} back to folder {move.folder_id} (undo)",
        "unstack": f"taken out of version stack {move.stack_id} back to folder {move.folder_id} (unstack)",
        "last-of-stack": f"the last file of version stack {move.stack_id}, back to folder {move.folder_id}: "
        "no stacks of one",
    }[move.why]
    if result.status == "dissolved":
        what += " (Frame.io dissolved the stack itself)"
    why = f": {asker.reason}" if asker.reason else ""
    return f"{what}; asked by {asker.by}{why}"
