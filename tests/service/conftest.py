"""Helpers for the command-line tests: ``autostack`` run in its own process."""

from __future__ import annotations

import os
import subprocess

from service.processes import autostack_argv


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
