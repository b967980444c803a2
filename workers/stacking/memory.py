"""What the workers remember between jobs, in Redis, so that no read is made whose answer is known.

- **Stacks autostack made or added to**: a file whose parent is one of them is already stacked,
  without listing anything (Frame.io's ``file.ready`` follows ``file.upload.completed`` for every
  upload, so this halves the work of a burst).
- **Recent folder listings**, shared by all workers for a few seconds. A listing is only used for
  a group when it was fetched after everything that group's plan depends on: after the group's
  last arrival (the coalescing window) and after autostack's last write to the group.
- **The order of each stack autostack created** (bottom to top, as the create took its files) and
  **which end of a stack's children listing is the head**, once learned: where Frame.io names no
  head, the one tells the other (:mod:`workers.stacking.order`); and **which end of a stack a
  moved file lands at**, once a read-back showed it: then a move's reorders need no read first.
- **Autostack's own writes** (:attr:`Memory.journal`, :mod:`workers.stacking.journal`) and the
  files a person took out of a stack (:attr:`Memory.holds`, :mod:`workers.stacking.holds`),
  each in its own module that owns its keys.

Times are Redis's own clock, so every worker on every machine agrees.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict
from typing import Any

import redis
from redis.exceptions import LockError

from workers.frameio.models import Asset, FileAsset, FolderAsset, StackAsset
from workers.stacking.holds import Holds, NoHolds
from workers.stacking.journal import Journal, NoJournal
from workers.stacking.order import Landing, Orientation
from workers.stacking.writes import Write

STACK_KEY = "autostack:stack:{stack_id}"
LISTING_KEY = "autostack:listing:{folder_id}"
GROUP_WRITE_KEY = "autostack:group-write:{name}"
UNSETTLED_KEY = "autostack:unsettled:{stack_id}"  # before 0.2: a flag, without the files
UNSETTLED_FILES_KEY = "autostack:unsettled-files:{stack_id}"  # the files moved in and not yet seen in order
UNSETTLED_TTL_S = 7 * 24 * 3600
FETCH_LOCK = "autostack:listing-fetch:{folder_id}"
FETCH_LOCK_S = 60.0  # longer than any listing takes; a worker that dies frees it by expiry
FETCH_WAIT_S = 10.0  # how long to wait for another worker's listing before fetching anyway
FETCH_POLL_S = 0.05
STACK_TTL_S = 30 * 24 * 3600
# A group's last write only has to outlive the listings fetched before it (AUTOSTACK_LISTING_CACHE_S,
# at most 300 s): a day is ample, and costs nothing beyond it.
GROUP_WRITE_TTL_S = 24 * 3600
CREATED_KEY = "autostack:stack-created:{stack_id}"
CHILDREN_ORDER_KEY = "autostack:learned:children-order"
MOVE_LANDS_KEY = "autostack:learned:move-lands"
ORIENTATIONS: dict[str, Orientation] = {"top_first": "top_first", "bottom_first": "bottom_first"}
LANDINGS: dict[str, Landing] = {"bottom": "bottom", "top": "top"}


class Memory:
    def __init__(self, client: redis.Redis, *, listing_ttl_s: float = 5.0) -> None:
        self.client = client
        self.listing_ttl_s = listing_ttl_s
        self.journal = Journal(client)
        self.holds = Holds(client)

    def now(self) -> float:
        seconds, micros = self.client.time()
        return float(seconds) + float(micros) / 1e6

    # -- stacks ----------------------------------------------------------------------------

    def is_known_stack(self, stack_id: str) -> bool:
        return bool(self.client.exists(STACK_KEY.format(stack_id=stack_id)))

    def remember_write(self, write: Write, group: str, account_id: str) -> None:
        """A write autostack made: its stack is known, the group's shared listings before it are
        stale, and the journal keeps it for undo."""
        pipe = self.client.pipeline(transaction=False)
        pipe.set(STACK_KEY.format(stack_id=write.stack_id), write.folder_id, ex=STACK_TTL_S)
        pipe.set(GROUP_WRITE_KEY.format(name=group), repr(write.at), ex=GROUP_WRITE_TTL_S)
        if write.action == "created":
            pipe.set(CREATED_KEY.format(stack_id=write.stack_id), json.dumps(write.file_ids), ex=STACK_TTL_S)
        pipe.execute()
        self.journal.record(write, account_id)

    def created_order(self, stack_id: str) -> tuple[str, ...]:
        """The files autostack created ``stack_id`` from, bottom to top (empty: it did not)."""
        raw = self.client.get(CREATED_KEY.format(stack_id=stack_id))
        return tuple(str(file_id) for file_id in json.loads(raw)) if raw else ()

    def children_order(self) -> Orientation | None:
        """Which end of a stack's children listing is the head, if a worker learned it."""
        raw = self.client.get(CHILDREN_ORDER_KEY)
        return ORIENTATIONS.get(raw.decode()) if isinstance(raw, bytes) else None

    def learned_children_order(self, orientation: Orientation) -> None:
        self.client.set(CHILDREN_ORDER_KEY, orientation, ex=STACK_TTL_S)

    def move_lands(self) -> Landing | None:
        """Which end of a stack a moved file lands at, if a worker learned it from a read-back."""
        raw = self.client.get(MOVE_LANDS_KEY)
        return LANDINGS.get(raw.decode()) if isinstance(raw, bytes) else None

    def learned_move_lands(self, landing: Landing) -> None:
        self.client.set(MOVE_LANDS_KEY, landing, ex=STACK_TTL_S)

    def forget_move_lands(self) -> None:
        self.client.delete(MOVE_LANDS_KEY)

    def forget_stack(self, stack_id: str) -> None:
        """The stack is gone or emptied: a file moved under its id again is not known stacked."""
        self.client.delete(STACK_KEY.format(stack_id=stack_id))

    def invalidate_folder(self, folder_id: str, groups: Iterable[str]) -> None:
        """Files moved in ``folder_id`` by other means (undo): its shared listing, and any of the
        groups' listings from before now, must not be used."""
        now = repr(self.now())
        pipe = self.client.pipeline(transaction=False)
        pipe.delete(LISTING_KEY.format(folder_id=folder_id))
        for group in groups:
            pipe.set(GROUP_WRITE_KEY.format(name=group), now, ex=GROUP_WRITE_TTL_S)
        pipe.execute()

    def mark_unsettled(self, stack_id: str, file_id: str) -> None:
        """Before a move of ``file_id``: until a read-back of the stack shows it and the stack is
        ordered, a re-run must settle it."""
        key = UNSETTLED_FILES_KEY.format(stack_id=stack_id)
        pipe = self.client.pipeline(transaction=False)
        pipe.sadd(key, file_id)
        pipe.expire(key, UNSETTLED_TTL_S)
        pipe.execute()

    def is_unsettled(self, stack_id: str) -> bool:
        keys = (UNSETTLED_FILES_KEY.format(stack_id=stack_id), UNSETTLED_KEY.format(stack_id=stack_id))
        return bool(self.client.exists(*keys))

    def unsettled_files(self, stack_id: str) -> set[str]:
        """The files moved into ``stack_id`` (or about to be) that no read-back showed in order yet."""
        members: set[bytes] = self.client.smembers(UNSETTLED_FILES_KEY.format(stack_id=stack_id))  # type: ignore[assignment]
        return {member.decode() for member in members}

    def settled(self, stack_id: str, seen: Iterable[str]) -> None:
        """The stack was ordered as a read-back showed it: the moves that read-back showed are
        settled (one it did not show yet, as Frame.io's reads may lag, still needs a run)."""
        pipe = self.client.pipeline(transaction=False)
        pipe.delete(UNSETTLED_KEY.format(stack_id=stack_id))
        if members := list(seen):
            pipe.srem(UNSETTLED_FILES_KEY.format(stack_id=stack_id), *members)
        pipe.execute()

    # -- folder listings -------------------------------------------------------------------

    def listing(self, folder_id: str, group: str, not_before: float) -> list[Asset] | None:
        """A shared listing of ``folder_id`` fetched after ``not_before`` and after the group's
        last write; None when there is no such listing."""
        pipe = self.client.pipeline(transaction=False)
        pipe.get(LISTING_KEY.format(folder_id=folder_id))
        pipe.get(GROUP_WRITE_KEY.format(name=group))
        raw, last_write = pipe.execute()
        if raw is None:
            return None
        entry: dict[str, Any] = json.loads(raw)
        fetched_at = float(entry["at"])
        if fetched_at < not_before or (last_write is not None and fetched_at <= float(last_write)):
            return None
        return [item_asset(item) for item in entry["assets"]]

    def shared_listing(
        self, folder_id: str, group: str, not_before: float, fetch: Callable[[], list[Asset]]
    ) -> tuple[list[Asset], bool]:
        """A listing fresh enough for ``group``: a shared one, or one this worker fetches. Only one
        worker fetches a folder at a time; the others wait for its listing (single flight), since
        one listing of a big folder serves every group whose window closed before it began.
        Returns the listing and whether it came from another worker."""
        deadline = time.monotonic() + FETCH_WAIT_S
        lock = self.client.lock(FETCH_LOCK.format(folder_id=folder_id), timeout=FETCH_LOCK_S, thread_local=False)
        while self.listing_ttl_s > 0:
            shared = self.listing(folder_id, group, not_before)
            if shared is not None:
                return shared, True
            if lock.acquire(blocking=False):
                try:
                    # Another worker may have stored its listing between our look and the lock.
                    shared = self.listing(folder_id, group, not_before)
                    if shared is not None:
                        return shared, True
                    return self._fetch(folder_id, fetch), False
                finally:
                    with contextlib.suppress(LockError):
                        lock.release()
            if time.monotonic() >= deadline:
                break
            time.sleep(FETCH_POLL_S)  # another worker is listing this folder right now
        return self._fetch(folder_id, fetch), False

    def _fetch(self, folder_id: str, fetch: Callable[[], list[Asset]]) -> list[Asset]:
        fetched_at = self.now()  # before the first page: the listing holds all that came before
        assets = fetch()
        self.store_listing(folder_id, assets, fetched_at)
        return assets

    def store_listing(self, folder_id: str, assets: list[Asset], fetched_at: float) -> None:
        if self.listing_ttl_s <= 0:
            return
        entry = {"at": fetched_at, "assets": [asset_item(asset) for asset in assets]}
        self.client.set(LISTING_KEY.format(folder_id=folder_id), json.dumps(entry), px=int(self.listing_ttl_s * 1000))


