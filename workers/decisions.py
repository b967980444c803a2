"""The decision log: every outcome of every job, with the rule that fired and the reason.

A capped Redis stream (``autostack:decisions``, at most ``AUTOSTACK_DECISION_LOG_MAX`` entries) for
the status page and a short per-file list (``PER_FILE_KEEP`` entries, kept
``AUTOSTACK_DECISION_RETENTION_DAYS`` after the file's last decision) so ``autostack explain --file
ID`` answers "why did (or didn't) this file stack?" without a scan. A decision is stored as JSON
without the fields left at their defaults: most decisions leave half of them empty.
"""

from __future__ import annotations

import json
import time
from dataclasses import MISSING, asdict, dataclass, field
from typing import Any

import redis

STREAM = "autostack:decisions"
PER_FILE = "autostack:decisions:file:{file_id}"
PER_FILE_KEEP = 20
PER_FILE_TTL_S = 90 * 24 * 3600  # the default of AUTOSTACK_DECISION_RETENTION_DAYS


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
    folder_id: str = ""
    stack_id: str = ""
    event: str = ""
    job_id: str = ""
    dry_run: bool = False
    at: float = field(default_factory=time.time)

    def to_json(self) -> str:
        """Compact JSON without the fields at their defaults (:meth:`from_json` fills them in)."""
        data = {key: value for key, value in asdict(self).items() if key not in _DEFAULTS or value != _DEFAULTS[key]}
        return json.dumps(data, separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> Decision:
        data: dict[str, Any] = json.loads(text)
        known = {key: value for key, value in data.items() if key in cls.__dataclass_fields__}
        return cls(**known)


_DEFAULTS: dict[str, object] = {
    name: spec.default for name, spec in Decision.__dataclass_fields__.items() if spec.default is not MISSING
}


def record(client: redis.Redis, decision: Decision, max_entries: int, keep_s: int = PER_FILE_TTL_S) -> None:
    """Append to the capped stream and to the file's own short history (kept ``keep_s`` after
    its last decision), in one round trip."""
    text = decision.to_json()
    key = PER_FILE.format(file_id=decision.file_id)
    pipe = client.pipeline(transaction=False)
    pipe.xadd(STREAM, {"d": text}, maxlen=max_entries, approximate=True)
    pipe.lpush(key, text)
    pipe.ltrim(key, 0, PER_FILE_KEEP - 1)
    pipe.expire(key, keep_s)
    pipe.execute()


def for_file(client: redis.Redis, file_id: str) -> list[Decision]:
    """The file's decisions, newest first."""
    raw: list[bytes] = client.lrange(PER_FILE.format(file_id=file_id), 0, -1)  # type: ignore[assignment]
    return [Decision.from_json(item) for item in raw]


def latest(client: redis.Redis, count: int) -> list[Decision]:
    """The newest ``count`` decisions, newest first."""
    entries: list[tuple[bytes, dict[bytes, bytes]]] = client.xrevrange(STREAM, count=count)  # type: ignore[assignment]
    return [Decision.from_json(fields[b"d"]) for _, fields in entries if b"d" in fields]
