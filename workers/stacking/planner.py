"""The stacking planner: a pure function from what a folder holds to the one thing to do next.

No I/O and no clock: the job reads Frame.io, builds a :class:`FolderView`, asks :func:`plan`, acts,
and asks again until the answer is :class:`Nothing`. Orders are always bottom (oldest) to top
(head, the highest version).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

CREATE_LIMIT = 10  # Frame.io's create takes 2 to 10 files


@dataclass(frozen=True)
class Version:
    """A file whose name parsed: where it sits and what it is a version of."""

    file_id: str
    name: str
    group_key: str
    version: int
    created_at: str = ""
    sub_version: str = ""
    kind: str = "other"

    @property
    def sort_key(self) -> tuple[int, str, str, str]:
        # Ties on the version number: sub-version letter, then upload time, then id.
        return (self.version, self.sub_version, self.created_at, self.file_id)

    def same_group(self, other: Version, by_kind: bool) -> bool:
        return self.group_key == other.group_key and (not by_kind or self.kind == other.kind)


@dataclass(frozen=True)
class StackView:
    """A version stack in the folder, its members bottom to top; ``versions`` are those that parsed."""

    stack_id: str
    order: tuple[str, ...]
    versions: tuple[Version, ...] = ()

    def holds_group_of(self, target: Version, by_kind: bool) -> bool:
        return any(member.same_group(target, by_kind) for member in self.versions)


@dataclass(frozen=True)
class FolderView:
    folder_id: str
    loose: tuple[Version, ...] = ()
    stacks: tuple[StackView, ...] = ()


@dataclass(frozen=True)
class Policy:
    duplicate_versions: Literal["stack", "decline"] = "stack"
    separate_media_kinds: bool = True


@dataclass(frozen=True)
class Nothing:
    reason: str
    code: str = "nothing"


@dataclass(frozen=True)
class CreateStack:
    folder_id: str
    file_ids: tuple[str, ...]


@dataclass(frozen=True)
class AddToStack:
    stack_id: str
    file_id: str
    order: tuple[str, ...] = field(default=())  # the stack's whole order once the file is in

    @property
    def position(self) -> int:
        return self.order.index(self.file_id)


Plan = Nothing | CreateStack | AddToStack


def plan(target: Version, parent_id: str, folder: FolderView, policy: Policy = Policy()) -> Plan:
    """The next step that brings ``target``'s group (``target`` sits in ``parent_id``) into one stack.

    Called again after each step, with the folder updated by :func:`apply`, until it says Nothing:
    so a group of loose files becomes one create (of up to 10) and then moves, one file a step.
    """
    by_kind = policy.separate_media_kinds
    # Its stack: the one it was read in, or one a newer listing shows it in (another job moved it
    # after the file itself was read).
    home = next((stack for stack in folder.stacks if _holds(stack, target, parent_id)), None)
    if home is not None and not home.holds_group_of(target, by_kind):
        return Nothing(f"already in version stack {home.stack_id}", "already-stacked")
    stacks = [stack for stack in folder.stacks if stack.holds_group_of(target, by_kind)]
    if len(stacks) > 1:
        ids = ", ".join(stack.stack_id for stack in stacks)
        return Nothing(f"{len(stacks)} version stacks hold this group ({ids}); not merging them", "ambiguous")
    peers = _loose_group(target, folder.loose, by_kind, include_target=home is None)
    peers, clash = _without_repeats(peers, stacks[0].versions if stacks else (), policy)
    if home is None and all(peer.file_id != target.file_id for peer in peers):
        return Nothing(f"version {target.version} is already held by {clash}", "duplicate-version")
    return _grow(folder.folder_id, stacks[0] if stacks else None, peers, by_kind)


def _grow(folder_id: str, stack: StackView | None, peers: list[Version], by_kind: bool) -> Plan:
    """Add the lowest loose version to the group's stack, or create one from the loose versions."""
    ordered = sorted(peers, key=lambda version: version.sort_key)
    if stack is not None:
        if not ordered:
            return Nothing(f"already in version stack {stack.stack_id}", "already-stacked")
        return _add(stack, ordered[0], by_kind)
    if len(ordered) < 2:
        return Nothing("no other version of this group in the folder yet", "first-version")
    return CreateStack(folder_id, tuple(version.file_id for version in ordered[:CREATE_LIMIT]))


def apply(folder: FolderView, step: CreateStack | AddToStack, stack_id: str = "") -> FolderView:
    """The folder as it is once ``step`` is done (``stack_id`` names a created stack)."""
    if isinstance(step, CreateStack):
        members = {version.file_id: version for version in folder.loose if version.file_id in step.file_ids}
        created = StackView(stack_id, step.file_ids, tuple(members[file_id] for file_id in step.file_ids))
        loose = tuple(version for version in folder.loose if version.file_id not in members)
        return FolderView(folder.folder_id, loose, (*folder.stacks, created))
    moved = next(version for version in folder.loose if version.file_id == step.file_id)
    stacks = tuple(
        StackView(stack.stack_id, step.order, (*stack.versions, moved)) if stack.stack_id == step.stack_id else stack
        for stack in folder.stacks
    )
    loose = tuple(version for version in folder.loose if version.file_id != step.file_id)
    return FolderView(folder.folder_id, loose, stacks)


def _holds(stack: StackView, target: Version, parent_id: str) -> bool:
    return stack.stack_id == parent_id or target.file_id in stack.order


def _loose_group(target: Version, loose: tuple[Version, ...], by_kind: bool, include_target: bool) -> list[Version]:
    peers = [version for version in loose if version.same_group(target, by_kind)]
    if include_target and all(version.file_id != target.file_id for version in peers):
        peers.append(target)
    return peers


def _without_repeats(peers: list[Version], stacked: tuple[Version, ...], policy: Policy) -> tuple[list[Version], str]:
    """Under ``duplicate_versions = "decline"``, drop loose files whose version number is already
    taken (by a stacked file, or an earlier upload); returns the kept peers and a clashing name."""
    if policy.duplicate_versions == "stack":
        return peers, ""
    taken = {version.version: version.name for version in stacked}
    kept, clash = [], ""
    for peer in sorted(peers, key=lambda version: version.sort_key):
        if peer.version in taken:
            clash = clash or taken[peer.version]
            continue
        taken[peer.version] = peer.name
        kept.append(peer)
    return kept, clash


def _add(stack: StackView, target: Version, by_kind: bool) -> AddToStack:
    """Insert ``target`` just above the highest member that sorts at or below it; members that do
    not parse, or are another group, keep their places."""
    ranked = {version.file_id: version for version in stack.versions if version.same_group(target, by_kind)}
    order = [file_id for file_id in stack.order if file_id != target.file_id]
    position = 0
    for index, file_id in enumerate(order):
        member = ranked.get(file_id)
        if member is not None and member.sort_key <= target.sort_key:
            position = index + 1
    order.insert(position, target.file_id)
    return AddToStack(stack.stack_id, target.file_id, tuple(order))
