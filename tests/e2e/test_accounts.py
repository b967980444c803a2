"""Many accounts on one autostack, each reached with its own token (the sandbox gives every added
account its own API user; autostack reads their tokens from the accounts file the launcher writes).

One account's slow Frame.io does not hold up another's stacks: the sandbox holds a second account
whose every call is held (``account_latency_s``); the first account's uploads are stacked meanwhile
by the other worker, and the slow account's once its calls come back. One account's refused token
shows as that account's ``rejected`` credential while the other account still stacks. No timing
assertions: each wait is a condition with a deadline.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

import httpx
import pytest

from service.launcher import LocalStack
from service.processes import autostack_argv, wait_until
from tests.e2e.conftest import ACCOUNTS_ENV
from tests.e2e.fault_tools import stacks

pytestmark = pytest.mark.e2e

HELD_S = 60.0  # a slow account's calls wait this long in the sandbox (autostack's timeout is shorter)


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


def status(stack: LocalStack) -> dict[str, Any]:
    argv = autostack_argv("status", "--json", "--last", "0")
    done = subprocess.run(argv, env=stack.env(), capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    facts: dict[str, Any] = json.loads(done.stdout)
    return facts


def upload_pair(stack: LocalStack, account: dict[str, str], name: str) -> str:
    folder = stack.create_folder(name, account["root_folder_id"], account["account_id"])
    for version in (1, 2):
        stack.upload(folder, f"{name}_comp_v00{version}.mov")
    return folder


def stacked(stack: LocalStack, folder: str, name: str) -> bool:
    return stacks(stack.tree(folder)) == [[f"{name}_comp_v002.mov", f"{name}_comp_v001.mov"]]


def test_each_account_stacks_with_its_own_token_and_a_refused_one_is_that_accounts_alone(
    own_tokens: LocalStack,
) -> None:
    stack = own_tokens
    first, second = stack.accounts()
    assert first["token"] != second["token"]  # neither reaches the other's account (the sandbox's 403)
    folders = {"one": upload_pair(stack, first, "one"), "two": upload_pair(stack, second, "two")}
    wait_until(
        lambda: all(stacked(stack, folder, name) for name, folder in folders.items()),
        60,
        interval=0.2,
        what="both accounts' stacks",
    )
    assert [row["state"] for row in status(stack)["accounts"]] == ["ok"]

    # The second account's row now holds a token Frame.io never issued; a worker started after it reads it.
    (worker,) = stack.workers
    worker.stop()
    stack.workers.remove(worker)
    stack.write_accounts_file({second["account_id"]: "a-token-frameio-never-issued"})
    stack.add_worker(ACCOUNTS_ENV)
    refused = upload_pair(stack, second, "three")
    still = upload_pair(stack, first, "four")

    def rejected() -> bool:
        rows = status(stack)["accounts"]
        return [(row["account"], row["state"]) for row in rows] == [(second["account_id"], "rejected")]

    wait_until(rejected, 60, interval=0.5, what="the second account's credential to show as rejected")
    wait_until(lambda: stacked(stack, still, "four"), 60, interval=0.2, what="the first account's stack")
    facts = status(stack)
    assert facts["sign_in"]["state"] == "ok"  # the default credential (the first account's) is untouched
    assert "FRAMEIO_ACCOUNTS_FILE" in facts["accounts"][0]["action"]
    assert stacks(stack.tree(refused)) == []
