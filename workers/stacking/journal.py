"""The journal of autostack's own writes: what ``undo`` may take back, and nothing else.

Each write (a stack created from files, or a file moved into a stack) is kept once, in an index by
time (a sorted set, for ``autostack undo --since``), and each of its files points at it by the
write's time (the file's latest write, :meth:`Journal.write_for`): a create of ten files is stored
once, not ten times. A file with no entry was stacked by a person. Entries live 90 days. A file
entry written before 0.3 holds the write itself and is still read. For ten minutes each file also
names the stack it was moved into (:meth:`Journal.moved_lately`), so a listing that lags the move
does not make it move again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import redis

from workers.stacking.writes import JournalEntry, Write

WRITE_KEY = "autostack:write:{file_id}"
WRITES_KEY = "autostack:writes"
WRITE_TTL_S = 90 * 24 * 3600
#: The stack each file was moved into lately: a listing read within Frame.io's read lag of the move
#: may still show the file loose, and a plan from it would move it again.
MOVED_KEY = "autostack:moved:{file_id}"
MOVED_TTL_S = 600


class Journal:
    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    def record(self, write: Write, account_id: str) -> None:
        """Keep ``write`` for each of its files and in the index by time; index entries older
        than the journal's lifetime are dropped on the way."""
        pipe = self.client.pipeline(transaction=False)
        for file_id in write.file_ids:
            pipe.set(WRITE_KEY.format(file_id=file_id), repr(write.at), ex=WRITE_TTL_S)
            pipe.set(MOVED_KEY.format(file_id=file_id), write.stack_id, ex=MOVED_TTL_S)
        indexed = json.dumps({"account_id": account_id, **asdict(write)}, sort_keys=True, separators=(",", ":"))
        pipe.zadd(WRITES_KEY, {indexed: write.at})
        pipe.zremrangebyscore(WRITES_KEY, "-inf", f"({write.at - WRITE_TTL_S}")
        pipe.execute()

    def write_for(self, file_id: str) -> Write | None:
        """The latest write that moved ``file_id`` (None: autostack never did, or forgot)."""
        raw: bytes | None = self.client.get(WRITE_KEY.format(file_id=file_id))  # type: ignore[assignment]
        if raw is None:
            return None
        if raw.startswith(b"{"):  # an entry from before 0.3: the write itself
            return _write(json.loads(raw))
        at = raw.decode()
        found: list[bytes] = self.client.zrangebyscore(WRITES_KEY, at, at)  # type: ignore[assignment]
        writes = [_entry(json.loads(item)).write for item in found]
        return next((write for write in reversed(writes) if file_id in write.file_ids), None)

    def forget(self, file_id: str) -> None:
        self.client.delete(WRITE_KEY.format(file_id=file_id), MOVED_KEY.format(file_id=file_id))

    def moved_lately(self, file_ids: Sequence[str]) -> dict[str, str]:
        """Of ``file_ids``, those autostack moved into a stack in the last :data:`MOVED_TTL_S`
        seconds: file id -> stack id."""
        if not file_ids:
            return {}
        found: list[bytes | None] = self.client.mget([MOVED_KEY.format(file_id=file_id) for file_id in file_ids])  # type: ignore[assignment]
        return {file_id: stack.decode() for file_id, stack in zip(file_ids, found, strict=True) if stack is not None}

    def since(self, since: float, folder_id: str | None = None) -> list[JournalEntry]:
        """The writes made at or after ``since`` (Redis time), newest first; only ``folder_id``'s when given."""
        raw: list[bytes] = self.client.zrevrangebyscore(WRITES_KEY, "+inf", since)  # type: ignore[assignment]
        entries = [_entry(json.loads(item)) for item in raw]
        return [entry for entry in entries if folder_id is None or entry.write.folder_id == folder_id]


class NoJournal:
    """Journals nothing (tests, the naive baseline)."""

    def record(self, write: Write, account_id: str) -> None:
        return None

    def moved_lately(self, file_ids: Sequence[str]) -> dict[str, str]:
        return {}


def _write(data: dict[str, Any]) -> Write:
    return Write(**{**data, "file_ids": tuple(data["file_ids"])})


def _entry(data: dict[str, Any]) -> JournalEntry:
    account_id = str(data.pop("account_id", ""))
    return JournalEntry(account_id, _write(data))
