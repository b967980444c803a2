"""Paused folders: a person said "autostack, leave this folder (and below) alone" (Frame.io's
**Pause here** action), until someone resumes it.

One Redis hash, folder id -> who paused it and when. Whether a folder is paused is read up its
ancestry (:mod:`.scope` walks it), so pausing a folder pauses every folder below it. The check
costs one ``HKEYS`` when nothing is paused. Like a hold, the hash is forgotten ``PAUSE_TTL_S``
after the last pause (nothing autostack writes lives forever).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass

import redis

PAUSED_KEY = "autostack:paused-folders"
PAUSE_TTL_S = 365 * 24 * 3600


@dataclass(frozen=True)
class Pause:
    folder_id: str
    by: str
    at: float


def paused_ancestor(ancestry_ids: Sequence[str], paused: Collection[str]) -> str | None:
    """Pure: the nearest folder of ``ancestry_ids`` (the folder first, then up) that is paused."""
    return next((folder_id for folder_id in ancestry_ids if folder_id in paused), None)


class Pauses:
    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    def pause(self, folder_id: str, by: str, at: float) -> bool:
        """Pause the folder; False when it was paused already (the first pause is kept)."""
        text = json.dumps(asdict(Pause(folder_id, by, at)))
        pipe = self.client.pipeline(transaction=False)
        pipe.hsetnx(PAUSED_KEY, folder_id, text)
        pipe.expire(PAUSED_KEY, PAUSE_TTL_S)
        added, _ = pipe.execute()
        return bool(added)

    def resume(self, folder_id: str) -> bool:
        """Resume the folder; False when it was not paused itself."""
        return bool(self.client.hdel(PAUSED_KEY, folder_id))

    def ids(self) -> set[str]:
        raw: list[bytes] = self.client.hkeys(PAUSED_KEY)  # type: ignore[assignment]
        return {item.decode() for item in raw}

    def get(self, folder_id: str) -> Pause | None:
        raw = self.client.hget(PAUSED_KEY, folder_id)
        return None if raw is None else Pause(**json.loads(raw))
