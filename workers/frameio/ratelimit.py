"""The shared rate limiter: one leaky bucket per (account, endpoint class) in Redis.

Frame.io limits every endpoint class per account with a leaky bucket that refills continuously
(``docs/frameio.md`` §4). We keep the same bucket on our side, shared by every worker on every
machine through Redis, so that we rarely hear a 429 at all:

* a bucket leaks ``calls / window`` per second, Frame.io's rate, and a call is granted while the
  bucket holds at most ``capacity - 1``, where ``capacity = max(1, calls - headroom)``. The
  headroom (1 call by default) leaves one interval (``window / calls``) of slack for a request
  that reaches Frame.io later than the one granted after it. From idle this allows a burst of
  ``capacity`` calls at once, then one call every ``window / calls``. Over any stretch of ``t``
  seconds at most ``capacity + t * calls / window`` calls are granted; in any sliding window of
  length ``window``, at most ``capacity + calls - 1`` (``2 * calls - 2`` with the default
  headroom): the burst plus the refill. That is never more than Frame.io's own bucket accepts;
* every decision is one Lua script on Redis's own clock (``TIME``), so all workers agree;
* :meth:`RateLimiter.learn` adopts Frame.io's ``x-ratelimit-*`` numbers and drains our bucket
  when Frame.io counts more calls than we do (another client on the same account, a lost key);
* :meth:`RateLimiter.penalize` blocks the bucket after a 429, for ``Retry-After`` when given,
  else 1 s doubling on consecutive 429s (a 429 of a call sent before the block does not double);
* keys expire on their own (PEXPIRE); nothing is left of an idle account.

``window_scale`` compresses our own time constants (the configured windows and the default 429
back-off) for tests and benchmarks; numbers that came from Frame.io are never scaled.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import redis


@dataclass(frozen=True)
class Limit:
    """``calls`` per ``window_s`` seconds."""

    calls: int
    window_s: float

    def __post_init__(self) -> None:
        if self.calls < 1 or not self.window_s > 0 or math.isinf(self.window_s):
            raise ValueError(f"a limit needs calls >= 1 and a finite window > 0, not {self.calls}/{self.window_s}")


_PER_MINUTE_10 = Limit(10, 60.0)
_PER_MINUTE_100 = Limit(100, 60.0)

#: The documented limits (SDK 4.0.0 docstrings, "N calls per window per account_user").
DEFAULT_LIMITS: Mapping[str, Limit] = MappingProxyType(
    {
        "create_stack": _PER_MINUTE_10,
        "reorder_stack": _PER_MINUTE_10,
        "move_stack": _PER_MINUTE_10,
        "copy_stack": _PER_MINUTE_10,
        "webhooks_create": _PER_MINUTE_10,
        "actions_create": _PER_MINUTE_10,
        "actions_update": _PER_MINUTE_10,
        "move_file": _PER_MINUTE_100,
        "update_file": _PER_MINUTE_100,
        "delete_file": _PER_MINUTE_100,
        "list_folder_children": _PER_MINUTE_100,
        "show_folder": _PER_MINUTE_100,
        "show_stack": _PER_MINUTE_100,
        "list_stack_children": _PER_MINUTE_100,
        "webhooks_list": _PER_MINUTE_100,
        "me": _PER_MINUTE_100,
        "show_file": Limit(10, 1.0),
        "file_status": Limit(5, 1.0),
        "list_stacks": Limit(5, 1.0),
    }
)

#: For an endpoint we have no number for: the strictest documented class.
UNKNOWN_LIMIT = _PER_MINUTE_10

#: Without Retry-After a 429 blocks for PENALTY_BASE_S, doubling per consecutive 429, at most PENALTY_CAP_S.
PENALTY_BASE_S = 1.0
PENALTY_CAP_S = 60.0

#: Calls of Frame.io's bucket we leave unused: a request may reach Frame.io up to one call interval
#: later than the one granted after it (threads, network) without meeting a 429.
DEFAULT_HEADROOM = 1.0

#: How long a limit learned from Frame.io's headers outlives the last answer that confirmed it.
LEARNED_TTL_S = 24 * 3600.0

# KEYS[1] the bucket hash (level, stamp, block, strikes), KEYS[2] the learned limit (calls, window);
# ARGV[1] configured calls, ARGV[2] configured window (µs), ARGV[3] grace (µs) kept after the
# bucket drains, so a strike count outlives its block. Times are µs on Redis's clock.
_PRELUDE = """
local function now_us()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local function limit_in_force()
  local l = redis.call('HMGET', KEYS[2], 'calls', 'window')
  return tonumber(l[1]) or tonumber(ARGV[1]), tonumber(l[2]) or tonumber(ARGV[2])
