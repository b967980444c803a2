"""The shared limiter on a real redis-server: several processes, learning, penalties, expiry."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from service.processes import wait_until
from workers.frameio.ratelimit import (
    DEFAULT_LIMITS,
    LEARNED_TTL_S,
    UNKNOWN_LIMIT,
    Limit,
    RateLimiter,
    parse_limits,
)

ROOT = Path(__file__).resolve().parents[3]

# Each child takes from the same bucket until Redis's clock passes test:until and prints the
# Redis times of its grants. It re-polls at least every 10 ms, so the processes contend.
HAMMER = """
import json, sys, time
import redis
from workers.frameio.ratelimit import Limit, RateLimiter

url, account, endpoint, calls, window, scale = sys.argv[1:7]
client = redis.Redis.from_url(url)
limiter = RateLimiter(client, {endpoint: Limit(int(calls), float(window))}, window_scale=float(scale))
client.incr("test:ready")
client.blpop(["test:go"], timeout=60)
until = int(client.get("test:until"))
grants = []
while True:
    attempt = limiter.attempt(account, endpoint)
    if attempt.at_us >= until:
        break
    if attempt.granted:
        grants.append(attempt.at_us)
    else:
        time.sleep(min(attempt.wait_s, 0.01))  # pacing: this client obeys the limiter, the subject
