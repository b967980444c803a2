"""A folder's census: its loose versions grouped by (group key, media kind), and the stacks named
for each group. Pure: one listing in, the groups out.

The drain (which groups to act on first), the sweep (which groups still have work) and backfill
(what to do for each group) all read a folder through this one function, so they agree on what a
group is: media kinds are kept apart only when ``AUTOSTACK_SEPARATE_MEDIA_KINDS`` says so.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from workers.frameio.models import Asset, FileAsset, StackAsset
from workers.naming.media import media_kind
from workers.naming.parser import Declined, Parsed, Rules, parse

GroupId = tuple[str, str]  # (group key, media kind; "" when kinds are not kept apart)


@dataclass(frozen=True)
class Loose:
    """An uploaded file, loose in the folder, whose name parsed."""

    file: FileAsset
    parsed: Parsed


@dataclass(frozen=True)
class Census:
    loose: Mapping[GroupId, tuple[Loose, ...]]  # in listing order
    stacks: Mapping[str, tuple[tuple[StackAsset, Parsed], ...]]  # by the group key their name parses to

    def count(self, group: GroupId) -> int:
        return len(self.loose.get(group, ()))

    def has_stack(self, group_key: str) -> bool:
        return group_key in self.stacks


def group_of(file: FileAsset, parsed: Parsed, by_kind: bool) -> GroupId:
    """The group a file belongs to: its key, and its media kind when kinds are kept apart."""
    return (parsed.group_key, media_kind(file.name, file.media_type) if by_kind else "")


def take_census(
    children: Iterable[Asset],
    rules: Rules,
    by_kind: bool,
    parser: Callable[[str, Rules], Parsed | Declined] = parse,
) -> Census:
    """The census of a folder listing (``parser``: the name parser, a caching one if the caller has it)."""
    loose: dict[GroupId, list[Loose]] = defaultdict(list)
    stacks: dict[str, list[tuple[StackAsset, Parsed]]] = defaultdict(list)
    for asset in children:
        if not isinstance(asset, FileAsset | StackAsset) or (isinstance(asset, FileAsset) and not asset.uploaded):
            continue
        parsed = parser(asset.name, rules)
        if not isinstance(parsed, Parsed):
            continue
        if isinstance(asset, StackAsset):
            stacks[parsed.group_key].append((asset, parsed))
        else:
            loose[group_of(asset, parsed, by_kind)].append(Loose(asset, parsed))
    return Census(
        {group: tuple(files) for group, files in loose.items()},
        {key: tuple(named) for key, named in stacks.items()},
    )
