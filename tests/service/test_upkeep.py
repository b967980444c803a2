"""The worker's upkeep: back-off, one line per Redis outage, giving up, the liveness verdict."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
import redis

from service.processes import wait_until
from service.upkeep import BACKOFF_MAX_S, RedisAway, Upkeep, backoff_s, liveness_verdict, stamp, stamp_age
from workers.settings import load_settings


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_backoff_doubles_from_half_a_second_and_stops_growing_at_five() -> None:
    assert [backoff_s(attempt) for attempt in (1, 2, 3, 4, 5, 50)] == [0.5, 1.0, 2.0, 4.0, 5.0, BACKOFF_MAX_S]


def test_an_outage_is_logged_once_when_it_starts_and_once_when_it_ends(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    away = RedisAway(60, clock)
    with caplog.at_level(logging.INFO, logger="autostack.worker"):
        for _ in range(5):
            away.failed(redis.ConnectionError("refused"))
        clock.now += 12
        away.reached()
    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) == 2, lines
    assert "Redis unreachable (ConnectionError)" in lines[0] and "AUTOSTACK_REDIS_AWAY_S" in lines[0]
    assert "reachable again after 12.0 s" in lines[1]


def test_the_worker_gives_up_only_after_redis_stayed_away_longer_than_the_limit() -> None:
    clock = Clock()
    away = RedisAway(30, clock)
    away.failed(redis.TimeoutError())
    clock.now += 30
    assert not away.given_up()
    clock.now += 1
    assert away.given_up()
    away.reached()
    assert not away.given_up()  # a new outage starts its own count


def test_the_liveness_verdict_follows_the_stamps_age(tmp_path: Path) -> None:
    path = tmp_path / "alive"
    settings = load_settings({"AUTOSTACK_LIVENESS_FILE": str(path), "AUTOSTACK_LIVENESS_S": "20"})
    code, line = liveness_verdict(settings, 5000.0)
    assert code == 1 and "no liveness stamp" in line
    stamp(path, 4990.0)
    assert stamp_age(path, 5000.0) == pytest.approx(10.0)
    assert liveness_verdict(settings, 5000.0)[0] == 0
    code, line = liveness_verdict(settings, 5021.0)
    assert code == 1 and "last reached Redis 31 s ago" in line and "REDIS_URL" in line


def test_without_a_stamp_file_the_probe_says_it_cannot_check() -> None:
    code, line = liveness_verdict(load_settings({}), 0.0)
    assert code == 2 and "AUTOSTACK_LIVENESS_FILE" in line


class Mover:
    """A stand-in for the DueMover: raises the queued errors first, then succeeds."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.ticks = 0

    def tick(self) -> bool:
        self.ticks += 1
        if self.errors:
            raise self.errors.pop(0)
        return True

    def release(self) -> None:
        pass


def test_the_thread_outlives_an_odd_failure_and_stamps_once_redis_answers(tmp_path: Path) -> None:
    mover = Mover(ValueError("odd"), redis.ConnectionError("refused"))
    upkeep = Upkeep(mover, RedisAway(60), 0.01, tmp_path / "alive")  # type: ignore[arg-type]
    upkeep.start()
    try:
        wait_until(lambda: stamp_age(tmp_path / "alive", time.time()) is not None, 10, what="the first stamp")
    finally:
        upkeep.stop()
    assert mover.ticks >= 3


def test_the_thread_ends_the_worker_with_status_1_once_redis_stayed_away_too_long() -> None:
    exits: list[int] = []
    clock = Clock()
    away = RedisAway(5, clock)

    class Away(Mover):
        def tick(self) -> bool:
            clock.now += 3  # every try takes a while
            raise redis.ConnectionError("refused")

    upkeep = Upkeep(Away(), away, 0.01, None, exit=exits.append)  # type: ignore[arg-type]
    upkeep.start()
    try:
        wait_until(lambda: bool(exits), 20, what="the worker to give up")
    finally:
        upkeep.stop()
    assert exits == [1]
