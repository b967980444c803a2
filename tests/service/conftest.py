"""Helpers and fixtures of the command-line tests: ``autostack`` run in its own process, and a
runtime that reads the sandbox through the shared rate limiter."""

from __future__ import annotations

import os
import subprocess

import pytest
import redis

from service.processes import autostack_argv
from tests.workers.conftest import InProcessSandbox
from workers.runtime import Runtime
from workers.settings import load_settings


def run_autostack(*args: str, env: dict[str, str] | None = None, stdin: int | None = None) -> tuple[int, str, str]:
    """``autostack ARGS`` in its own process with ``env`` added to this one's environment (retry
    waits shrunk); stdin is empty unless given. Returns the exit code, stdout and stderr."""
    done = subprocess.run(
        autostack_argv(*args),
        env={**os.environ, "AUTOSTACK_RETRY_SCALE": "0.01", **(env or {})},
        stdin=subprocess.DEVNULL if stdin is None else stdin,
        capture_output=True,
        text=True,
        timeout=120,  # a deadline for a hung command, not a timed assertion
        check=False,
    )
    return done.returncode, done.stdout, done.stderr


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
