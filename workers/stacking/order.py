"""A version stack's order: which end of a listing is the head, and the fewest reorders. Pure.

Orders are bottom (oldest) to top (head). Which end of a stack's children listing is the head is
undocumented (docs/frameio.md §10): it is learned from any stack of two or more whose head is
known, or (where Frame.io leaves ``head_version`` out) from two files whose order autostack knows
because it created the stack with them; it is assumed top first until then (the documented
reorder example lists the head first).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol, TypeVar

Orientation = Literal["top_first", "bottom_first"]
Landing = Literal["bottom", "top"]


class HasId(Protocol):
    @property
    def id(self) -> str: ...


Listed = TypeVar("Listed", bound=HasId)


def learn(listed: Sequence[HasId], head_id: str | None) -> Orientation | None:
    """Which end of ``listed`` is the head, when the listing shows it (None: it does not)."""
    if head_id is None or len(listed) < 2:
        return None
    if listed[0].id == head_id:
        return "top_first"
    if listed[-1].id == head_id:
        return "bottom_first"
    return None


def learn_from_order(listed: Sequence[HasId], known: Sequence[str]) -> Orientation | None:
    """Which end of ``listed`` is the head, from ``known``: ids bottom to top (a create's files).
    None unless two or more of them are listed, all in that order or all in the reverse one."""
    rank = {file_id: index for index, file_id in enumerate(known)}
    ranks = [rank[item.id] for item in listed if item.id in rank]
    if len(ranks) < 2:
        return None
    if ranks == sorted(ranks):
        return "bottom_first"
    if ranks == sorted(ranks, reverse=True):
        return "top_first"
    return None


def bottom_to_top(listed: Sequence[Listed], orientation: Orientation | None) -> list[Listed]:
    """A children listing bottom first; ``orientation`` None assumes top first."""
    return list(listed) if orientation == "bottom_first" else list(reversed(listed))


def after_moves(before: Sequence[str], moved: Sequence[str], lands: Landing) -> list[str]:
    """A stack's order (bottom to top) once ``moved`` went into it one after another, each landing
    at the ``lands`` end."""
    after = list(before)
    for file_id in moved:
        after = [file_id, *after] if lands == "bottom" else [*after, file_id]
    return after


def learn_landing(before: Sequence[str], moved: str, actual: Sequence[str]) -> Landing | None:
    """Where a file moved into a stack landed, when a read-back shows it at one end of the order
    the stack had before (None: the stack was empty, or changed meanwhile)."""
    if not before:
        return None
    if list(actual) == [moved, *before]:
        return "bottom"
    if list(actual) == [*before, moved]:
        return "top"
    return None


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
