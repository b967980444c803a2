"""The rate limiter applied to the Frame.io client, as its :class:`~workers.frameio.client.CallObserver`.

Before a call, :class:`LimitedCalls` takes one call from the shared limiter. A short wait is
slept inline; a long one raises :class:`Throttled`, so the RQ job hands itself back to RQ's
scheduled registry instead of holding a worker. After a call it feeds Frame.io's ``x-ratelimit-*``
headers to the limiter, and a 429 blocks the endpoint for every worker.

It also counts, in plain dicts for the metrics: calls by (endpoint, status) (status None when no
answer came), seconds waited inline by endpoint, and Throttled raised by endpoint. One instance
per worker process; it is not meant to be shared between threads.
"""

from __future__ import annotations

import email.utils
import logging
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

import httpx
import redis

from workers.frameio.errors import Throttled

log = logging.getLogger("autostack.limiting")

DEFAULT_MAX_INLINE_WAIT_S = 2.0


class Limiter(Protocol):
    """What :class:`LimitedCalls` needs of :class:`workers.frameio.ratelimit.RateLimiter`."""

    def take(self, account_id: str, endpoint: str) -> float: ...

    def learn(
        self,
        account_id: str,
        endpoint: str,
        limit: int | None,
        remaining: int | None,
        window_ms: int | None,
        *,
        success: bool = True,
    ) -> None: ...

    def penalize(self, account_id: str, endpoint: str, retry_after: float | None) -> float: ...


class LimitedCalls:
    """A :class:`~workers.frameio.client.CallObserver` that applies a shared :class:`Limiter`."""

    def __init__(
        self,
        limiter: Limiter,
        *,
        max_inline_wait_s: float = DEFAULT_MAX_INLINE_WAIT_S,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._limiter = limiter
        self._max_inline_wait_s = max_inline_wait_s
        self._sleep = sleep
        self.calls: dict[tuple[str, int | None], int] = {}
        self.waited_s: dict[str, float] = {}
        self.throttled: dict[str, int] = {}

    @contextmanager
    def patience(self, seconds: float) -> Iterator[None]:
        """Within the block, sleep at most ``seconds`` inline (fewer than configured, never more)
        before a call; a longer wait raises :class:`Throttled` at once."""
        configured = self._max_inline_wait_s
        self._max_inline_wait_s = min(configured, seconds)
        try:
            yield
        finally:
            self._max_inline_wait_s = configured

    def before(self, account_id: str, endpoint: str) -> None:
        """Return once a call is granted, after sleeping at most ``max_inline_wait_s`` in all;
        raise :class:`Throttled` when that is not enough."""
        waited = 0.0
        try:
            while (wait := self._limiter.take(account_id, endpoint)) > 0.0:
                if waited + wait > self._max_inline_wait_s:
                    self.throttled[endpoint] = self.throttled.get(endpoint, 0) + 1
                    raise Throttled(endpoint, wait)
                self._sleep(wait)
                waited += wait
        finally:
            if waited:
                self.waited_s[endpoint] = self.waited_s.get(endpoint, 0.0) + waited

    def after(self, account_id: str, endpoint: str, status: int | None, headers: httpx.Headers | None) -> None:
        """Count the call, learn from its headers; after a 429 block the endpoint for everyone."""
        key = (endpoint, status)
        self.calls[key] = self.calls.get(key, 0) + 1
        if status is None:
            return
        try:
            self._feed(account_id, endpoint, status, headers or httpx.Headers())
        except redis.RedisError as exc:
            # The answer matters more than the bookkeeping: keep it, the next take() will fail loudly.
            log.warning("rate limiter bookkeeping failed for %s: %s", endpoint, type(exc).__name__)

    def _feed(self, account_id: str, endpoint: str, status: int, headers: httpx.Headers) -> None:
        limit = _int_header(headers, "x-ratelimit-limit")
        remaining = _int_header(headers, "x-ratelimit-remaining")
        window_ms = _int_header(headers, "x-ratelimit-window")
        self._limiter.learn(account_id, endpoint, limit, remaining, window_ms, success=status != 429)
        if status == 429:
            block = self._limiter.penalize(account_id, endpoint, retry_after_s(headers))
            log.info("429 on %s: blocked for %.1f s", endpoint, block)


def _int_header(headers: httpx.Headers, name: str) -> int | None:
    value = headers.get(name)
    try:
        return int(float(value)) if value is not None else None
    except (ValueError, OverflowError):
        return None


def retry_after_s(headers: httpx.Headers, now: Callable[[], float] = time.time) -> float | None:
    """``Retry-After`` in seconds (a number or an HTTP date), None when absent or unreadable."""
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = email.utils.parsedate_to_datetime(value).timestamp() - now()
        except (TypeError, ValueError):
            return None
    return max(0.0, seconds) if math.isfinite(seconds) else None
