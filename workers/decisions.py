"""The decision log: every outcome of every job, with the rule that fired and the reason.

A capped Redis stream (``autostack:decisions``) for the status page and a short per-file list so
``autostack explain --file ID`` answers "why did (or didn't) this file stack?" without a scan; a
decision naming a version stack goes to that stack's short list too (Frame.io's **Why?** on a stack).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import redis

STREAM = "autostack:decisions"
PER_FILE = "autostack:decisions:file:{file_id}"
PER_STACK = "autostack:decisions:stack:{stack_id}"
PER_FILE_KEEP = 20
PER_FILE_TTL_S = 90 * 24 * 3600


@dataclass(frozen=True)
class Decision:
    """One outcome. ``outcome`` is a small closed vocabulary; ``reason`` is for people."""

    account_id: str
    file_id: str
    outcome: str  # stacked | added | nothing | declined | waiting | failed
    reason: str
    code: str = ""
    name: str = ""
    group_key: str = ""
    version: int | None = None
    rule: str = ""
    scope: str = ""  # the rules file's [[scope]] that read the name ("global": none matched; "": not read)
    folder_id: str = ""
    stack_id: str = ""
    event: str = ""
    job_id: str = ""
    dry_run: bool = False
    at: float = field(default_factory=time.time)

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> Decision:
        data: dict[str, Any] = json.loads(text)
        known = {key: value for key, value in data.items() if key in cls.__dataclass_fields__}
        return cls(**known)


def record(client: redis.Redis, decision: Decision, max_entries: int) -> None:
    """Append to the capped stream and to the file's own short history, in one round trip."""
    text = decision.to_json()
    key = PER_FILE.format(file_id=decision.file_id)
    pipe = client.pipeline(transaction=False)
    pipe.xadd(STREAM, {"d": text}, maxlen=max_entries, approximate=True)
    pipe.lpush(key, text)
    pipe.ltrim(key, 0, PER_FILE_KEEP - 1)
    pipe.expire(key, PER_FILE_TTL_S)
    if decision.stack_id:
        stack_key = PER_STACK.format(stack_id=decision.stack_id)
        pipe.lpush(stack_key, text)
        pipe.ltrim(stack_key, 0, PER_FILE_KEEP - 1)
        pipe.expire(stack_key, PER_FILE_TTL_S)
    pipe.execute()


def for_file(client: redis.Redis, file_id: str) -> list[Decision]:
    """The file's decisions, newest first."""
    raw: list[bytes] = client.lrange(PER_FILE.format(file_id=file_id), 0, -1)  # type: ignore[assignment]
    return [Decision.from_json(item) for item in raw]


def for_stack(client: redis.Redis, stack_id: str) -> list[Decision]:
    """The decisions that name the version stack, newest first."""
    raw: list[bytes] = client.lrange(PER_STACK.format(stack_id=stack_id), 0, -1)  # type: ignore[assignment]
    return [Decision.from_json(item) for item in raw]


def latest(client: redis.Redis, count: int) -> list[Decision]:
    """The newest ``count`` decisions, newest first."""
    entries: list[tuple[bytes, dict[bytes, bytes]]] = client.xrevrange(STREAM, count=count)  # type: ignore[assignment]
    return [Decision.from_json(fields[b"d"]) for _, fields in entries if b"d" in fields]
