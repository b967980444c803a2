"""Shared fixtures: a throwaway redis-server per test session, flushed between tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from starlette.testclient import TestClient

from sandbox.app import create_app
from sandbox.config import SandboxConfig
from service.processes import start_redis
from tests.inprocess_sandbox import InProcessSandbox


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--seeds", type=int, default=10, help="seeds for the randomized race scenarios")
    parser.addoption("--first-seed", type=int, default=1, help="the first of those seeds (to split a soak)")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "scenario_seed" in metafunc.fixturenames:
        first = metafunc.config.getoption("--first-seed")
        metafunc.parametrize("scenario_seed", range(first, first + metafunc.config.getoption("--seeds")))


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A redis-server of our own on a free port; nothing assumes one is running."""
    child, url = start_redis()
    try:
        yield url
    finally:
        child.stop()


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    """A client on the session's redis-server, with the database emptied before each test."""
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def sandbox() -> Iterator[InProcessSandbox]:
    """The Frame.io sandbox in-process (no rate limits, no transcode delay), fresh for each test."""
    config = SandboxConfig(seed=7, transcode_delay_s=0.0, rate_limits=False)
    with TestClient(create_app(config)) as http:
        yield InProcessSandbox(http, http.get("/_sandbox/state").json())
