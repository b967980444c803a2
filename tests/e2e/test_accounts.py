"""Many accounts on one autostack: one account's slow Frame.io does not hold up another's stacks.

The sandbox holds a second account whose every call is held (``account_latency_s``); the first
account's uploads are stacked meanwhile by the other worker, and the slow account's once its calls
come back. No timing assertions: each wait is a condition with a deadline.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from service.launcher import LocalStack
from service.processes import wait_until
from tests.e2e.fault_tools import stacks

pytestmark = pytest.mark.e2e

HELD_S = 60.0  # a slow account's calls wait this long in the sandbox (autostack's timeout is shorter)


@pytest.fixture(scope="module")
def two_accounts() -> Iterator[LocalStack]:
    env = {"AUTOSTACK_SWEEP_INTERVAL_S": "0", "AUTOSTACK_RETRY_SCALE": "0.05"}
    stack = LocalStack.start(workers=2, sandbox_config={"transcode_delay_s": 0.2}, env=env, accounts=2)
    try:
        yield stack
    finally:
        stack.stop()


def configure(stack: LocalStack, **knobs: object) -> None:
    httpx.patch(f"{stack.sandbox_url}/_sandbox/config", json=knobs, timeout=10).raise_for_status()


def test_a_slow_accounts_uploads_do_not_hold_up_another_accounts_stacks(two_accounts: LocalStack) -> None:
    stack = two_accounts
    fast, slow = stack.accounts()
    fast_folder = stack.create_folder("fast", fast["root_folder_id"], fast["account_id"])
    slow_folder = stack.create_folder("slow", slow["root_folder_id"], slow["account_id"])
    configure(stack, account_latency_s=[f"{slow['account_id']}={HELD_S}"])
    for version in (1, 2):
        stack.upload(slow_folder, f"slow_comp_v00{version}.mov")
    for version in (1, 2):
        stack.upload(fast_folder, f"fast_comp_v00{version}.mov")

    def fast_stacked() -> bool:
        return stacks(stack.tree(fast_folder)) == [["fast_comp_v002.mov", "fast_comp_v001.mov"]]

    wait_until(fast_stacked, 40, interval=0.2, what="the fast account's stack while the slow one's calls are held")
    assert stacks(stack.tree(slow_folder)) == []  # its calls are still held: nothing of it is stacked yet
    configure(stack, account_latency_s=[])

    def slow_stacked() -> bool:
        return stacks(stack.tree(slow_folder)) == [["slow_comp_v002.mov", "slow_comp_v001.mov"]]

    wait_until(slow_stacked, 120, interval=0.5, what="the slow account's stack once its calls come back")
