"""A day of user-token refreshes in seconds: IMS gives 0.5 s access tokens and rotates the refresh
token on every refresh (no grace), two worker processes share the one sign-in from
``autostack login``, uploads arrive for ten seconds; every refresh is accepted (no refresh token
is ever lost or sent twice), and every group is stacked."""

from __future__ import annotations

import subprocess
import time

import pytest

from service.launcher import LocalStack
from service.processes import autostack_argv
from tests.e2e.signin import login, user_env

pytestmark = pytest.mark.e2e

GROUPS, VERSIONS = 10, 3


def ims_calls(stack: LocalStack, status: int) -> int:
    calls = stack.api("GET", "/_sandbox/calls")["calls"]
    return sum(row["count"] for row in calls if row["endpoint"] == "ims_token" and row["status"] == status)


def status(stack: LocalStack, env: dict[str, str]) -> str:
    argv = autostack_argv("status", "--last", "1")
    return subprocess.run(argv, env={**stack.env(), **env}, capture_output=True, check=True).stdout.decode()


def test_two_workers_share_a_rotating_sign_in_through_many_refreshes() -> None:
    knobs = {
        "transcode_delay_s": 0.1,
        "user_access_token_lifetime_s": 0.5,
        "refresh_token_rotation": "rotate",
        "refresh_token_grace_s": 0,
    }
    stack = LocalStack.start(workers=0, sandbox_config=knobs)
    try:
        env = {**user_env(stack), "AUTOSTACK_SWEEP_INTERVAL_S": "1"}
        assert b"acts as Editor" in login(stack, env)
        stack.add_worker(env)
        stack.add_worker(env)
        folder = stack.create_folder("user-sign-in")
        started = time.monotonic()
        for version in range(1, VERSIONS + 1):
            for group in range(GROUPS):
                stack.upload(folder, f"sh{group:03d}_comp_v{version:03d}.mov")
                time.sleep(0.3)  # pacing the uploads over ten seconds, not synchronisation
        stack.wait_idle(90, expected_deliveries=2 * len(stack.uploaded))
        elapsed = time.monotonic() - started
        stacks = {s["name"]: len(s["children"]) for s in stack.tree(folder)["stacks"]}
        assert len(stacks) == GROUPS and set(stacks.values()) == {VERSIONS}, stacks
        refreshes = ims_calls(stack, 200) - 1  # the first is the login's code exchange
        assert ims_calls(stack, 400) == 0  # no refresh token was refused: none lost, none reused
        assert refreshes >= 24, f"{refreshes} refreshes in {elapsed:.1f} s"  # a day of hourly tokens
        assert "a user sign-in, acting as Editor" in status(stack, env) and "; ok;" in status(stack, env)
        print(f"{refreshes} refreshes in {elapsed:.1f} s, {len(stack.uploaded)} uploads stacked")
        logout = subprocess.run(autostack_argv("logout"), env={**stack.env(), **env}, capture_output=True, check=False)
        assert logout.returncode == 0, logout.stdout
        assert "LOGGED_OUT" in status(stack, env)
    finally:
        stack.stop()
