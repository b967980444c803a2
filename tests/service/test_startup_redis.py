"""At start-up, serve and worker say loudly when Redis may lose autostack's work (no AOF, an
evicting policy), and stay quiet when it is set as autostack needs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import redis

from service.processes import autostack_argv, free_port, spawn, start_redis, wait_http, wait_until
from workers.tools.doctor import durability_warning

WARNING = "REDIS MAY LOSE WORK"


def env_for(redis_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "REDIS_URL": redis_url,
        "FRAMEIO_TOKEN": "t",
        "FRAMEIO_WEBHOOK_SECRETS": "whsec",
        "FRAMEIO_BASE_URL": "http://127.0.0.1:9",
        "AUTOSTACK_METRICS_ADDRESS": f"127.0.0.1:{free_port()}",
        "AUTOSTACK_LOG_FORMAT": "text",
        "AUTOSTACK_SWEEP_INTERVAL_S": "0",
    }


def test_no_aof_and_an_evicting_policy_make_one_warning(redis_client: redis.Redis) -> None:
    redis_client.config_set("maxmemory-policy", "allkeys-lru")
    try:
        warning = durability_warning(redis_client)
    finally:
        redis_client.config_set("maxmemory-policy", "noeviction")
    assert warning is not None and warning.startswith(WARNING)
    assert "appendonly is no" in warning and "maxmemory-policy is allkeys-lru" in warning


def test_a_redis_set_as_autostack_needs_makes_none(tmp_path: Path) -> None:
    child, url = start_redis(appendonly=True, data_dir=tmp_path)
    try:
        assert durability_warning(redis.Redis.from_url(url)) is None
    finally:
        child.stop()


def test_a_redis_that_does_not_answer_makes_none() -> None:
    assert durability_warning(redis.Redis(port=free_port(), socket_connect_timeout=0.2)) is None


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_serve_and_worker_log_the_warning_at_start_up(redis_url: str, tmp_path: Path, command: str) -> None:
    port = free_port()
    argv = autostack_argv("serve", "--port", str(port)) if command == "serve" else autostack_argv("worker")
    child = spawn(command, argv, env_for(redis_url), tmp_path)
    try:
        if command == "serve":
            wait_http(child, f"http://127.0.0.1:{port}/healthz")
        wait_until(lambda: WARNING in child.log(), 30, what=f"{command}'s warning about Redis")
    finally:
        child.stop()
    assert child.log().count(WARNING) == 1
