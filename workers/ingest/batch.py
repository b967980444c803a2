"""Which inbox files a drain decides now, grouped, and in which order: pure, the clock passed in.

A drain holds a listing of each folder it has read. Every inbox file found there is either
refused by its name (a decision at once, no call) or belongs to a group: (folder, group key,
media kind when kinds are kept apart). A group is *due* once its newest inbox file has waited the
coalescing window, so versions that land together are stacked by one create. A create is the
scarce call (10 a minute) and one spent on a group still arriving costs a move, a read-back and a
reorder for each late version; so while a folder still receives files, a group smaller than the
folder's largest waits (for the folder to go quiet, at most ``hold_s``). The window is there for
bursts: a *lone* upload (the only file of its group in the inbox, no other arrival in the account
within a window of it, before or after, and no other file in its folder created within a window
of it by Frame.io's clock: a burst's files are listed before their webhooks come) is due at once.
Due groups are taken in an order that spends the creates well: groups that already have a stack
first (a move, 100 a minute, needs no waiting for company), then the groups with the most loose
versions, longest settled first.
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from workers.frameio.models import Asset, FileAsset
from workers.ingest.arrival import Arrival
from workers.naming.parser import Declined, Parsed, Rules, parse
from workers.stacking.census import group_of, take_census


@dataclass(frozen=True)
class Pending:
    """An inbox arrival and its file as the folder listing shows it."""

    arrival: Arrival
    file: FileAsset
    folder_id: str


@dataclass(frozen=True)
class Refused:
    pending: Pending
    declined: Declined


@dataclass(frozen=True)
class Member:
    pending: Pending
    parsed: Parsed


@dataclass(frozen=True)
class Group:
    folder_id: str
    group_key: str
    kind: str
    members: tuple[Member, ...]  # the inbox files of the group, lowest version first
    loose: int  # loose versions of the group in the folder, inbox files included
    has_stack: bool  # the folder holds a stack whose name parses to the group key
    # A group of one inbox file: the least time between its file's creation and another file's in
    # the folder (Frame.io's clock; 0 when not known, inf when the folder holds no other file).
    apart_s: float = 0.0

    @property
    def last_arrival(self) -> float:
        return max(member.pending.arrival.at for member in self.members)

    def due_at(self, window_s: float) -> float:
        return self.last_arrival + window_s


def classify(
    pending: Sequence[Pending],
    listings: dict[str, Sequence[Asset]],
    rules: Callable[[str], Rules],
    by_kind: bool,
) -> tuple[list[Refused], list[Group]]:
    """The files refused by name, and the groups of the others (``listings``: folder id -> children;
    ``rules``: folder id -> the rules that read its names)."""
    refused: list[Refused] = []
    members: dict[tuple[str, str, str], list[Member]] = defaultdict(list)
    for item in pending:
        parsed = parse(item.file.name, rules(item.folder_id))
        if isinstance(parsed, Declined):
            refused.append(Refused(item, parsed))
            continue
        key, kind = group_of(item.file, parsed, by_kind)
        members[(item.folder_id, key, kind)].append(Member(item, parsed))
    folders = {folder_id for folder_id, _, _ in members}
    censuses = {folder_id: take_census(listings.get(folder_id, ()), rules(folder_id), by_kind) for folder_id in folders}
    created = {folder_id: _creations(listings.get(folder_id, ())) for folder_id in folders}
    groups = []
    for (folder_id, key, kind), found in members.items():
        census = censuses[folder_id]
        ordered = tuple(sorted(found, key=lambda member: (member.parsed.version, member.pending.file.created_at)))
        loose = max(census.count((key, kind)), len(ordered))
        apart = _apart(ordered[0].pending.file, created[folder_id]) if len(ordered) == 1 else 0.0
        groups.append(Group(folder_id, key, kind, ordered, loose, census.has_stack(key), apart))
    return refused, groups


def _moment(text: str) -> float | None:
    """An ISO 8601 timestamp in seconds; None when it is not one."""
    try:
        return datetime.fromisoformat(text).timestamp()
    except (ValueError, TypeError):
        return None


def _creations(children: Iterable[Asset]) -> list[tuple[float, str]]:
    """When each file of a folder listing was created, sorted (files without a timestamp left out)."""
    found = [(at, asset.id) for asset in children if isinstance(asset, FileAsset) and (at := _moment(asset.created_at))]
    return sorted(found)


def _apart(file: FileAsset, creations: Sequence[tuple[float, str]]) -> float:
    """The least time between ``file``'s creation and another file's in ``creations``."""
    own = _moment(file.created_at)
    if own is None:
        return 0.0
    at = bisect.bisect_left(creations, (own, ""))
    near = creations[max(0, at - 2) : at + 3]
    return min((abs(when - own) for when, file_id in near if file_id != file.id), default=math.inf)


@dataclass(frozen=True)
class Pulse:
    """What a drain has seen of a folder so far: its newest arrival, its largest group."""

    last_arrival: float = 0.0
    largest: int = 0


def pulses(groups: Iterable[Group], pending: Iterable[Pending], before: Mapping[str, Pulse]) -> dict[str, Pulse]:
    """``before`` brought up to date with this look at the inbox."""
    latest: dict[str, Pulse] = dict(before)
    for item in pending:
        seen = latest.get(item.folder_id, Pulse())
        latest[item.folder_id] = replace(seen, last_arrival=max(seen.last_arrival, item.arrival.at))
    for group in groups:
        seen = latest.get(group.folder_id, Pulse())
        latest[group.folder_id] = replace(seen, largest=max(seen.largest, group.loose))
    return latest


#: The account's arrivals around now (file id -> when accepted, the pending ones included); None: not
#: known, so no upload counts as lone.
Recent = Mapping[str, float] | None


def due(
    groups: Iterable[Group], now: float, timing: Timing, folders: Mapping[str, Pulse], recent: Recent = None
) -> list[Group]:
    """The groups to act on now, in order."""
    ready = [group for group in groups if _act_at(group, timing, folders.get(group.folder_id), recent) <= now]
    return sorted(ready, key=_priority)


def next_due(
    groups: Iterable[Group], now: float, timing: Timing, folders: Mapping[str, Pulse], recent: Recent = None
) -> float | None:
    """When the next group not yet due will be (None when there is none)."""
    times = [at for group in groups if (at := _act_at(group, timing, folders.get(group.folder_id), recent)) > now]
    return min(times) if times else None


def lone(group: Group, recent: Mapping[str, float], window_s: float) -> bool:
    """The group is one upload into a quiet account and folder: its only inbox file, no other
    arrival in ``recent`` within a window of it, and no other file in its folder created within a
    window of it. Nothing it could be coalesced with is on its way."""
    if len(group.members) != 1 or group.apart_s < window_s:
        return False
    own = group.members[0].pending.arrival
    return all(file_id == own.file_id or abs(at - own.at) >= window_s for file_id, at in recent.items())


@dataclass(frozen=True)
class Timing:
    window_s: float  # a group waits this long after its newest file (coalescing)
    hold_s: float  # the longest a group smaller than its folder's largest waits while the folder is busy


def _act_at(group: Group, timing: Timing, folder: Pulse | None, recent: Recent) -> float:
    """When a group may be acted on. A lone upload: at once. A move into its stack: once its window
    has closed. A create: also once its folder has been quiet for a window, unless it is as large as
    the folder's largest group so far (a create is the scarce call: spent on a group still arriving,
    it costs a move, a read-back and a reorder per late version), and at the latest ``hold_s`` after
    its newest file."""
    if recent is not None and lone(group, recent, timing.window_s):
        return group.last_arrival
    settled = group.due_at(timing.window_s)
    if group.has_stack or folder is None or group.loose >= folder.largest:
        return settled
    quiet = folder.last_arrival + timing.window_s
    return max(settled, min(quiet, group.last_arrival + timing.hold_s))


def _priority(group: Group) -> tuple[int, int, float, str, str]:
    # Moves into an existing stack first; then the fullest groups; then the longest settled.
    return (0 if group.has_stack else 1, -group.loose, group.last_arrival, group.folder_id, group.group_key)
