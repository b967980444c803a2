"""The worker's upkeep: back-off, one line per Redis outage, giving up, the liveness verdict."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import redis

from service.upkeep import BACKOFF_MAX_S, RedisAway, backoff_s, liveness_verdict, stamp, stamp_age
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
