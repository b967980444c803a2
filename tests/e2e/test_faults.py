"""Nothing lost (design invariant 4) on real parts: a worker killed mid-job, a Redis crash and
restart with AOF, Redis down at the web tier, Frame.io 5xx, timeouts and dropped connections on
every endpoint autostack calls, and poison events (issue 7).

Every stack here acts on ``file.upload.completed`` only, so each upload makes exactly one job and
the counts below are exact.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import pytest

from service.launcher import LocalStack
from service.processes import Child, wait_until
from tests.e2e.fault_tools import (
    UPLOAD_COMPLETED,
    add_fault,
    busy_with,
    clear_faults,
    decisions_for,
    kill_hard,
    loose,
    stacks,
    wait_decided,
    wait_quiet,
    work_horses,
)
from workers.decisions import Decision

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SANDBOX = {"transcode_delay_s": 0.2, "rate_limits": False}
BASE_ENV = {
    "AUTOSTACK_EVENT_TYPES": UPLOAD_COMPLETED,
    "AUTOSTACK_COALESCE_WINDOW_S": "0.5",
    "AUTOSTACK_RATE_WINDOW_SCALE": "0.01",
    # The smallest values the settings allow: a dead worker is noticed and its registry cleaned fast.
    "AUTOSTACK_WORKER_TTL_S": "10",
    "AUTOSTACK_MAINTENANCE_INTERVAL_S": "5",
}


def after(decisions: list[Decision], moment: float) -> list[Decision]:
    return [decision for decision in decisions if decision.at > moment]


# -- 1. a worker killed with SIGKILL mid-job ---------------------------------------------------

# A slow read-back: longer than any wait below, shorter than the client's timeout.
HELD_S = 100.0
KILL_ENV = {**BASE_ENV, "FRAMEIO_TIMEOUT_S": "150"}


@dataclass
class KillRun:
    """The killed-mid-job scenario, run once for the tests that look at it."""

    stack: LocalStack
    created: dict[str, str] = field(default_factory=dict)  # name -> id, folder A (killed after create)
    moved: dict[str, str] = field(default_factory=dict)  # name -> id, folder B (killed after move)
    folder_a: str = ""
    folder_b: str = ""
    leader: str = ""  # the file whose job led folder A's group (and was killed)
    killed_at: float = 0.0
    recovered_s: dict[str, float] = field(default_factory=dict)


def _wait_in_read_back(
    stack: LocalStack, file_ids: Iterable[str], written: Callable[[], bool], what: str
) -> tuple[str, Child]:
    """Until ``written()`` shows the write happened while a worker is still busy with the job of
    one of ``file_ids`` (whichever led the group); returns that file and the worker."""
    found: dict[str, Child] = {}

    def there() -> bool:
        found.clear()
        found.update(busy_with(stack, set(file_ids)))
        return len(found) == 1 and written()

    wait_until(there, 30, interval=0.05, what=what)
    ((file_id, worker),) = found.items()
    return file_id, worker


@pytest.fixture(scope="module")
def kill_run() -> Iterator[KillRun]:
    stack = LocalStack.start(workers=2, sandbox_config=SANDBOX, env=KILL_ENV)
    try:
        yield _killed_mid_job(stack)
    finally:
        stack.stop()


def _killed_mid_job(stack: LocalStack) -> KillRun:
    run = KillRun(stack, folder_a=stack.create_folder("killed-after-create"))
    run.folder_b = stack.create_folder("killed-after-move")
    # Folder B already holds a stack of v1 and v2, made without faults.
    for name in ("kb_comp_v001.mov", "kb_comp_v002.mov"):
        run.moved[name] = stack.upload(run.folder_b, name)["id"]
    wait_decided(stack, *run.moved.values())
    wait_quiet(stack)
    assert stacks(stack.tree(run.folder_b)) == [["kb_comp_v002.mov", "kb_comp_v001.mov"]]

    # A: the read-back after the create is held; the job sits after its write.
    add_fault(stack, "list_stack_children", "slow", delay_s=HELD_S)
    for name in ("ka_comp_v001.mov", "ka_comp_v002.mov"):
        run.created[name] = stack.upload(run.folder_a, name)["id"]
    run.leader, worker_a = _wait_in_read_back(
        stack, run.created.values(), lambda: bool(stack.tree(run.folder_a)["stacks"]), "A's create, read-back held"
    )

    # B: the read before the move passes (a slow fault of 0 s), the read-back after it is held.
    add_fault(stack, "list_stack_children", "slow", delay_s=0)
    add_fault(stack, "list_stack_children", "slow", delay_s=HELD_S)
    run.moved["kb_comp_v003.mov"] = v3 = stack.upload(run.folder_b, "kb_comp_v003.mov")["id"]

    def v3_moved() -> bool:
        return any(len(children) == 3 for children in stacks(stack.tree(run.folder_b)))

    _, worker_b = _wait_in_read_back(stack, [v3], v3_moved, "B's move, read-back held")
    assert worker_a is not worker_b

    kill_hard(worker_a, worker_b)
    run.killed_at = time.time()
    clear_faults(stack)
    stack.add_worker(KILL_ENV)  # named after the count so far: not the name of a dead one
    stack.workers = [worker for worker in stack.workers if worker.alive()]

    # RQ finds each job abandoned once its StartedJobRegistry entry expires, retries it (its Retry:
    # 10 s later) and a live worker runs it again; that run records a decision.
    for file_id in (run.leader, v3):
        decision = wait_decided(stack, file_id, after=run.killed_at, timeout=150)[file_id]
        run.recovered_s[file_id] = round(decision.at - run.killed_at, 1)
    wait_quiet(stack, timeout=30)
    print(f"jobs re-run {sorted(run.recovered_s.values())} s after the kill")
    return run


def test_a_worker_killed_after_its_create_is_recovered_and_leaves_one_stack(kill_run: KillRun) -> None:
    stack = kill_run.stack
    rerun = after(decisions_for(stack, kill_run.leader), kill_run.killed_at)
    assert rerun, "the abandoned job did not run again"
    assert rerun[0].outcome in {"nothing", "stacked"}, rerun[0]
    tree = stack.tree(kill_run.folder_a)
    assert stacks(tree) == [["ka_comp_v002.mov", "ka_comp_v001.mov"]]
    assert loose(tree) == []


@pytest.mark.xfail(
    strict=True,
    reason=(
        "bug: a job killed after move_file and before its read-back is re-run, finds the file already "
        "in a stack (workers/stacker.py Stacker._decide: is_known_stack / _scene -> None) and records "
        "'nothing', so the reorder never happens: the new version stays where Frame.io put it (bottom)"
    ),
)
def test_a_worker_killed_after_its_move_is_recovered_and_the_order_is_right(kill_run: KillRun) -> None:
    stack = kill_run.stack
    v3 = kill_run.moved["kb_comp_v003.mov"]
    assert after(decisions_for(stack, v3), kill_run.killed_at), "the abandoned job did not run again"
    tree = stack.tree(kill_run.folder_b)
    assert loose(tree) == []
    assert stacks(tree) == [["kb_comp_v003.mov", "kb_comp_v002.mov", "kb_comp_v001.mov"]]


def test_a_work_horse_killed_mid_job_is_retried_by_its_worker(kill_run: KillRun) -> None:
    """The OOM killer's choice: only the work horse dies; its worker sees it and RQ retries the job."""
    stack = kill_run.stack
    folder = stack.create_folder("horse-killed")
    add_fault(stack, "list_stack_children", "slow", delay_s=HELD_S)
    ids = [stack.upload(folder, name)["id"] for name in ("kc_comp_v001.mov", "kc_comp_v002.mov")]
    leader, worker = _wait_in_read_back(stack, ids, lambda: bool(stack.tree(folder)["stacks"]), "the create")
    (horse,) = work_horses(worker)
    os.kill(horse, signal.SIGKILL)
    killed_at = time.time()
    clear_faults(stack)
    decision = wait_decided(stack, leader, after=killed_at, timeout=60)[leader]
    assert worker.alive()
    print(f"re-run {decision.at - killed_at:.1f} s after the horse was killed: {decision.outcome}: {decision.reason}")
    wait_quiet(stack)
    tree = stack.tree(folder)
    assert stacks(tree) == [["kc_comp_v002.mov", "kc_comp_v001.mov"]]
    assert loose(tree) == []
