"""The decision log: every outcome of every job, with the rule that fired and the reason.

A capped Redis stream (``autostack:decisions``: the last day, at most ``AUTOSTACK_DECISION_LOG_MAX``
entries) for the status page and a short per-file list (``PER_FILE_KEEP`` entries, kept
``AUTOSTACK_DECISION_RETENTION_DAYS`` after the file's last decision) so ``autostack explain --file
ID`` answers "why did (or didn't) this file stack?" without a scan. A decision is stored as JSON
with one-letter keys and without the fields left at their defaults: most decisions leave half of
them empty. A version stack keeps the ids of the files whose decisions named it (Frame.io's
**Why?** on a stack reads their histories), not copies of the decisions.
"""

from __future__ import annotations

import json
import time
from dataclasses import MISSING, asdict, dataclass, field
from typing import Any

import redis

STREAM = "autostack:decisions"
PER_FILE = "autostack:decisions:file:{file_id}"
PER_STACK = "autostack:decisions:stack:{stack_id}"
PER_FILE_KEEP = 20
PER_FILE_TTL_S = 90 * 24 * 3600  # the default of AUTOSTACK_DECISION_RETENTION_DAYS
# The stream only answers "what happened lately" (status, the account an undo acts in): entries a
# day old are trimmed as new ones come (a quiet Redis keeps its last entries).
STREAM_KEEP_S = 24 * 3600


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

    def to_json(self, *, without: tuple[str, ...] = ()) -> str:
        """Compact JSON: each field under its one-letter key (:data:`SHORT`), without the fields at
        their stored defaults (:data:`STORED_DEFAULTS`; :meth:`from_json` fills them in) and without
        the fields named in ``without`` (the reader knows them: the per-file history's key names
        the file); the time to the millisecond."""
        fields = {**asdict(self), "at": round(self.at, 3)}
        data = {
            SHORT[key]: value
            for key, value in fields.items()
            if key not in without and (key not in STORED_DEFAULTS or value != STORED_DEFAULTS[key])
        }
        return json.dumps(data, separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes, **known_elsewhere: str) -> Decision:
        """A decision from :meth:`to_json`'s form, or with the field names as keys (as written before
        the one-letter keys, when only the dataclass's defaults were left out)."""
        data: dict[str, Any] = json.loads(text)
        short = SHORT["outcome"] in data  # every decision has an outcome
        known = {_LONG.get(key, key): value for key, value in data.items()}
        fields = {key: value for key, value in known.items() if key in cls.__dataclass_fields__}
        defaults = {key: STORED_DEFAULTS[key] for key in _STORED_ONLY} if short else {}
        return cls(**{**defaults, **known_elsewhere, **fields})


#: The stored key of each field. A year of decisions is most of what autostack keeps in Redis, and
#: the field names were a fifth of each line.
SHORT = {
    "account_id": "a",
    "file_id": "f",
    "outcome": "o",
    "reason": "r",
    "code": "c",
    "name": "n",
    "group_key": "g",
    "version": "v",
    "rule": "u",
    "scope": "s",
    "folder_id": "d",
    "stack_id": "k",
    "event": "e",
    "job_id": "j",
    "dry_run": "y",
    "at": "t",
}
_LONG = {short: name for name, short in SHORT.items()}


_DEFAULTS: dict[str, object] = {
    name: spec.default for name, spec in Decision.__dataclass_fields__.items() if spec.default is not MISSING
}
#: Values left out of a stored line: the dataclass's defaults, the event most files are decided on
#: and the scope of a rules file without [[scope]]s (a line is stored a few hundred bytes long,
#: where each allocation size class is 64 B wide).
STORED_DEFAULTS: dict[str, object] = {**_DEFAULTS, "event": "file.upload.completed", "scope": "global"}
_STORED_ONLY = tuple(key for key, value in STORED_DEFAULTS.items() if _DEFAULTS.get(key) != value)


# KEYS: the file's history. ARGV: the decision's JSON, entries kept, TTL (s).
# The history is one string of JSON lines, newest first (a list, as written before 0.3, is read and
# replaced): a string costs a quarter less than a list of one entry, and most files have one.
_PREPEND = """
local old = ''
local kind = redis.call('TYPE', KEYS[1])['ok']
if kind == 'list' then
  old = table.concat(redis.call('LRANGE', KEYS[1], 0, -1), '\\n')
  redis.call('DEL', KEYS[1])
elseif kind == 'string' then
  old = redis.call('GET', KEYS[1])
end
local text = ARGV[1]
if tonumber(ARGV[2]) <= 1 then old = '' end
if old ~= '' then
  local kept, at = 1, 0
  while kept < tonumber(ARGV[2]) do
    at = string.find(old, '\\n', at + 1, true)
    if not at then break end
    kept = kept + 1
  end
  if at and kept >= tonumber(ARGV[2]) then old = string.sub(old, 1, at - 1) end
  text = text .. '\\n' .. old
end
redis.call('SET', KEYS[1], text, 'EX', tonumber(ARGV[3]))
"""


def record(client: redis.Redis, decision: Decision, max_entries: int, keep_s: int = PER_FILE_TTL_S) -> None:
    """Append to the capped stream and to the file's own short history (kept ``keep_s`` after
    its last decision), in one round trip."""
    key = PER_FILE.format(file_id=decision.file_id)
    pipe = client.pipeline(transaction=False)
    pipe.xadd(STREAM, {"d": decision.to_json()}, maxlen=max_entries, approximate=True)
    pipe.xtrim(STREAM, minid=str(max(0, int((decision.at - STREAM_KEEP_S) * 1000))), approximate=False)
    pipe.eval(_PREPEND, 1, key, decision.to_json(without=("file_id",)), PER_FILE_KEEP, keep_s)
    if decision.stack_id:
        stack_key = PER_STACK.format(stack_id=decision.stack_id)
        pipe.lrem(stack_key, 0, decision.file_id)
        pipe.lpush(stack_key, decision.file_id)
        pipe.ltrim(stack_key, 0, PER_FILE_KEEP - 1)
        pipe.expire(stack_key, keep_s)
    pipe.execute()


def for_file(client: redis.Redis, file_id: str) -> list[Decision]:
    """The file's decisions, newest first."""
    key = PER_FILE.format(file_id=file_id)
    try:
        raw: bytes | None = client.get(key)  # type: ignore[assignment]
        lines = raw.split(b"\n") if raw else []
    except redis.ResponseError:  # WRONGTYPE: a list written before 0.3, not yet replaced
        lines = client.lrange(key, 0, -1)  # type: ignore[assignment]
    return [Decision.from_json(line, file_id=file_id) for line in lines]


def for_stack(client: redis.Redis, stack_id: str) -> list[Decision]:
    """The decisions that name the version stack, newest first (from the histories of the files
    they were about)."""
    file_ids: list[bytes] = client.lrange(PER_STACK.format(stack_id=stack_id), 0, -1)  # type: ignore[assignment]
    found = [d for file_id in file_ids for d in for_file(client, file_id.decode()) if d.stack_id == stack_id]
    return sorted(found, key=lambda d: d.at, reverse=True)[:PER_FILE_KEEP]


def latest(client: redis.Redis, count: int) -> list[Decision]:
    """The newest ``count`` decisions, newest first."""
    entries: list[tuple[bytes, dict[bytes, bytes]]] = client.xrevrange(STREAM, count=count)  # type: ignore[assignment]
    return [Decision.from_json(fields[b"d"]) for _, fields in entries if b"d" in fields]
