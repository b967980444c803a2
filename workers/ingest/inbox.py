"""The account inbox: files whose webhook was accepted and that a drain job has not yet decided.

The web tier accepts a delivery with one script (one round trip, atomic): the delivery is marked
seen per (account, file) whatever its event type (``file.ready`` follows
``file.upload.completed`` for every upload and adds nothing a stacker needs), the file goes into
the account's inbox (a sorted set scored by Redis time), and the caller learns whether it must
queue the account's drain job: the drain flag says one is queued or running. Redis persists the
inbox (AOF), so a 2xx is only given for what a drain will see.

A drain takes the inbox in snapshots and removes an entry only once the file has a decision, and
only if no newer delivery for it arrived meanwhile (its score is unchanged). It keeps the flag
alive while it works and drops it, atomically, only when the inbox is empty; a drain that dies
leaves the flag to expire, and the next delivery (or the sweep) queues another.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import redis
from redis.asyncio import Redis as AsyncRedis

from workers.ingest import activity
from workers.ingest.arrival import Arrival

INBOX_KEY = "autostack:inbox:{account}"
EVENTS_KEY = "autostack:inbox-events:{account}"
FLAG_KEY = "autostack:drain:{account}"
DELIVERY_KEY = "autostack:delivery:{account}:{file}"
INBOXES_KEY = "autostack:inboxes"  # accounts whose inbox may hold entries (the sweep checks them)
FLAG_TTL_S = 120

# KEYS: delivery mark, inbox, events hash, drain flag, inboxes set, last-webhook mark (status).
# ARGV: file id, event type, dedupe ttl (s), flag ttl (s), account id, last-webhook ttl (s).
# Returns {accepted (0|1), queue_drain (0|1), accepted_at (ms, string)}.
_ACCEPT = """
local t = redis.call('TIME')
local now_ms = tostring(tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
local accepted = 0
if redis.call('SET', KEYS[1], now_ms, 'NX', 'EX', tonumber(ARGV[3])) then
  accepted = 1
  redis.call('ZADD', KEYS[2], now_ms, ARGV[1])
  redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
  redis.call('SADD', KEYS[5], ARGV[5])
  redis.call('SET', KEYS[6], now_ms, 'EX', tonumber(ARGV[6]))
end
local queue_drain = 0
if redis.call('ZCARD', KEYS[2]) > 0 and redis.call('SET', KEYS[4], now_ms, 'NX', 'EX', tonumber(ARGV[4])) then
  queue_drain = 1
end
return {accepted, queue_drain, now_ms}
"""

# KEYS: inbox, events hash. ARGV: pairs of (file id, score seen in the snapshot).
_REMOVE = """
local removed = 0
for i = 1, #ARGV, 2 do
  local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if score and tonumber(score) <= tonumber(ARGV[i + 1]) then
    redis.call('ZREM', KEYS[1], ARGV[i])
    redis.call('HDEL', KEYS[2], ARGV[i])
    removed = removed + 1
  end
end
return removed
"""

# KEYS: inbox, drain flag, events hash, inboxes set. ARGV: account id.
# Drops the flag when the inbox is empty; returns 1 then, else 0.
_RELEASE = """
if redis.call('ZCARD', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[2])
  redis.call('DEL', KEYS[3])
  redis.call('SREM', KEYS[4], ARGV[1])
  return 1
end
return 0
"""


@dataclass(frozen=True)
class Acceptance:
    accepted: bool  # False: this file's delivery was already accepted (a duplicate)
    queue_drain: bool  # True: no drain is queued or running for the account; the caller queues one
    at: float  # Redis time of the answer, seconds


def delivery_key(account_id: str, file_id: str) -> str:
    return DELIVERY_KEY.format(account=account_id, file=file_id)


class Inbox:
    def __init__(self, client: redis.Redis, account_id: str) -> None:
        self.client = client
        self.account_id = account_id
        self.key = INBOX_KEY.format(account=account_id)
        self.events_key = EVENTS_KEY.format(account=account_id)
        self.flag_key = FLAG_KEY.format(account=account_id)

    def accept(self, file_id: str, event_type: str, dedupe_ttl_s: int) -> Acceptance:
        keys, args = _accept_request(self.account_id, file_id, event_type, dedupe_ttl_s)
        return _acceptance(self.client.eval(_ACCEPT, len(keys), *keys, *args))

    def undo_accept(self, file_id: str) -> None:
        """The drain job could not be queued: forget the delivery mark and the flag, so Frame.io's
        next attempt is taken afresh (the inbox entry stays; a later drain decides it once)."""
        self.client.delete(delivery_key(self.account_id, file_id), self.flag_key)

    def snapshot(self, limit: int) -> list[Arrival]:
        """The oldest ``limit`` entries."""
        pipe = self.client.pipeline(transaction=False)
        pipe.zrange(self.key, 0, limit - 1, withscores=True)
        pipe.hgetall(self.events_key)
        rows, events = pipe.execute()
        kinds = {key.decode(): value.decode() for key, value in events.items()}
        entries = []
        for raw, score in rows:
            file_id = raw.decode()
            entries.append(Arrival(file_id, kinds.get(file_id, ""), score / 1000, score))
        return entries

    def size(self) -> int:
        return int(self.client.zcard(self.key))

    def oldest_at(self) -> float | None:
        """When the longest-waiting entry was accepted (seconds), None when the inbox is empty."""
        rows: list[tuple[bytes, float]] = self.client.zrange(self.key, 0, 0, withscores=True)  # type: ignore[assignment]
        return rows[0][1] / 1000 if rows else None

    def remove(self, entries: Sequence[Arrival]) -> int:
        """Remove decided entries, except those a newer delivery re-scored meanwhile."""
        if not entries:
            return 0
        args: list[str | float] = []
        for entry in entries:
            args += [entry.file_id, entry.score]
        return int(self.client.eval(_REMOVE, 2, self.key, self.events_key, *args))

    def keep_flag(self) -> None:
        """A drain at work: the flag stays while it runs (and while it waits to run again)."""
        self.client.set(self.flag_key, "drain", ex=FLAG_TTL_S)

    def claim(self) -> bool:
        """Take the flag for a new drain when entries wait and no drain holds it (the sweep)."""
        if self.size() == 0:
            return False
        return bool(self.client.set(self.flag_key, "sweep", nx=True, ex=FLAG_TTL_S))

    def close_if_empty(self) -> bool:
        """Drop the flag if the inbox is empty (the drain is done); False when entries remain."""
        keys = [self.key, self.flag_key, self.events_key, INBOXES_KEY]
        return bool(self.client.eval(_RELEASE, len(keys), *keys, self.account_id))


async def accept(client: AsyncRedis, account_id: str, file_id: str, event_type: str, dedupe_ttl_s: int) -> Acceptance:
    """:meth:`Inbox.accept` for the web tier's event loop: one round trip (EVALSHA; the script is
    loaded once per server), no thread."""
    keys, args = _accept_request(account_id, file_id, event_type, dedupe_ttl_s)
    script = client.register_script(_ACCEPT)
    return _acceptance(await script(keys=keys, args=args))


def _accept_request(
    account_id: str, file_id: str, event_type: str, dedupe_ttl_s: int
) -> tuple[list[str], list[str | int]]:
    keys = [
        delivery_key(account_id, file_id),
        INBOX_KEY.format(account=account_id),
        EVENTS_KEY.format(account=account_id),
        FLAG_KEY.format(account=account_id),
        INBOXES_KEY,
        activity.LAST_WEBHOOK_KEY,
    ]
    return keys, [file_id, event_type, dedupe_ttl_s, FLAG_TTL_S, account_id, activity.TTL_S]


def _acceptance(answer: list[int | bytes]) -> Acceptance:
    accepted, queue_drain, at_ms = answer
    return Acceptance(bool(accepted), bool(queue_drain), int(at_ms) / 1000)


def inbox_files(client: redis.Redis) -> int:
    """Files accepted and not yet decided or handed to a job of their own, over every account."""
    return sum(int(client.zcard(INBOX_KEY.format(account=account))) for account in accounts_with_entries(client))


def accounts_with_entries(client: redis.Redis) -> list[str]:
    """Accounts whose inbox may hold entries (for the sweep: a drain that died is replaced)."""
    members: set[bytes] = client.smembers(INBOXES_KEY)  # type: ignore[assignment]
    return sorted(member.decode() for member in members)