end
local function load(now, calls, window)
  local b = redis.call('HMGET', KEYS[1], 'level', 'stamp', 'block', 'strikes')
  local level = tonumber(b[1]) or 0
  local elapsed = math.max(0, now - (tonumber(b[2]) or now))
  return math.max(0, level - elapsed * calls / window), tonumber(b[3]) or 0, tonumber(b[4]) or 0
end
local function num(x)
  return string.format('%.17g', x)
end
local function save(now, level, block, strikes, calls, window)
  redis.call('HSET', KEYS[1], 'level', num(level), 'stamp', num(now), 'block', num(block), 'strikes', strikes)
  local ttl = math.max(level * window / calls, block - now) + tonumber(ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(ttl / 1000) + 1)
end
"""

# ARGV[4] headroom (calls). Returns {wait µs (0 = granted), now µs}. A refusal writes nothing.
_TAKE = (
    _PRELUDE
    + """
local now = now_us()
local calls, window = limit_in_force()
local level, block, strikes = load(now, calls, window)
local capacity = math.max(1, calls - tonumber(ARGV[4]))
local wait = math.max(block - now, (level + 1 - capacity) * window / calls)
if wait > 0.5 then
  return {math.ceil(wait), now}
end
save(now, level + 1, block, strikes, calls, window)
return {0, now}
"""
)

# ARGV[4] limit, ARGV[5] remaining, ARGV[6] window (ms), each '' when unknown; ARGV[7] '1' to clear
# the strikes; ARGV[8] how long (ms) a learned limit is kept.
_LEARN = (
    _PRELUDE
    + """
local now = now_us()
local calls, window = limit_in_force()
local level, block, strikes = load(now, calls, window)
local new_calls = tonumber(ARGV[4]) or calls
local new_window = window
if ARGV[6] ~= '' then new_window = tonumber(ARGV[6]) * 1000 end
if new_calls ~= calls or new_window ~= window then
  calls, window = new_calls, new_window
  if calls == tonumber(ARGV[1]) and window == tonumber(ARGV[2]) then
    redis.call('DEL', KEYS[2])
  else
    redis.call('HSET', KEYS[2], 'calls', num(calls), 'window', num(window))
  end
end
redis.call('PEXPIRE', KEYS[2], ARGV[8])
local remaining = tonumber(ARGV[5])
if remaining and math.floor(calls - level + 1e-9) > remaining then
  level = calls - remaining
end
if ARGV[7] == '1' then strikes = 0 end
save(now, level, block, strikes, calls, window)
return 0
"""
)

# ARGV[4] Retry-After (µs) or '', ARGV[5] base back-off (µs), ARGV[6] its cap (µs). Returns the
# block in force (µs). The bucket is filled, as Frame.io's is when it answers 429.
_PENALIZE = (
    _PRELUDE
    + """
local now = now_us()
local calls, window = limit_in_force()
local level, block, strikes = load(now, calls, window)
local active = block > now
local length
if ARGV[4] ~= '' then
  length = tonumber(ARGV[4])
elseif active then
  length = block - now
else
  length = math.min(tonumber(ARGV[6]), tonumber(ARGV[5]) * 2 ^ strikes)
end
if not active then strikes = strikes + 1 end
block = math.max(block, now + length)
save(now, math.max(level, calls), block, strikes, calls, window)
return math.ceil(block - now)
"""
)

_SUCCEEDED = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'strikes', 0)
end
return 0
"""


@dataclass(frozen=True)
class Attempt:
    """One take: ``wait_s`` is 0.0 when the call was granted; ``at_us`` is Redis's clock then."""

    wait_s: float
    at_us: int

    @property
    def granted(self) -> bool:
        return self.wait_s == 0.0


