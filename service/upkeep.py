"""A worker's upkeep thread: moves due jobs, rides out a Redis outage, stamps its liveness.

Every ``AUTOSTACK_DUE_INTERVAL_S`` the thread runs a tick of the worker's
:class:`~workers.ingest.due.DueMover` (so due jobs move whichever worker is alive) and, once the tick
reached Redis, writes the time to ``AUTOSTACK_LIVENESS_FILE``: ``autostack worker --alive`` (the
liveness probe) fails when that stamp is older than ``AUTOSTACK_LIVENESS_S``, which happens when
Redis is gone or the worker hangs.

When Redis does not answer, :class:`RedisAway` logs one line naming the cause, the back-off and
when the worker gives up; the thread retries with a doubling back-off (0.5 s to 5 s). Once Redis
has been away ``AUTOSTACK_REDIS_AWAY_S`` the worker exits with status 1 so that its supervisor
(Kubernetes, compose) starts it afresh; RQ's own loop, meanwhile, keeps retrying too (the worker
class routes its own Redis errors through the same :class:`RedisAway`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import redis

from workers.ingest.due import DueMover
from workers.settings import Settings

log = logging.getLogger("autostack.worker")

BACKOFF_FIRST_S = 0.5
BACKOFF_MAX_S = 5.0
REDIS_ERRORS = (redis.ConnectionError, redis.TimeoutError)


def backoff_s(attempt: int) -> float:
    """The wait before retry number ``attempt`` (1, 2, ...): doubling from 0.5 s, at most 5 s."""
    return min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2.0 ** min(16, max(0, attempt - 1)))


@dataclass
class RedisAway:
    """Tracks one outage of Redis as a worker sees it; one log line when it starts and one when it ends."""

    limit_s: float
    clock: Callable[[], float] = time.monotonic
    since: float | None = None
    attempts: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def failed(self, error: BaseException) -> float:
        """Note a failed contact; the seconds to wait before the next try."""
        with self._lock:
            now = self.clock()
            if self.since is None:
                self.since = now
                log.error(
                    "Redis unreachable (%s); retrying with backoff up to %.0f s; the worker exits if it stays "
                    "away %.0f s (AUTOSTACK_REDIS_AWAY_S), and its liveness probe fails meanwhile",
                    type(error).__name__,
                    BACKOFF_MAX_S,
                    self.limit_s,
                )
            self.attempts += 1
            return backoff_s(self.attempts)

    def reached(self) -> None:
        """Note a successful contact, ending an outage if there was one."""
        with self._lock:
            if self.since is not None:
                log.warning("Redis reachable again after %.1f s", self.clock() - self.since)
            self.since, self.attempts = None, 0

    def given_up(self) -> bool:
        """Redis has been away longer than the limit."""
        with self._lock:
            return self.since is not None and self.clock() - self.since > self.limit_s


def _exit_now(code: int) -> None:
    """End the process at once (from a thread; RQ's loop may be waiting on a Redis that is gone)."""
    logging.shutdown()
    os._exit(code)


def stamp(path: Path, at: float) -> None:
    """Write the liveness stamp (wall time) atomically."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(f"{at:.3f}\n")
    partial.replace(path)


def stamp_age(path: Path, now: float) -> float | None:
    """Seconds since the worker last reached Redis; None when there is no stamp."""
    try:
        return now - float(path.read_text().strip())
    except (OSError, ValueError):
        return None


@dataclass
class Upkeep:
    """The thread; :meth:`start` once the worker is built, :meth:`stop` when it ends."""

    mover: DueMover
    away: RedisAway
    interval_s: float
    liveness_file: Path | None
    exit: Callable[[int], None] = _exit_now
    stopped: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def start(self) -> None:
        self.thread = threading.Thread(target=self._run, name="autostack-upkeep", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stopped.set()
        if self.thread is not None:
            self.thread.join(5)
        with contextlib.suppress(*REDIS_ERRORS):  # else the lease expires on its own
            self.mover.release()

    def _run(self) -> None:
        wait = self.interval_s
        while not self.stopped.wait(wait):
            wait = self.interval_s
            try:
                self.mover.tick()
            except REDIS_ERRORS as exc:
                wait = self.away.failed(exc)
            except Exception as exc:  # the thread must outlive any one tick; the type only: no secrets
                wait = min(BACKOFF_MAX_S, 4 * self.interval_s)
                log.warning("moving due jobs failed (%s); trying again in %.1f s", type(exc).__name__, wait)
            else:
                self.away.reached()
                self._stamp()
            if self.away.given_up():
                log.error(
                    "Redis unreachable for more than %.0f s (AUTOSTACK_REDIS_AWAY_S): the worker exits with "
                    "status 1 so that its supervisor starts it again",
                    self.away.limit_s,
                )
                self.exit(1)
                return

    def _stamp(self) -> None:
        if self.liveness_file is None:
            return
        try:
            stamp(self.liveness_file, time.time())
        except OSError as exc:
            log.warning("cannot write the liveness stamp %s: %s", self.liveness_file, exc.strerror)


def liveness_verdict(settings: Settings, now: float) -> tuple[int, str]:
    """``autostack worker --alive``: (exit code, one line). 0 while the worker's stamp is fresh;
    1 when it is older than ``AUTOSTACK_LIVENESS_S`` (Redis away, or the worker hung) or missing;
    2 when no stamp file is configured."""
    if not settings.autostack_liveness_file:
        return 2, "not checked: AUTOSTACK_LIVENESS_FILE is not set (set it for the worker and its probe alike)"
    path = Path(settings.autostack_liveness_file)
    age = stamp_age(path, now)
    if age is None:
        return 1, f"not alive: no liveness stamp at {path} yet (the worker has not reached Redis since it started)"
    if age > settings.autostack_liveness_s:
        return 1, (
            f"not alive: the worker last reached Redis {age:.0f} s ago (AUTOSTACK_LIVENESS_S is "
            f"{settings.autostack_liveness_s:g}); check REDIS_URL and that Redis runs"
        )
    return 0, f"alive: the worker reached Redis {age:.1f} s ago"
