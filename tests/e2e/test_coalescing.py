"""Coalescing in per-file jobs on real processes: a follower never depends on its leader succeeding."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from service.launcher import LocalStack
from service.processes import wait_until
from tests.e2e.fault_tools import delete_file, redis_client, stacks, wait_decided
from workers.ingest.coalesce import KEY
from workers.stacking.locks import group_lock_name

pytestmark = pytest.mark.e2e

WINDOW_S = 8.0  # long enough for two more uploads to be taken inside it on a loaded machine


@pytest.fixture(scope="module")
def per_file_stack() -> Iterator[LocalStack]:
    env = {
        "AUTOSTACK_INBOX": "false",
        "AUTOSTACK_COALESCE_WINDOW_S": str(WINDOW_S),
        "AUTOSTACK_SWEEP_INTERVAL_S": "0",  # the followers must be stacked without the sweep
        "AUTOSTACK_RATE_WINDOW_SCALE": "0.01",
    }
    stack = LocalStack.start(workers=2, sandbox_config={"transcode_delay_s": 0.2}, env=env)
    try:
        yield stack
    finally:
        stack.stop()


def test_followers_are_stacked_when_their_leaders_file_is_deleted_inside_the_window(
    per_file_stack: LocalStack,
) -> None:
    stack = per_file_stack
    folder = stack.create_folder("leader-deleted")
    window = KEY.format(name=group_lock_name(stack.state["account_id"], folder, "lead_comp"))
    leader = stack.upload(folder, "lead_comp_v001.mov")["id"]
    with redis_client(stack) as client:
        wait_until(lambda: client.get(window) == leader.encode(), 20, what="v1's job to lead the window")
        followers = [stack.upload(folder, f"lead_comp_v00{v}.mov")["id"] for v in (2, 3)]
        decided = wait_decided(stack, *followers, timeout=20)
        assert client.get(window) == leader.encode(), "the window closed before the followers came"
    assert {decision.code for decision in decided.values()} == {"coalesced"}
    delete_file(stack, leader)  # before the leader's second run: it fails for good with a 404

    def stacked() -> bool:
        return stacks(stack.tree(folder)) == [["lead_comp_v003.mov", "lead_comp_v002.mov"]]

    wait_until(stacked, WINDOW_S + 30, what="the followers to be stacked without their leader")
    assert wait_decided(stack, leader)[leader].code == "http-404"