class RateLimiter:
    """The limiter shared by all workers on one Redis. Cheap to build; one per process is enough."""

    def __init__(
        self,
        client: redis.Redis,
        limits: Mapping[str, Limit] = DEFAULT_LIMITS,
        *,
        window_scale: float = 1.0,
        prefix: str = "autostack:rl",
        headroom: float = DEFAULT_HEADROOM,
    ) -> None:
        if not window_scale > 0 or math.isinf(window_scale):
            raise ValueError(f"window_scale must be a finite number > 0, not {window_scale}")
        if not 0 <= headroom < math.inf:
            raise ValueError(f"headroom must be a finite number >= 0, not {headroom}")
        self._headroom = headroom
        self._limits = dict(limits)
        self._scale = window_scale
        self._prefix = prefix
        self._take = client.register_script(_TAKE)
        self._learn = client.register_script(_LEARN)
        self._penalize = client.register_script(_PENALIZE)
        self._succeeded = client.register_script(_SUCCEEDED)

    def limit_for(self, endpoint: str) -> Limit:
        """The configured (unscaled) limit of an endpoint class."""
        return self._limits.get(endpoint, UNKNOWN_LIMIT)

    def take(self, account_id: str, endpoint: str) -> float:
        """Take one call if one is allowed now (0.0); else take nothing and return the seconds to wait."""
        return self.attempt(account_id, endpoint).wait_s

    def attempt(self, account_id: str, endpoint: str) -> Attempt:
        """:meth:`take`, also telling when Redis decided (for tests and metrics)."""
        args = [*self._args(endpoint), repr(self._headroom)]
        wait_us, at_us = self._take(self._keys(account_id, endpoint), args)
        return Attempt(int(wait_us) / 1e6, int(at_us))

    def learn(
        self,
        account_id: str,
        endpoint: str,
        limit: int | None,
        remaining: int | None,
        window_ms: int | None,
        *,
        success: bool = True,
    ) -> None:
        """Adopt Frame.io's ``x-ratelimit-limit`` / ``-window`` when they differ from ours, drain our
        bucket when Frame.io reports fewer ``-remaining`` than we think (for every worker at once),
        and, unless ``success`` is False (a 429 answer), end a run of consecutive 429s."""
        learned = (_positive(limit), _at_least(remaining, 0), _positive(window_ms), "1" if success else "0")
        self._learn(self._keys(account_id, endpoint), [*self._args(endpoint), *learned, _ms(LEARNED_TTL_S)])

    def penalize(self, account_id: str, endpoint: str, retry_after: float | None) -> float:
        """After a 429: block the (account, endpoint) for ``retry_after`` seconds if given, else for
        1 s doubling on consecutive 429s (at most 60 s, both times ``window_scale``). Returns the
        block now in force, in seconds."""
        given = "" if retry_after is None or retry_after < 0 else str(round(retry_after * 1e6))
        backoff = (str(round(PENALTY_BASE_S * self._scale * 1e6)), str(round(PENALTY_CAP_S * self._scale * 1e6)))
        block_us = self._penalize(self._keys(account_id, endpoint), [*self._args(endpoint), given, *backoff])
        return int(block_us) / 1e6

    def succeeded(self, account_id: str, endpoint: str) -> None:
        """A call went through: the next 429 starts the back-off from 1 s again."""
        self._succeeded(self._keys(account_id, endpoint))

    def _keys(self, account_id: str, endpoint: str) -> list[str]:
        # One hash tag for both keys, so they share a slot on a Redis Cluster.
        base = f"{self._prefix}:{{{account_id}|{endpoint}}}"
        return [f"{base}:bucket", f"{base}:learned"]

    def _args(self, endpoint: str) -> list[str]:
        limit = self.limit_for(endpoint)
        window_us = limit.window_s * self._scale * 1e6
        grace_us = max(window_us, PENALTY_CAP_S * self._scale * 1e6)
        return [str(limit.calls), repr(window_us), repr(grace_us)]


def parse_limits(text: str, base: Mapping[str, Limit] = DEFAULT_LIMITS) -> dict[str, Limit]:
    """``"create_stack=10/60,show_file=10/1"`` (calls per seconds) over ``base``; raises
    ValueError naming the first bad entry. Pass ``base={}`` for the parsed entries alone."""
    limits = dict(base)
    for entry in (part.strip() for part in text.split(",")):
        if entry:
            name, limit = _parse_entry(entry)
            limits[name] = limit
    return limits


def _parse_entry(entry: str) -> tuple[str, Limit]:
    name, _, value = entry.partition("=")
    calls, _, window = value.partition("/")
    try:
        if not name.strip() or not window:
            raise ValueError("expected endpoint=calls/seconds")
        return name.strip(), Limit(int(calls), float(window))
    except ValueError as exc:
        raise ValueError(f"bad rate limit entry {entry!r}: {exc}") from None


def _positive(value: int | None) -> str:
    return str(value) if value is not None and value > 0 else ""


def _at_least(value: int | None, floor: int) -> str:
    return str(value) if value is not None and value >= floor else ""


def _ms(seconds: float) -> str:
    return str(max(1, round(seconds * 1000)))
