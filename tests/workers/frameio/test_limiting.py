"""LimitedCalls: inline waits, Throttled, feeding the limiter, and a 429 storm through the real client."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
import redis

from workers.frameio.client import FrameioClient
from workers.frameio.errors import RateLimited, RetryableError, Throttled, is_retryable
from workers.frameio.limiting import LimitedCalls, retry_after_s
from workers.frameio.models import FileAsset
from workers.frameio.ratelimit import Limit, RateLimiter


@dataclass
class ScriptedLimiter:
    """Answers take() from a script of waits and records what it was told."""

    waits: list[float] = field(default_factory=list)
    learned: list[tuple[object, ...]] = field(default_factory=list)
    penalized: list[tuple[str, str, float | None]] = field(default_factory=list)
    fail: bool = False

    def take(self, account_id: str, endpoint: str) -> float:
        return self.waits.pop(0) if self.waits else 0.0

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
        if self.fail:
            raise redis.ConnectionError("gone")
        self.learned.append((account_id, endpoint, limit, remaining, window_ms, success))

    def penalize(self, account_id: str, endpoint: str, retry_after: float | None) -> float:
        self.penalized.append((account_id, endpoint, retry_after))
        return retry_after or 1.0


def observer(waits: list[float], max_inline_wait_s: float = 2.0) -> tuple[LimitedCalls, ScriptedLimiter, list[float]]:
    slept: list[float] = []
    limiter = ScriptedLimiter(list(waits))
    return LimitedCalls(limiter, max_inline_wait_s=max_inline_wait_s, sleep=slept.append), limiter, slept


# -- before(): inline waits and Throttled ----------------------------------------------------


@pytest.mark.parametrize(
    ("waits", "slept"),
    [([], []), ([0.3, 0.0], [0.3]), ([0.3, 0.5, 0.0], [0.3, 0.5]), ([2.0, 0.0], [2.0]), ([1.2, 0.8, 0.0], [1.2, 0.8])],
)
def test_short_waits_are_slept_inline(waits: list[float], slept: list[float]) -> None:
    calls, _, recorded = observer(waits)
    calls.before("acc", "show_file")
    assert recorded == slept
    assert calls.waited_s.get("show_file", 0.0) == pytest.approx(sum(slept))
    assert calls.throttled == {}


@pytest.mark.parametrize(
    ("waits", "slept", "throttled_wait"),
    [([5.0], [], 5.0), ([2.01], [], 2.01), ([1.5, 1.5], [1.5], 1.5), ([0.5, 0.5, 0.5, 0.6], [0.5, 0.5, 0.5], 0.6)],
)
def test_long_waits_raise_throttled_with_the_wait(
    waits: list[float], slept: list[float], throttled_wait: float
) -> None:
    calls, _, recorded = observer(waits)
    with pytest.raises(Throttled) as caught:
        calls.before("acc", "create_stack")
    error = caught.value
    assert recorded == slept  # never more than max_inline_wait_s in all
    assert (error.endpoint, error.status, error.retry_after, error.wait) == (
        "create_stack",
        None,
        throttled_wait,
        throttled_wait,
    )
    assert isinstance(error, RateLimited)
    assert isinstance(error, RetryableError)
    assert is_retryable(error)
    assert calls.throttled == {"create_stack": 1}


def test_no_inline_wait_at_all_when_the_budget_is_zero() -> None:
    calls, _, recorded = observer([0.01], max_inline_wait_s=0.0)
    with pytest.raises(Throttled):
        calls.before("acc", "show_file")
    assert recorded == []


def test_within_a_patience_block_a_wait_longer_raises_at_once_and_the_budget_comes_back_after() -> None:
    calls, _, recorded = observer([0.3, 0.3, 0.0], max_inline_wait_s=2.0)
    with calls.patience(0.0), pytest.raises(Throttled):
        calls.before("acc", "create_stack")
    assert recorded == []
    calls.before("acc", "create_stack")  # the configured 2 s again: 0.3 is slept
    assert recorded == [0.3]


def test_a_patience_block_never_raises_the_configured_budget() -> None:
    calls, _, recorded = observer([1.0], max_inline_wait_s=0.5)
    with calls.patience(5.0), pytest.raises(Throttled):
        calls.before("acc", "create_stack")
    assert recorded == []


# -- after(): counting and feeding the limiter --------------------------------------------------

RATE_HEADERS = {"x-ratelimit-limit": "100", "x-ratelimit-remaining": "42", "x-ratelimit-window": "60000"}


def test_a_success_feeds_the_headers_to_the_limiter_and_is_counted() -> None:
    calls, limiter, _ = observer([])
    calls.after("acc", "move_file", 200, httpx.Headers(RATE_HEADERS))
    calls.after("acc", "move_file", 200, httpx.Headers())
    calls.after("acc", "move_file", 404, httpx.Headers(RATE_HEADERS))
    assert limiter.learned == [
        ("acc", "move_file", 100, 42, 60000, True),
        ("acc", "move_file", None, None, None, True),
        ("acc", "move_file", 100, 42, 60000, True),
    ]
    assert limiter.penalized == []
    assert calls.calls == {("move_file", 200): 2, ("move_file", 404): 1}


@pytest.mark.parametrize(
    ("retry_after", "expected"), [({"retry-after": "7"}, 7.0), ({}, None), ({"retry-after": "soon"}, None)]
)
def test_a_429_learns_without_success_and_penalizes(retry_after: dict[str, str], expected: float | None) -> None:
    calls, limiter, _ = observer([])
    calls.after(
        "acc", "create_stack", 429, httpx.Headers({**RATE_HEADERS, "x-ratelimit-remaining": "0", **retry_after})
    )
    assert limiter.learned == [("acc", "create_stack", 100, 0, 60000, False)]
    assert limiter.penalized == [("acc", "create_stack", expected)]
    assert calls.calls == {("create_stack", 429): 1}


def test_no_answer_is_counted_and_teaches_nothing() -> None:
    calls, limiter, _ = observer([])
    calls.after("acc", "show_file", None, None)
    assert calls.calls == {("show_file", None): 1}
    assert (limiter.learned, limiter.penalized) == ([], [])


def test_unreadable_headers_are_ignored() -> None:
    calls, limiter, _ = observer([])
    junk = {"x-ratelimit-limit": "many", "x-ratelimit-remaining": "", "x-ratelimit-window": "1e999"}
    calls.after("acc", "show_file", 200, httpx.Headers(junk))
    assert limiter.learned == [("acc", "show_file", None, None, None, True)]


def test_a_redis_failure_after_the_call_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    calls, limiter, _ = observer([])
    limiter.fail = True
    with caplog.at_level(logging.WARNING, logger="autostack.limiting"):
        calls.after("acc", "show_file", 200, httpx.Headers(RATE_HEADERS))
    assert "ConnectionError" in caplog.text
    assert calls.calls == {("show_file", 200): 1}


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert retry_after_s(httpx.Headers({"retry-after": "2.5"})) == 2.5
    assert retry_after_s(httpx.Headers({"retry-after": "-3"})) == 0.0
    assert retry_after_s(httpx.Headers({"retry-after": "nan"})) is None
    date = {"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}
    assert retry_after_s(httpx.Headers(date), now=lambda: 1445412480.0 - 30) == 30.0
    assert retry_after_s(httpx.Headers()) is None


# -- with the real client and the real limiter ------------------------------------------------


def file_json(file_id: str) -> dict[str, object]:
    return {"id": file_id, "name": f"{file_id}.mov", "type": "file", "status": "uploaded", "parent_id": "folder"}


def test_throttled_is_raised_before_anything_is_sent(redis_client: redis.Redis) -> None:
    sent: list[httpx.Request] = []
    limiter = RateLimiter(redis_client)
    limiter.penalize("acc", "create_stack", 30.0)
    client = FrameioClient(
        "https://frameio.test",
        lambda: "tok",
        transport=httpx.MockTransport(lambda request: _record(sent, request)),
        observer=LimitedCalls(limiter, sleep=_must_not_sleep),
    )
    with pytest.raises(Throttled) as caught:
        client.create_stack("acc", "folder", ["a", "b"])
    assert 29.0 < caught.value.wait <= 30.0
    assert sent == []


class FakeFrameio:
    """A MockTransport handler with Frame.io's leaky bucket; it starts full (someone else used the
    account), so the first wave of calls meets a 429 storm."""

    def __init__(self, calls: int, window_s: float, retry_after: str | None) -> None:
        self.calls, self.window_s, self.retry_after = calls, window_s, retry_after
        self.level, self.stamp = float(calls), time.monotonic()
        self.statuses: Counter[int] = Counter()
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            now = time.monotonic()
            self.level = max(0.0, self.level - (now - self.stamp) * self.calls / self.window_s)
            self.stamp = now
            allowed = self.level + 1.0 <= self.calls + 1e-9
            self.level += 1.0 if allowed else 0.0
            status = 200 if allowed else 429
            self.statuses[status] += 1
            remaining = max(0, math.floor(self.calls - self.level + 1e-9))
        headers = {
            "x-ratelimit-limit": str(self.calls),
            "x-ratelimit-remaining": str(remaining),
            "x-ratelimit-window": str(round(self.window_s * 1000)),
        }
        if allowed:
            return httpx.Response(200, headers=headers, json={"data": file_json(request.url.path.rsplit("/", 1)[-1])})
        if self.retry_after is not None:
            headers["retry-after"] = self.retry_after
        return httpx.Response(429, headers=headers, json={"errors": [{"detail": "slow down"}]})


@pytest.fixture
def clients(redis_url: str, redis_client: redis.Redis) -> Iterator[list[redis.Redis]]:
    """One Redis connection per simulated worker."""
    made = [redis.Redis.from_url(redis_url) for _ in range(WORKERS)]
    try:
        yield made
    finally:
        for client in made:
            client.close()


WORKERS, CALLS_EACH = 6, 10


@pytest.mark.parametrize("retry_after", [None, "1"])
def test_a_429_storm_converges(clients: list[redis.Redis], retry_after: str | None) -> None:
    # Frame.io allows 10 calls per 0.2 s; we start out believing in 100 per second.
    frameio = FakeFrameio(10, 0.2, retry_after)
    transport = httpx.MockTransport(frameio)
    observers = [
        LimitedCalls(RateLimiter(client, {"show_file": Limit(100, 10.0)}, window_scale=0.1)) for client in clients
    ]
    results: list[list[FileAsset]] = [[] for _ in range(WORKERS)]
    failures: list[BaseException] = []
    start = threading.Barrier(WORKERS)

    def worker(index: int) -> None:
        client = FrameioClient("https://frameio.test", lambda: "tok", transport=transport, observer=observers[index])
        try:
            start.wait(10)
            for call in range(CALLS_EACH):
                results[index].append(call_until_answered(client, f"f{index}-{call}"))
        except BaseException as exc:
            failures.append(exc)
        finally:
            client.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads)
    assert failures == []

    assert [[f.id for f in got] for got in results] == [
        [f"f{i}-{c}" for c in range(CALLS_EACH)] for i in range(WORKERS)
    ]
    assert frameio.statuses[200] == WORKERS * CALLS_EACH
    # The storm is the first wave (at most one 429 per worker), plus at most a couple of strays.
    assert frameio.statuses[429] <= WORKERS + 2, frameio.statuses
    assert sum(o.calls.get(("show_file", 429), 0) for o in observers) == frameio.statuses[429]
    assert sum(o.waited_s.get("show_file", 0.0) for o in observers) > 0.0


def call_until_answered(client: FrameioClient, file_id: str) -> FileAsset:
    """What a job does on a 429: go again; the shared limiter holds the next call back."""
    for _ in range(50):
        try:
            return client.show_file("acc", file_id)
        except RateLimited as exc:
            if isinstance(exc, Throttled):
                raise
    raise AssertionError(f"{file_id}: still rate limited after 50 tries")


def _record(sent: list[httpx.Request], request: httpx.Request) -> httpx.Response:
    sent.append(request)
    return httpx.Response(500)


def _must_not_sleep(seconds: float) -> None:
    pytest.fail(f"slept {seconds} s inline")