def asset_item(asset: Asset) -> dict[str, Any]:
    """An asset as JSON-ready data (:func:`item_asset` reads it back)."""
    kind = {FileAsset: "file", StackAsset: "version_stack", FolderAsset: "folder"}[type(asset)]
    return {"type": kind, **asdict(asset)}


def item_asset(item: dict[str, Any]) -> Asset:
    kind = item.pop("type")
    if kind == "file":
        return FileAsset(**item)
    if kind == "version_stack":
        return StackAsset(**item)
    return FolderAsset(**item)


class NoMemory:
    """Remembers nothing: every answer is read from Frame.io (tests, the naive baseline)."""

    journal = NoJournal()
    holds = NoHolds()

    def now(self) -> float:
        return 0.0

    def is_known_stack(self, stack_id: str) -> bool:
        return False

    def remember_write(self, write: Write, group: str, account_id: str) -> None:
        return None

    def created_order(self, stack_id: str) -> tuple[str, ...]:
        return ()

    def children_order(self) -> Orientation | None:
        return None

    def learned_children_order(self, orientation: Orientation) -> None:
        return None

    def move_lands(self) -> Landing | None:
        return None

    def learned_move_lands(self, landing: Landing) -> None:
        return None

    def forget_move_lands(self) -> None:
        return None

    def mark_unsettled(self, stack_id: str, file_id: str) -> None:
        return None

    def is_unsettled(self, stack_id: str) -> bool:
        return False

    def unsettled_files(self, stack_id: str) -> set[str]:
        return set()

    def settled(self, stack_id: str, seen: Iterable[str]) -> None:
        return None

    def listing(self, folder_id: str, group: str, not_before: float) -> list[Asset] | None:
        return None

    def shared_listing(
        self, folder_id: str, group: str, not_before: float, fetch: Callable[[], list[Asset]]
    ) -> tuple[list[Asset], bool]:
        return fetch(), False

    def store_listing(self, folder_id: str, assets: list[Asset], fetched_at: float) -> None:
        return None
