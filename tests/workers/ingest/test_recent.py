"""The account's recent arrivals on a real Redis: kept across drain jobs, per account, trimmed to
two coalescing windows, and never kept for long."""

from __future__ import annotations

import redis

from workers.ingest import recent
from workers.ingest.arrival import Arrival


def arrival(file_id: str, at: float) -> Arrival:
    return Arrival(file_id, "file.upload.completed", at, at * 1000)


def test_arrivals_noted_by_one_drain_are_seen_by_the_next(redis_client: redis.Redis) -> None:
    recent.note(redis_client, "acct", [arrival("f1", 100.0)], now=100.1, window_s=2.0)
    seen = recent.note(redis_client, "acct", [arrival("f2", 101.0)], now=101.1, window_s=2.0)
    assert seen == {"f1": 100.0, "f2": 101.0}


def test_each_account_has_its_own_arrivals(redis_client: redis.Redis) -> None:
    recent.note(redis_client, "acct-a", [arrival("f1", 100.0)], now=100.1, window_s=2.0)
    assert recent.note(redis_client, "acct-b", [], now=100.2, window_s=2.0) == {}


def test_arrivals_older_than_two_windows_are_dropped(redis_client: redis.Redis) -> None:
    recent.note(redis_client, "acct", [arrival("f1", 100.0), arrival("f2", 103.0)], now=103.0, window_s=2.0)
    assert recent.note(redis_client, "acct", [], now=104.5, window_s=2.0) == {"f2": 103.0}


def test_the_set_expires_soon_after_its_span(redis_client: redis.Redis) -> None:
    recent.note(redis_client, "acct", [arrival("f1", 100.0)], now=100.0, window_s=2.0)
    ttl_ms = redis_client.pttl(recent.KEY.format(account="acct"))
    assert 0 < ttl_ms <= 5000


def test_no_window_keeps_nothing(redis_client: redis.Redis) -> None:
    assert recent.note(redis_client, "acct", [arrival("f1", 100.0)], now=100.0, window_s=0.0) == {}
    assert not redis_client.exists(recent.KEY.format(account="acct"))
