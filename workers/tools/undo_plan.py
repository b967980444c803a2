"""Undo, unstack and repair, the pure half: which files go back to their folder, and which undo
is refused and why. A few frozen views in, a list of moves and of refusals out; no I/O.

The rules (the README's "Undo and unstack" says the same for people):

- **Only autostack's own writes are undone**: a file with no journal entry
  (:meth:`workers.stacking.journal.Journal.write_for`) was stacked by a person, and is refused.
- **Changed by hand** (refused too): the file is no longer in the stack the journal names; the
  stack is no longer in the journal's folder; or the stack holds a file whose journal entry does
  not name this stack (a file autostack never put there). Reorders and files a person took out
  do not count: they leave nothing of someone else's to undo.
- **No stacks of one**: when autostack's moves would leave one file in a stack, that file goes
  back to the folder too.
- **Held back**: a file taken out on request is held back (:mod:`workers.stacking.holds`); the
  last file of a stack (moved only so that no stack of one is left) is not.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from workers.stacking.writes import JournalEntry, Write

Why = Literal["asked", "last-of-stack", "unstack"]


@dataclass(frozen=True)
class StackMember:
    """A file in a stack, with the journal's entry for it (None: autostack never wrote it)."""

    file_id: str
    name: str
    write: Write | None = None


@dataclass(frozen=True)
class StackState:
    stack_id: str
    name: str
    folder_id: str | None  # the stack's parent now
    members: tuple[StackMember, ...]  # bottom to top
    group_keys: tuple[str, ...] = ()  # the members' group keys (for the group locks)

    def member(self, file_id: str) -> StackMember | None:
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


def _move(account_id: str, state: StackState, member: StackMember, why: Why, left: int) -> Move:
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


def plan_window(entries: Sequence[JournalEntry], states: Mapping[str, StackState | None]) -> UndoPlan:
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
