"""The folder listings a drain leaves to the next drain of its account, in Redis.

A drain that hands over (its run budget spent, the account's create bucket empty for longer than
an inline wait, other accounts waiting for the worker) used to leave with its listings, and the
next drain read every folder again: with Frame.io's real windows a create comes every 6 s, so a
folder of 1,000 files was listed whole (10 pages) per create. The listing a drain keeps is as good
for the next one as it was for itself: its own writes are applied to it, newer arrivals are read
newest first, and a write Frame.io refuses is retried after a fresh read. So a drain leaves its
listings here, and the next one starts from them while they are younger than :data:`KEEP_S`
(counted from the folder's last whole read, so a listing is read whole at least that often, as
one drain's run budget already made sure).

Owns the key ``autostack:drain-listings:<account>`` (a hash: folder id -> JSON), which expires
:data:`KEEP_S` after it was written. Imports nothing that does I/O beyond the Redis client passed in.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import redis

from workers.frameio.models import Asset
from workers.stacking.memory import asset_item, item_asset
from workers.stacking.writes import Write

KEY = "autostack:drain-listings:{account}"
#: How long a folder's listing is used after its last whole read (one drain's run budget).
KEEP_S = 45.0
#: A larger listing is not left (written at every hand-over, it would cost Redis more than the
#: pages it saves): the next drain reads that folder again.
MAX_ASSETS = 5000


@dataclass(frozen=True)
class Kept:
    """A folder's listing as a drain left it."""

    folder_id: str
    assets: tuple[Asset, ...]
    read_at: float  # Redis time the last read of it (a page or whole) began
    listed_at: float  # Redis time its last whole read began
    written: tuple[Write, ...] = ()  # the drains' writes here that a fresh read may not show yet


def save(client: redis.Redis, account_id: str, listings: Iterable[Kept], now: float) -> int:
    """Leave the listings younger than :data:`KEEP_S` and at most :data:`MAX_ASSETS` long for the
    next drain; how many were left."""
    fresh = {
        kept.folder_id: _dump(kept)
        for kept in listings
        if now - kept.listed_at < KEEP_S and len(kept.assets) <= MAX_ASSETS
    }
    key = KEY.format(account=account_id)
    pipe = client.pipeline(transaction=True)
    pipe.delete(key)
    for folder_id, text in fresh.items():
        pipe.hset(key, folder_id, text)
    if fresh:
        pipe.pexpire(key, int(KEEP_S * 1000))
    pipe.execute()
    return len(fresh)


def load(client: redis.Redis, account_id: str, now: float) -> list[Kept]:
    """The listings left by the last drain, younger than :data:`KEEP_S`; an entry that cannot be
    read is left out (the folder is then read afresh)."""
    raw: dict[bytes, bytes] = client.hgetall(KEY.format(account=account_id))  # type: ignore[assignment]
    found = []
    for text in raw.values():
        kept = _read(text)
        if kept is not None and now - kept.listed_at < KEEP_S:
            found.append(kept)
    return found


def _dump(kept: Kept) -> str:
    writes = [
        {"action": w.action, "stack_id": w.stack_id, "file_ids": list(w.file_ids), "at": w.at, "job_id": w.job_id}
        for w in kept.written
    ]
    return json.dumps(
        {
            "folder_id": kept.folder_id,
            "read_at": kept.read_at,
            "listed_at": kept.listed_at,
            "assets": [asset_item(asset) for asset in kept.assets],
            "written": writes,
        }
    )


def _read(text: bytes) -> Kept | None:
    try:
        data: dict[str, Any] = json.loads(text)
        folder_id = str(data["folder_id"])
        writes = tuple(
            Write(w["action"], w["stack_id"], folder_id, tuple(w["file_ids"]), float(w["at"]), w["job_id"])
            for w in data["written"]
        )
        assets = tuple(item_asset(dict(item)) for item in data["assets"])
        return Kept(folder_id, assets, float(data["read_at"]), float(data["listed_at"]), writes)
    except (ValueError, KeyError, TypeError):
        return None