print(json.dumps(grants))
"""


@pytest.fixture
def other_client(redis_url: str) -> Iterator[redis.Redis]:
    """A second connection, standing for another worker process or machine."""
    client = redis.Redis.from_url(redis_url)
    try:
        yield client
    finally:
        client.close()


def redis_now_us(client: redis.Redis) -> int:
    seconds, micros = client.time()
    return int(seconds) * 1_000_000 + int(micros)


def run_hammers(
    redis_client: redis.Redis, redis_url: str, processes: int, limit: Limit, scale: float, run_s: float
) -> tuple[list[int], int]:
    """Start the children, release them together, return (sorted grant times in µs, until µs)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [redis_url, "acc", "create_stack", str(limit.calls), str(limit.window_s), str(scale)]
    children = [
        subprocess.Popen([sys.executable, "-c", HAMMER, *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(processes)
    ]
    try:
        wait_until(lambda: int(redis_client.get("test:ready") or 0) == processes, 60, what="the children")
        until = redis_now_us(redis_client) + int(run_s * 1e6)
        redis_client.set("test:until", until)
        redis_client.rpush("test:go", *["go"] * processes)
        outputs = [child.communicate(timeout=60)[0] for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
    assert [child.returncode for child in children] == [0] * processes
    return sorted(t for out in outputs for t in json.loads(out)), until


def max_level(grants: list[int], calls: int, window_us: float) -> float:
    """Replay the grants through a reference leaky bucket; the highest level it reached."""
    level, last, highest = 0.0, grants[0], 0.0
    for at in grants:
        level = max(0.0, level - (at - last) * calls / window_us) + 1.0
        last = at
        highest = max(highest, level)
    return highest


def max_in_sliding_window(grants: list[int], window_us: float) -> int:
    """The most grants in any half-open window [t, t + window)."""
    most, start = 0, 0
    for end, at in enumerate(grants):
        while at - grants[start] >= window_us:
            start += 1
        most = max(most, end - start + 1)
    return most


def test_several_processes_together_never_exceed_the_limit_and_are_not_starved(
    redis_client: redis.Redis, redis_url: str
) -> None:
    limit, scale, run_s = Limit(10, 30.0), 1 / 60, 3.0  # 10 calls per 0.5 s, 20/s sustained
    window_us = limit.window_s * scale * 1e6
    grants, until = run_hammers(redis_client, redis_url, 4, limit, scale, run_s)

    # Safety: the grants fit a bucket of `capacity` (calls less the headroom of one) that leaks
    # calls/window, the algorithm's own promise; so any window of the scaled length holds at most
    # the burst of `capacity` plus the `calls - 1` that leak back in during it.
    capacity = limit.calls - 1
    assert max_level(grants, limit.calls, window_us) <= capacity + 1e-6
    assert max_in_sliding_window(grants, window_us) <= capacity + limit.calls - 1
    # Liveness: from the first grant on, the processes together got close to the most allowed.
    most_allowed = capacity + (until - grants[0]) * limit.calls / window_us
    assert len(grants) >= 0.85 * most_allowed, (len(grants), most_allowed)


@pytest.mark.parametrize(("headroom", "burst", "wait"), [(1.0, 4, 720), (0.0, 5, 720), (2.5, 2, 360), (10.0, 1, 720)])
def test_a_burst_of_calls_less_the_headroom_is_granted_then_one_per_interval(
    redis_client: redis.Redis, headroom: float, burst: int, wait: float
) -> None:
    # 5 calls an hour, one leaks out every 720 s (so the test's own pace does not matter); the
    # bucket admits up to max(1, 5 - headroom).
    limiter = RateLimiter(redis_client, {"show_file": Limit(5, 3600.0)}, headroom=headroom)
    assert [limiter.take("acc", "show_file") for _ in range(burst)] == [0.0] * burst
    assert wait - 5 < limiter.take("acc", "show_file") <= wait


def test_a_refused_take_changes_nothing(redis_client: redis.Redis) -> None:
    limiter = RateLimiter(redis_client, {"create_stack": Limit(2, 60.0)})
    limiter.take("acc", "create_stack")
    before = redis_client.hgetall("autostack:rl:{acc|create_stack}:bucket")
    assert limiter.take("acc", "create_stack") > 29.0
    assert redis_client.hgetall("autostack:rl:{acc|create_stack}:bucket") == before


def test_learned_limits_lower_the_rate_for_every_client(redis_client: redis.Redis, other_client: redis.Redis) -> None:
    ours = {"show_file": Limit(100, 3600.0)}
    worker_a, worker_b = RateLimiter(redis_client, ours), RateLimiter(other_client, ours)
    assert [worker_b.take("acc", "show_file") for _ in range(5)] == [0.0] * 5

    worker_a.learn("acc", "show_file", limit=2, remaining=None, window_ms=3_600_000)

    # Five calls in a bucket of two (one with the headroom) that leaks two an hour: wait until
    # it is empty.
    assert 8900 < worker_b.take("acc", "show_file") <= 9000
    assert redis_client.pttl("autostack:rl:{acc|show_file}:learned") > (LEARNED_TTL_S - 60) * 1000


def test_learning_our_own_numbers_again_forgets_the_learned_ones(redis_client: redis.Redis) -> None:
    limiter = RateLimiter(redis_client, {"show_file": Limit(10, 1.0)})
    limiter.learn("acc", "show_file", limit=20, remaining=None, window_ms=2000)
    assert redis_client.hgetall("autostack:rl:{acc|show_file}:learned") == {b"calls": b"20", b"window": b"2000000"}
    assert [limiter.take("acc", "show_file") for _ in range(19)] == [0.0] * 19

    limiter.learn("acc", "show_file", limit=10, remaining=None, window_ms=1000)
    assert not redis_client.exists("autostack:rl:{acc|show_file}:learned")


def test_fewer_remaining_at_frameio_drains_the_bucket_for_every_client(
    redis_client: redis.Redis, other_client: redis.Redis
) -> None:
    ours = {"show_file": Limit(10, 600.0)}
    worker_a, worker_b = RateLimiter(redis_client, ours), RateLimiter(other_client, ours)
    assert worker_b.take("acc", "show_file") == 0.0

    worker_a.learn("acc", "show_file", limit=10, remaining=0, window_ms=600_000)  # someone else used it up

    assert 115 < worker_b.take("acc", "show_file") <= 120  # full: two intervals with the headroom
    assert not redis_client.exists("autostack:rl:{acc|show_file}:learned")  # the same numbers as ours


def test_more_remaining_at_frameio_never_frees_calls(redis_client: redis.Redis) -> None:
    limiter = RateLimiter(redis_client, {"move_file": Limit(10, 3600.0)})
    assert [limiter.take("acc", "move_file") for _ in range(6)] == [0.0] * 6
    limiter.learn("acc", "move_file", limit=None, remaining=9, window_ms=None)
    assert [limiter.take("acc", "move_file") for _ in range(3)] == [0.0] * 3
    assert limiter.take("acc", "move_file") > 300


def test_nonsense_header_values_are_ignored(redis_client: redis.Redis) -> None:
    limiter = RateLimiter(redis_client, {"move_file": Limit(3, 60.0)})
    limiter.learn("acc", "move_file", limit=0, remaining=-1, window_ms=-5)
    assert not redis_client.exists("autostack:rl:{acc|move_file}:learned")
    assert [limiter.take("acc", "move_file") for _ in range(2)] == [0.0] * 2


def test_a_429_with_retry_after_blocks_every_client_for_that_long(
    redis_client: redis.Redis, other_client: redis.Redis
) -> None:
    worker_a, worker_b = RateLimiter(redis_client), RateLimiter(other_client)  # move_file: 100/min

    assert worker_a.penalize("acc", "move_file", 5.0) == 5.0

    assert 4.0 < worker_b.take("acc", "move_file") <= 5.0
    assert 5.0 < worker_b.penalize("acc", "move_file", 6.0) <= 6.0  # a longer one extends it
    assert worker_b.take("acc", "create_stack") == 0.0
    assert worker_b.take("other", "move_file") == 0.0


def test_a_429_fills_the_bucket_so_calls_resume_at_the_steady_rate(redis_client: redis.Redis) -> None:
    limiter = RateLimiter(redis_client, {"create_stack": Limit(10, 60.0)})
    assert limiter.penalize("acc", "create_stack", 1.0) == 1.0
    assert 11 < limiter.take("acc", "create_stack") <= 12.0  # one call leaks out in 6 s, plus the headroom


def wait_until_granted(limiter: RateLimiter, account: str, endpoint: str) -> None:
    wait_until(lambda: limiter.take(account, endpoint) == 0.0, 10, interval=0.005, what="the block to end")


def test_without_retry_after_the_block_doubles_on_consecutive_429s_and_resets_after_a_success(
    redis_client: redis.Redis,
) -> None:
    # window_scale 0.01: the back-off starts at 10 ms, doubling, at most 600 ms.
    limiter = RateLimiter(redis_client, {"move_file": Limit(100, 1.0)}, window_scale=0.01)
    blocks = []
    for _ in range(8):
        blocks.append(limiter.penalize("acc", "move_file", None))
        wait_until_granted(limiter, "acc", "move_file")
    assert blocks == [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.6, 0.6]

    limiter.succeeded("acc", "move_file")
    assert limiter.penalize("acc", "move_file", None) == 0.01
    wait_until_granted(limiter, "acc", "move_file")
    assert limiter.penalize("acc", "move_file", None) == 0.02
    wait_until_granted(limiter, "acc", "move_file")

    limiter.learn("acc", "move_file", None, None, None, success=False)  # the headers of a 429
    assert limiter.penalize("acc", "move_file", None) == 0.04
    wait_until_granted(limiter, "acc", "move_file")
    limiter.learn("acc", "move_file", None, None, None)  # the headers of a success
    assert limiter.penalize("acc", "move_file", None) == 0.01


def test_429s_of_calls_sent_before_the_block_do_not_double_it(redis_client: redis.Redis) -> None:
    limiter = RateLimiter(redis_client, {"move_file": Limit(100, 1.0)})
    first = limiter.penalize("acc", "move_file", None)
    late = [limiter.penalize("acc", "move_file", None) for _ in range(3)]
    assert first == 1.0
    assert all(0.5 < block <= 1.0 for block in late)  # what is left of the first block


def test_accounts_and_endpoints_are_independent(redis_client: redis.Redis) -> None:
    limiter = RateLimiter(redis_client, {"create_stack": Limit(2, 60.0), "move_file": Limit(2, 60.0)})
    limiter.penalize("acc-1", "create_stack", 30.0)
    limiter.learn("acc-1", "move_file", limit=1, remaining=0, window_ms=600_000)
    assert limiter.take("acc-1", "create_stack") > 29.0
    assert limiter.take("acc-1", "move_file") > 500.0

    for endpoint in ("create_stack", "move_file"):
        assert limiter.take("acc-2", endpoint) == 0.0
        assert limiter.take("acc-2", endpoint) > 29.0


def test_keys_expire_once_the_bucket_has_drained(redis_client: redis.Redis) -> None:
    limiter = RateLimiter(redis_client, {"create_stack": Limit(10, 60.0)}, window_scale=0.01)  # 10 per 0.6 s
    assert [limiter.take("acc", "create_stack") for _ in range(9)] == [0.0] * 9
    ttl = redis_client.pttl("autostack:rl:{acc|create_stack}:bucket")
    assert 0 < ttl <= 1300  # drained in 0.6 s, then kept 0.6 s for the strike count
    wait_until(lambda: redis_client.dbsize() == 0, 10, what="the keys to expire")


def test_unknown_endpoints_get_the_conservative_default(redis_client: redis.Redis) -> None:
    limiter = RateLimiter(redis_client, {})
    burst = UNKNOWN_LIMIT.calls - 1
    assert [limiter.take("acc", "brand_new") for _ in range(burst)] == [0.0] * burst
    interval = UNKNOWN_LIMIT.window_s / UNKNOWN_LIMIT.calls
    assert interval - 1 < limiter.take("acc", "brand_new") <= interval


def test_the_prefix_keeps_limiters_apart(redis_client: redis.Redis) -> None:
    first = RateLimiter(redis_client, {"x": Limit(1, 60.0)}, prefix="one")
    second = RateLimiter(redis_client, {"x": Limit(1, 60.0)}, prefix="two")
    assert (first.take("acc", "x"), second.take("acc", "x")) == (0.0, 0.0)
    assert sorted(redis_client.keys("*")) == [b"one:{acc|x}:bucket", b"two:{acc|x}:bucket"]


def test_the_default_limits_are_the_documented_ones() -> None:
    documented = {
        "create_stack": (10, 60),
        "reorder_stack": (10, 60),
        "move_file": (100, 60),
        "list_folder_children": (100, 60),
        "show_folder": (100, 60),
        "show_stack": (100, 60),
        "list_stack_children": (100, 60),
        "show_file": (10, 1),
        "file_status": (5, 1),
        "list_stacks": (5, 1),
        "update_file": (100, 60),
        "delete_file": (100, 60),
        "move_stack": (10, 60),
        "copy_stack": (10, 60),
        "webhooks_create": (10, 60),
        "actions_create": (10, 60),
        "actions_update": (10, 60),
        "webhooks_list": (100, 60),
        "me": (100, 60),
    }
    assert {name: (limit.calls, limit.window_s) for name, limit in DEFAULT_LIMITS.items()} == documented
    assert (UNKNOWN_LIMIT.calls, UNKNOWN_LIMIT.window_s) == (10, 60.0)


def test_parse_limits_overlays_the_defaults() -> None:
    limits = parse_limits(" create_stack=5/60 , show_file=20/0.5,new_one=3/1,")
    assert limits["create_stack"] == Limit(5, 60.0)
    assert limits["show_file"] == Limit(20, 0.5)
    assert limits["new_one"] == Limit(3, 1.0)
    assert limits["move_file"] == DEFAULT_LIMITS["move_file"]
    assert parse_limits("", base={}) == {}
    assert parse_limits("a=1/2", base={}) == {"a": Limit(1, 2.0)}


@pytest.mark.parametrize(
    "bad", ["create_stack", "create_stack=10", "=10/60", "x=ten/60", "x=10/", "x=0/60", "x=10/0", "x=10/-1", "x=1/inf"]
)
def test_parse_limits_names_the_bad_entry(bad: str) -> None:
    with pytest.raises(ValueError, match=re.escape(f"bad rate limit entry '{bad}'")):
        parse_limits(f"show_file=10/1,{bad},move_file=1/1")


@pytest.mark.parametrize("scale", [0.0, -1.0, float("inf"), float("nan")])
def test_nonsense_scales_and_headrooms_are_refused(redis_client: redis.Redis, scale: float) -> None:
    with pytest.raises(ValueError, match="window_scale"):
        RateLimiter(redis_client, window_scale=scale)
    if scale != 0.0:
        with pytest.raises(ValueError, match="headroom"):
            RateLimiter(redis_client, headroom=scale)
