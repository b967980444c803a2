"""Fixtures of the command tests that read the sandbox through the shared rate limiter."""

from __future__ import annotations

import pytest
import redis

from tests.workers.conftest import InProcessSandbox
from workers.runtime import Runtime
from workers.settings import load_settings


@pytest.fixture
def runtime_for(sandbox: InProcessSandbox, redis_url: str, redis_client: redis.Redis) -> Runtime:
    environment = {
        "REDIS_URL": redis_url,
        "FRAMEIO_TOKEN": sandbox.state["token"],
        "FRAMEIO_BASE_URL": "http://sandbox",
        "AUTOSTACK_RATE_WINDOW_SCALE": "0.001",  # the shared limiter runs, with Frame.io's windows shrunk
    }
    # The sandbox's windows shrink by the same factor: Frame.io's x-ratelimit headers are what the
    # limiter learns from, so the two must agree.
    sandbox.configure(rate_limits=True, rate_window_scale=0.001)
    return Runtime(load_settings(environment), transport=sandbox.transport(), foreground=True)
