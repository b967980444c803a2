"""``Runtime.platform()``: the answers the doctor stored, read from Redis once per process."""

from __future__ import annotations

import redis

from workers.frameio.platform import PLATFORM_KEY, Platform
from workers.runtime import Runtime
from workers.settings import load_settings
from workers.stacking.stacker import Stacker


def test_the_stored_answers_are_read_once(redis_url: str, redis_client: redis.Redis) -> None:
    redis_client.set(PLATFORM_KEY, Platform(move_lands="top", read_lag_ms=0.0).to_json())
    rt = Runtime(load_settings({}, redis_url=redis_url))
    first = rt.platform()
    redis_client.set(PLATFORM_KEY, Platform(move_lands="bottom").to_json())
    assert first == Platform(move_lands="top", read_lag_ms=0.0)
    assert rt.platform() is first


def test_nothing_stored_or_no_redis_means_nothing_known(redis_url: str, redis_client: redis.Redis) -> None:
    assert Runtime(load_settings({}, redis_url=redis_url)).platform() == Platform()
    unreachable = Runtime(load_settings({}, redis_url="redis://127.0.0.1:1/0"))
    assert unreachable.platform() == Platform()


def test_the_frameio_client_and_its_stackers_use_the_stored_answers(redis_url: str, redis_client: redis.Redis) -> None:
    learned = Platform(children_order="bottom_first", reorder_needs_experimental=False)
    redis_client.set(PLATFORM_KEY, learned.to_json())
    rt = Runtime(load_settings({"FRAMEIO_TOKEN": "t"}, redis_url=redis_url))
    client = rt.frameio()
    assert client.platform == learned
    assert Stacker(client, rt.rules, rt.policy()).platform == learned
