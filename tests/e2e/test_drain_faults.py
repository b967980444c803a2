"""Nothing lost on the drain (the default path): a worker killed mid-drain right after a create, and
a Redis crash with deliveries waiting in the inbox. Frame.io's faults on every endpoint run on the
drain too, in ``test_faults.py``.
"""

from __future__ import annotations

import time

import pytest

from service.launcher import LocalStack
from service.processes import Child, wait_until
from tests.e2e.fault_tools import (
    UPLOAD_COMPLETED,
    OwnRedis,
    add_fault,
    busy_draining,
    clear_faults,
    delivered,
    kill_hard,
    loose,
    redis_client,
    stacks,
    story,
    successes,
    wait_decided,
    wait_quiet,
)
from workers.ingest.inbox import INBOX_KEY, Inbox

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SANDBOX = {"transcode_delay_s": 0.2, "rate_limits": False, "rate_window_scale": 0.01}
ENV = {
    "AUTOSTACK_EVENT_TYPES": UPLOAD_COMPLETED,
    "AUTOSTACK_COALESCE_WINDOW_S": "0.5",
    "AUTOSTACK_RATE_WINDOW_SCALE": "0.01",
    "AUTOSTACK_RETRY_SCALE": "0.01",
    # A killed worker's job is found abandoned within seconds (the smallest values allowed).
    "AUTOSTACK_WORKER_TTL_S": "10",
    "AUTOSTACK_MAINTENANCE_INTERVAL_S": "5",
    "AUTOSTACK_ABANDONED_GRACE_S": "5",
    "FRAMEIO_TIMEOUT_S": "150",
}
HELD_S = 100.0  # the create's answer is held longer than the test waits


def test_a_worker_killed_mid_drain_after_its_create_is_recovered_and_makes_no_second_stack() -> None:
    stack = LocalStack.start(workers=2, sandbox_config=SANDBOX, env=ENV)
    try:
        folder = stack.create_folder("killed-mid-drain")
        # The first create is made, and its answer held (a "slow" fault would hold it before the work).
        add_fault(stack, "create_stack", "timeout", delay_s=HELD_S, phase="after")
        names = [f"{shot}_comp_v00{version}.mov" for shot in ("ka", "kb") for version in (1, 2)]
        ids = [stack.upload(folder, name)["id"] for name in names]
        found: list[tuple[Child, str]] = []

        def created_while_draining() -> bool:
            draining = busy_draining(stack)
            found[:] = [draining] if draining else []
            return bool(found) and bool(stack.tree(folder)["stacks"])

        wait_until(created_while_draining, 30, what="the first create made, its drain still running")
        worker, _ = found[0]
        kill_hard(worker)
        killed_at = time.time()
        clear_faults(stack)
        stack.add_worker(ENV)
        stack.workers = [child for child in stack.workers if child.alive()]

        wait_decided(stack, *ids, after=killed_at, timeout=120)
        wait_quiet(stack, timeout=30)
        tree = stack.tree(folder)
        assert sorted(stacks(tree)) == [[f"{shot}_comp_v002.mov", f"{shot}_comp_v001.mov"] for shot in ("ka", "kb")]
        assert loose(tree) == []
        assert successes(stack, "create_stack") == 2, story(stack, *ids)  # the held create was not made again
    finally:
        stack.stop()


def test_inbox_entries_and_their_drain_survive_a_redis_crash_and_restart_with_aof(own_redis: OwnRedis) -> None:
    stack = LocalStack.start(workers=0, sandbox_config=SANDBOX, env=ENV, redis_url=own_redis.url)
    try:
        folder = stack.create_folder("redis-crash-inbox")
        names = [f"ri{group}_comp_v{version:03d}.mov" for group in (1, 2, 3) for version in (1, 2)]
        ids = [stack.upload(folder, name)["id"] for name in names]
        wait_until(lambda: delivered(stack, *ids), 20, what="every delivery answered 2xx")
        account = stack.state["account_id"]
        inbox_key = INBOX_KEY.format(account=account).encode()

        def waiting() -> int:
            with redis_client(stack) as client:
                return Inbox(client, account).size()

        assert waiting() == len(ids)
        wait_until(
            lambda: inbox_key in own_redis.aof_bytes() and all(i.encode() in own_redis.aof_bytes() for i in ids),
            5,
            what="the inbox in the AOF",
        )

        own_redis.kill()
        own_redis.start()
        assert waiting() == len(ids)

        stack.add_worker(ENV)  # the drain queued before the crash runs now
        wait_decided(stack, *ids)
        wait_quiet(stack)
        tree = stack.tree(folder)
        assert sorted(stacks(tree)) == [[f"ri{group}_comp_v002.mov", f"ri{group}_comp_v001.mov"] for group in (1, 2, 3)]
        assert loose(tree) == []
        assert waiting() == 0
    finally:
        stack.stop()
