"""Undo, unstack and repair, the I/O half: read the stacks a plan needs, and apply a plan under
the group locks, one verified move at a time.

Frame.io V4 has no unstack and no stack-delete endpoint; a version leaves a stack when the file is
moved to the stack's folder (``PATCH …/files/{id}/move``). What to move, and what to refuse, is
decided by the pure :mod:`workers.tools.undo_plan`. An emptied stack is gone, or left empty
(Frame.io decides; V4 cannot delete it, so it is reported); when Frame.io dissolves a stack of one
itself, the last file is found already in the folder and nothing more is done.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from itertools import groupby
from typing import Literal, TypeVar

from workers.decisions import PER_FILE_TTL_S, Decision, record
from workers.frameio.client import FrameioClient
from workers.frameio.errors import FrameioError, NotFound, RetryableError
from workers.frameio.retry import retry_delay
from workers.naming.parser import DEFAULT_RULES, Parsed, Rules, parse
from workers.naming.scopes import RuleBook
from workers.stacking import order
from workers.stacking.holds import Hold
from workers.stacking.locks import Guard, LockBusy, LockFactory, LockLost, group_lock_name, no_lock
from workers.stacking.memory import Memory
from workers.stacking.scope import FolderRules
from workers.stacking.writes import JournalEntry
from workers.tools.undo_plan import (
    Move,
    Refusal,
    StackMember,
    StackState,
    UndoPlan,
    plan_file,
    plan_unstack,
    plan_window,
)

Status = Literal["moved", "already-out", "dissolved", "skipped", "failed"]
DONE: frozenset[str] = frozenset({"moved", "already-out", "dissolved"})
T = TypeVar("T")


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
    decision_keep_s: int = PER_FILE_TTL_S


OnStep = Callable[[int, int, StepResult], None]
OnWait = Callable[[float, RetryableError], None]  # told before each wait: seconds, and why


def _parsed(names: Iterable[str], rules: Rules) -> Iterator[Parsed]:
    return (parsed for parsed in (parse(name, rules) for name in names) if isinstance(parsed, Parsed))


class Undoer:
    """Reads the stacks a plan needs and applies plans, one verified move at a time."""

    def __init__(
        self,
        frameio: FrameioClient,
        memory: Memory,
        rules: Rules | FolderRules = DEFAULT_RULES,
        *,
        lock: LockFactory = no_lock,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
        on_wait: OnWait | None = None,
    ) -> None:
        self.frameio = frameio
        self.memory = memory
        self.naming = rules if isinstance(rules, FolderRules) else FolderRules(RuleBook(rules))
        self.lock = lock
        self.sleep = sleep
        self.rand = rand
        self.on_wait = on_wait
        self.orientation: order.Orientation | None = None  # learned like the stacker's

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
                if self.on_wait is not None:
                    self.on_wait(delay, exc)
                self.sleep(delay)

    def stack_state(self, account_id: str, stack_id: str) -> StackState | None:
        try:
            stack = self.patiently(lambda: self.frameio.show_stack(account_id, stack_id))
            listed = self.patiently(lambda: self.frameio.list_stack_children(account_id, stack_id))
        except NotFound:
            return None
        self.orientation = order.learn(listed, stack.head_version_id) or self.orientation
        ordered = order.bottom_to_top(listed, self.orientation)
        members = tuple(StackMember(file.id, file.name, self.memory.journal.write_for(file.id)) for file in ordered)
        rules = self.naming.resolve(account_id, stack.parent_id).rules
        keys = sorted({parsed.group_key for parsed in _parsed((file.name for file in ordered), rules)})
        return StackState(stack.id, stack.name, stack.parent_id, members, tuple(keys))

    def plan_file(self, account_id: str, file_id: str) -> UndoPlan:
        write = self.memory.journal.write_for(file_id)
        try:
            parent_id = self.patiently(lambda: self.frameio.show_file(account_id, file_id)).parent_id
        except NotFound:
            return UndoPlan(refusals=(Refusal((file_id,), "", f"file {file_id} not found", "not-found"),))
        state = None
        if write is not None and parent_id == write.stack_id:
            state = self.stack_state(account_id, write.stack_id)
        return plan_file(account_id, file_id, write, parent_id, state)

    def plan_window(self, entries: Sequence[JournalEntry]) -> UndoPlan:
        accounts = {entry.write.stack_id: entry.account_id for entry in entries}
        states = {stack_id: self.stack_state(account, stack_id) for stack_id, account in accounts.items()}
        return plan_window(entries, states)

    def plan_unstack(self, account_id: str, stack_id: str) -> UndoPlan:
        return plan_unstack(account_id, stack_id, self.stack_state(account_id, stack_id))

    # -- applying ----------------------------------------------------------------------------

    def apply(self, plan: UndoPlan, asker: Asker, on_step: OnStep | None = None) -> Report:
        """Apply the moves in order, a stack's run of moves under its group locks; stop at the
        first step that fails (a busy group lock included)."""
        steps: list[StepResult] = []
        fates: list[StackFate] = []

        def done(step: StepResult) -> bool:
            steps.append(step)
            if on_step is not None:
                on_step(len(steps), len(plan.moves), step)
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
            self.memory.holds.hold(move.file_id, Hold(file.name, asker.by, asker.reason, self.memory.now()))
        try:
            self.frameio.move_file(move.account_id, move.file_id, move.folder_id)
        except Exception:
            self.memory.holds.clear(move.file_id)
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
            self.memory.holds.hold(move.file_id, Hold(move.name, asker.by, asker.reason, self.memory.now()))
        self.memory.journal.forget(move.file_id)
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
        record(self.memory.client, decision, asker.decision_log_max, asker.decision_keep_s)

    def _settled(self, account_id: str, stack_id: str, moves: list[Move]) -> list[StackFate]:
        """Tell the shared memory the folder changed; say what became of a stack the plan emptied."""
        self._invalidate(account_id, moves)
        last = moves[-1]
        if last.left > 0:
            return []
        fate = self._fate(account_id, stack_id, last)
        if fate.fate in ("gone", "left-empty"):
            self.memory.forget_stack(stack_id)
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
        self.memory.invalidate_folder(
            folder_id, [group_lock_name(account_id, folder_id, key) for key in moves[0].group_keys]
        )


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
