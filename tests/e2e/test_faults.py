"""Nothing lost (design invariant 4) on real parts: a worker killed mid-job, a Redis crash and
restart with AOF, Redis down at the web tier, Frame.io 5xx, timeouts and dropped connections on
every endpoint autostack calls, and poison events (issue 7).

Every stack here runs one job per delivery (``AUTOSTACK_INBOX=false``): the per-file job is the
path the drain hands every file to that it cannot settle from a listing (a retryable failure, a
lock held elsewhere, an unfinished upload), and the one the sweep queues; these tests find a job
by its file. The same faults on the drain are in ``test_drain_faults.py``. Every stack acts on
``file.upload.completed`` only, so each upload makes exactly one job and the counts are exact.

The killed-worker scenario runs on a stack of its own and takes RQ at least a minute to recover
from (the started-job registry entry of a job outlives its last heartbeat by a fixed 60 s in RQ
3.0), so it is started by the first test and its recovery is checked by the last ones: the other
tests run meanwhile.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import pytest
from _pytest.mark.structures import ParameterSet
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.registry import FailedJobRegistry, StartedJobRegistry

from service.launcher import LocalStack
from service.processes import Child, wait_until
from tests.e2e.fault_tools import (
    UPLOAD_COMPLETED,
    OwnRedis,
    add_fault,
    attempts_for,
    busy_with,
    calls,
    clear_faults,
    decisions_for,
    delete_file,
    deliver_by_hand,
    delivered,
    hand_stack,
    kill_hard,
    loose,
    move_by_hand,
    pending_faults,
    queue_length,
    redis_client,
    reset_calls,
    set_webhook_active,
    stacks,
    story,
    successes,
    upload_job_id,
    wait_decided,
    wait_quiet,
    work_horses,
)
from workers.decisions import Decision
from workers.ingest.jobs import NOT_FOUND_READS
from workers.stacking.memory import LISTING_KEY

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SANDBOX = {"transcode_delay_s": 0.2, "rate_limits": False, "rate_window_scale": 0.01}
BASE_ENV = {
    "AUTOSTACK_INBOX": "false",
    "AUTOSTACK_EVENT_TYPES": UPLOAD_COMPLETED,
    "AUTOSTACK_COALESCE_WINDOW_S": "0.5",
    "AUTOSTACK_RATE_WINDOW_SCALE": "0.01",
    # The smallest values the settings allow: dead workers are noticed and registries cleaned fast.
    "AUTOSTACK_WORKER_TTL_S": "10",
    "AUTOSTACK_MAINTENANCE_INTERVAL_S": "5",
    # Waits before a retry: Frame.io's >= 30 s after a 5xx (kept in production) and RQ's own
    # 10, 60, 300 s for an abandoned or failed job, a hundredth of them here (at least 1 s for RQ).
    "AUTOSTACK_RETRY_SCALE": "0.01",
}


def after(decisions: list[Decision], moment: float) -> list[Decision]:
    return [decision for decision in decisions if decision.at > moment]


# -- 1a. a worker killed with SIGKILL mid-job: the kill ------------------------------------------

HELD_S = 100.0  # a held answer: longer than any wait here, shorter than the client's timeout
KILL_ENV = {**BASE_ENV, "FRAMEIO_TIMEOUT_S": "150"}


@dataclass
class KillRun:
    """Two jobs killed with their workers: one after its create (folder A, the create's answer
    held), one after its move (folder B, its read-back held)."""

    stack: LocalStack
    folder_a: str = ""
    folder_b: str = ""
    created: list[str] = field(default_factory=list)  # A: v1, v2
    moved: list[str] = field(default_factory=list)  # B: v1, v2, v3
    leader: str = ""  # the file whose job led folder A's group
    job_ids: list[str] = field(default_factory=list)  # the two killed jobs
    killed_at: float = 0.0


def _wait_in_read_back(
    stack: LocalStack, file_ids: Iterable[str], written: Callable[[], bool], what: str
) -> tuple[str, Child, str]:
    """Until ``written()`` shows the write happened while a worker is still busy with the job of
    one of ``file_ids`` (whichever led the group); returns that file, the worker and the job id."""
    found: dict[str, tuple[Child, str]] = {}

    def there() -> bool:
        found.clear()
        found.update(busy_with(stack, set(file_ids)))
        return len(found) == 1 and written()

    wait_until(there, 30, interval=0.05, what=what)
    ((file_id, (worker, job_id)),) = found.items()
    return file_id, worker, job_id


@pytest.fixture(scope="module")
def kill_run() -> Iterator[KillRun]:
    stack = LocalStack.start(workers=2, sandbox_config=SANDBOX, env=KILL_ENV)
    try:
        yield _kill_mid_job(stack)
    finally:
        stack.stop()


def _kill_mid_job(stack: LocalStack) -> KillRun:
    run = KillRun(stack, stack.create_folder("killed-after-create"), stack.create_folder("killed-after-move"))
    # Folder B already holds a stack of v1 and v2, made without faults.
    run.moved = [stack.upload(run.folder_b, f"kb_comp_v00{version}.mov")["id"] for version in (1, 2)]
    wait_decided(stack, *run.moved)
    wait_quiet(stack)

    # A: the create is made and its answer held (a stack only created is not read back); the job
    # sits after its write.
    add_fault(stack, "create_stack", "timeout", delay_s=HELD_S, phase="after")
    run.created = [stack.upload(run.folder_a, f"ka_comp_v00{version}.mov")["id"] for version in (1, 2)]
    run.leader, worker_a, job_a = _wait_in_read_back(
        stack, run.created, lambda: bool(stack.tree(run.folder_a)["stacks"]), "A's create, its answer held"
    )

    # B: the read before the move passes (a slow fault of 0 s), the read-back after it is held.
    add_fault(stack, "list_stack_children", "slow", delay_s=0)
    add_fault(stack, "list_stack_children", "slow", delay_s=HELD_S)
    run.moved.append(stack.upload(run.folder_b, "kb_comp_v003.mov")["id"])

    def v3_moved() -> bool:
        return any(len(children) == 3 for children in stacks(stack.tree(run.folder_b)))

    _, worker_b, job_b = _wait_in_read_back(stack, run.moved[2:], v3_moved, "B's move, its read-back held")
    assert worker_a is not worker_b
    run.job_ids = [job_a, job_b]

    kill_hard(worker_a, worker_b)  # each worker with its work horse and its scheduler
    run.killed_at = time.time()
    clear_faults(stack)
    stack.add_worker(KILL_ENV)  # named after the count so far: not the name of a dead one
    stack.workers = [worker for worker in stack.workers if worker.alive()]
    return run


def test_a_killed_worker_leaves_its_jobs_started_for_rq_to_find(kill_run: KillRun) -> None:
    """Right after the kill the jobs are neither lost nor failed: they sit in the started-job
    registry with status "started", which is what RQ's maintenance looks for once their entry
    expires (their recovery is checked at the end of this module)."""
    with redis_client(kill_run.stack) as client:
        registry = StartedJobRegistry(kill_run.stack.queue_name, connection=client)
        started = set(registry.get_job_ids(cleanup=False))
        for job_id in kill_run.job_ids:
            assert job_id in started
            job = Job.fetch(job_id, connection=client)
            assert job.get_status() == JobStatus.STARTED
            assert job.retries_left == 3  # RQ will retry an abandoned job that has retries left


# -- 2. redis-server crashes and restarts with AOF while jobs are queued -------------------------


def test_queued_jobs_survive_a_redis_crash_and_restart_with_aof(own_redis: OwnRedis) -> None:
    """SIGKILL, not SIGTERM: on SIGTERM Redis flushes and fsyncs its AOF on the way out, which
    proves little; SIGKILL is the crash (OOM killer, a killed container) with no goodbye. The
    test waits until the acknowledged jobs are in the AOF file (Redis writes it within the
    ``everysec`` cycle; the fsync to the disk only matters to a machine crash, which no test
    makes), then kills and restarts Redis on the same port and data directory."""
    stack = LocalStack.start(workers=0, sandbox_config=SANDBOX, env=BASE_ENV, redis_url=own_redis.url)
    try:
        folder = stack.create_folder("redis-crash")
        names = [f"rc{group}_comp_v{version:03d}.mov" for group in (1, 2, 3) for version in (1, 2)]
        ids = [stack.upload(folder, name)["id"] for name in names]
        wait_until(lambda: delivered(stack, *ids), 20, what="every delivery answered 2xx")
        assert queue_length(stack) == len(ids)
        job_ids = [upload_job_id(stack, file_id).encode() for file_id in ids]
        wait_until(lambda: all(job in own_redis.aof_bytes() for job in job_ids), 5, what="the jobs in the AOF")

        own_redis.kill()
        own_redis.start()
        assert queue_length(stack) == len(ids)

        stack.add_worker(BASE_ENV)
        wait_decided(stack, *ids)
        wait_quiet(stack)
        tree = stack.tree(folder)
        assert sorted(stacks(tree)) == [[f"rc{group}_comp_v002.mov", f"rc{group}_comp_v001.mov"] for group in (1, 2, 3)]
        assert loose(tree) == []
    finally:
        stack.stop()


# -- 3. Redis down at the web tier ---------------------------------------------------------------


def test_redis_down_answers_503_fast_and_frameio_delivers_again(own_redis: OwnRedis) -> None:
    config = {**SANDBOX, "delivery_time_scale": 0.1}  # retries after 1.5 s, 3 s, 6 s, 12 s (+ jitter)
    stack = LocalStack.start(workers=1, sandbox_config=config, env=BASE_ENV, redis_url=own_redis.url)
    try:
        folder = stack.create_folder("redis-down")
        v1 = stack.upload(folder, "rd_comp_v001.mov")["id"]
        wait_decided(stack, v1)
        wait_quiet(stack)

        own_redis.stop()  # SIGTERM: Redis is simply gone for a while
        down_at = time.time()
        v2 = stack.upload(folder, "rd_comp_v002.mov")["id"]
        wait_until(lambda: bool(attempts_for(stack, v2)), 10, what="the first delivery attempt")
        first = attempts_for(stack, v2)[0]
        assert first["status_code"] == 503, first
        assert first["elapsed_s"] < 1.0, first

        own_redis.start()
        decision = wait_decided(stack, v2, after=down_at, timeout=60)[v2]
        wait_quiet(stack)
        attempts = attempts_for(stack, v2)
        answers = [(attempt["status_code"], attempt["elapsed_s"]) for attempt in attempts]
        print(f"attempts (status, s): {answers}; decided {decision.at - down_at:.1f} s after Redis went down")
        assert [status for status, _ in answers][-1] == 202, answers
        assert all(status in (503, 202) and elapsed < 1.0 for status, elapsed in answers), answers
        assert decision.outcome == "stacked", decision
        assert stacks(stack.tree(folder)) == [["rd_comp_v002.mov", "rd_comp_v001.mov"]]
    finally:
        stack.stop()


# -- 4. Frame.io 5xx, timeouts and dropped connections on every endpoint autostack calls ----------

FAULT_ENV = {**BASE_ENV, "FRAMEIO_TIMEOUT_S": "1"}  # a "timeout" fault answers after 3 s
ENDPOINTS = {  # endpoint -> the scenario that calls it
    "show_file": "create",
    "list_folder_children": "create",
    "show_stack": "hand",
    "list_stack_children": "add",
    "create_stack": "create",
    "move_file": "add",
    "reorder_stack": "add",
}
WRITES = ("create_stack", "move_file", "reorder_stack")
FAULT_MARK = {"status": "503", "timeout": "504", "drop": "dropped"}  # how /_sandbox/calls counts them


@dataclass(frozen=True)
class Case:
    endpoint: str
    kind: str  # status (503) | timeout | drop
    phase: str = "before"  # after: the sandbox did the work, then the answer was lost or replaced
    skip: int = 0  # calls to the endpoint that pass before the faulty one

    @property
    def id(self) -> str:
        kind = "503" if self.kind == "status" else self.kind
        return f"{self.endpoint}-{kind}-{self.phase}" + ("-readback" if self.skip else "")

    @property
    def scenario(self) -> str:
        return ENDPOINTS[self.endpoint]


CASES = [
    *(Case(endpoint, kind) for endpoint in ENDPOINTS for kind in ("status", "timeout", "drop")),
    # Writes that happened, with the answer lost: retries must not write twice (one stack).
    *(Case("create_stack", kind, "after") for kind in ("status", "timeout", "drop")),
    *(Case("move_file", kind, "after") for kind in ("status", "drop")),
    Case("reorder_stack", "drop", "after"),
    # The read-back after a move (the first list_stack_children call is the read before it).
    Case("list_stack_children", "drop", skip=1),
]


def _params() -> list[ParameterSet]:
    return [pytest.param(case, id=case.id) for case in CASES]


@pytest.fixture(scope="module", params=["per-file", "inbox"])
def fault_stack(request: pytest.FixtureRequest) -> Iterator[LocalStack]:
    """The Frame.io faults hit both paths: a job per delivery, and the drain (the default)."""
    env = FAULT_ENV if request.param == "per-file" else {**FAULT_ENV, "AUTOSTACK_INBOX": "true"}
    stack = LocalStack.start(workers=2, sandbox_config=SANDBOX, env=env)
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def stacked_folders(fault_stack: LocalStack) -> dict[str, tuple[str, list[str]]]:
    """For each "add" case, a folder that already holds a stack of v1 and v2 (made at once for all)."""
    folders: dict[str, tuple[str, list[str]]] = {}
    for case in CASES:
        if case.scenario == "add":
            folder = fault_stack.create_folder(case.id)
            prefix = case.id.replace("-", "_")
            folders[case.id] = (folder, [fault_stack.upload(folder, f"{prefix}_v00{v}.mov")["id"] for v in (1, 2)])
    wait_decided(fault_stack, *[file_id for _, ids in folders.values() for file_id in ids])
    wait_quiet(fault_stack)
    return folders


Inject = Callable[[], None]


def create_scenario(stack: LocalStack, folder: str, prefix: str, inject: Inject) -> tuple[list[str], list[list[str]]]:
    """Two versions make a stack: show_file, list_folder_children, create_stack, the read-back."""
    inject()
    ids = [stack.upload(folder, f"{prefix}_v00{version}.mov")["id"] for version in (1, 2)]
    return ids, [[f"{prefix}_v002.mov", f"{prefix}_v001.mov"]]


def add_scenario(
    stack: LocalStack, folder: str, prefix: str, inject: Inject, stacked: list[str]
) -> tuple[list[str], list[list[str]]]:
    """A third version joins the stack of v1 and v2: list_stack_children before and after,
    move_file, and a reorder_stack (the sandbox puts a moved file at the bottom)."""
    inject()
    ids = [*stacked, stack.upload(folder, f"{prefix}_v003.mov")["id"]]
    return ids, [[f"{prefix}_v003.mov", f"{prefix}_v002.mov", f"{prefix}_v001.mov"]]


def hand_scenario(stack: LocalStack, folder: str, prefix: str, inject: Inject) -> tuple[list[str], list[list[str]]]:
    """The event comes for a file a person has already put into a stack of their own: the folder
    listing of its parent is a 404, and show_stack tells a stack from a deleted folder."""
    set_webhook_active(stack, False)
    try:
        v1, v2, v3 = (stack.upload(folder, f"{prefix}_v00{version}.mov")["id"] for version in (1, 2, 3))
        move_by_hand(stack, v3, hand_stack(stack, folder, [v1, v2]))
    finally:
        set_webhook_active(stack, True)
    inject()
    assert deliver_by_hand(stack, v3) == 202
    # autostack leaves a person's stack alone: v3 stays where the person's move put it.
    return [v3], [[f"{prefix}_v002.mov", f"{prefix}_v001.mov", f"{prefix}_v003.mov"]]


@pytest.mark.parametrize("case", _params())
def test_frameio_faults_on_every_endpoint_converge(
    fault_stack: LocalStack, stacked_folders: dict[str, tuple[str, list[str]]], case: Case
) -> None:
    stack = fault_stack
    prefix = case.id.replace("-", "_")

    def inject() -> None:
        reset_calls(stack)
        if case.skip:
            add_fault(stack, case.endpoint, "slow", delay_s=0, count=case.skip)
        add_fault(stack, case.endpoint, case.kind, delay_s=3 if case.kind == "timeout" else None, phase=case.phase)

    try:
        if case.scenario == "add":
            folder, stacked = stacked_folders[case.id]
            ids, expected = add_scenario(stack, folder, prefix, inject, stacked)
        elif case.scenario == "hand":
            folder = stack.create_folder(case.id)
            ids, expected = hand_scenario(stack, folder, prefix, inject)
        else:
            folder = stack.create_folder(case.id)
            ids, expected = create_scenario(stack, folder, prefix, inject)
        decided = wait_decided(stack, *ids, timeout=60)
        wait_quiet(stack)
        assert pending_faults(stack) == [], f"the fault was never hit:\n{story(stack, *ids)}"
    finally:
        clear_faults(stack)
    counts = calls(stack, case.endpoint)
    if case.phase == "before":  # the call failed before doing anything: made again, it went through
        assert counts.get(FAULT_MARK[case.kind], 0) == 1, counts
        made = successes(stack, case.endpoint)
        assert made >= 1, counts
        if case.endpoint in WRITES:
            assert made == 1, counts  # written once
    else:  # the write happened and its answer was lost: the retry read Frame.io and did not write again
        assert sum(counts.values()) == 1, counts
    assert all(decision.outcome != "failed" for decision in decided.values()), story(stack, *ids)
    tree = stack.tree(folder)
    assert stacks(tree) == expected, story(stack, *ids)  # one stack: a lost answer made no second create
    assert loose(tree) == []


# -- 5. poison events ------------------------------------------------------------------------


def test_a_file_deleted_before_its_job_ran_gets_a_decision_not_a_retry_loop(fault_stack: LocalStack) -> None:
    stack = fault_stack
    wait_quiet(stack)  # a worker stops once its job is done: let the earlier tests' jobs finish first
    for worker in stack.workers:
        # Only so the file is deleted before any job runs; how a worker stops is test_shutdown.py's.
        worker.stop()
    try:
        folder = stack.create_folder("deleted-before-the-job")
        reset_calls(stack)
        gone = stack.upload(folder, "dl_comp_v001.mov")["id"]
        delete_file(stack, gone)
        wait_until(lambda: delivered(stack, gone), 10, what="the delivery answered 2xx")
    finally:
        for _ in range(2):
            stack.add_worker(FAULT_ENV)
        stack.workers = [worker for worker in stack.workers if worker.alive()]
    decision = wait_decided(stack, gone)[gone]
    wait_quiet(stack)
    assert decision.outcome == "failed", decision
    assert decision.code == "http-404", decision
    assert "404" in decision.reason, decision
    # Read a bounded number of times (reads may lag a fresh upload), then decided: no retry loop.
    assert calls(stack, "show_file") == {"404": NOT_FOUND_READS}
    outcomes = [d.outcome for d in decisions_for(stack, gone)]
    assert outcomes.count("failed") == 1 and set(outcomes) <= {"failed", "waiting"}, outcomes


def test_a_403_on_the_folder_listing_gets_a_decision_not_a_retry_loop(fault_stack: LocalStack) -> None:
    stack = fault_stack
    folder = stack.create_folder("forbidden-listing")
    reset_calls(stack)
    add_fault(stack, "list_folder_children", "status", status=403, count=1000)
    try:
        file_id = stack.upload(folder, "fb_comp_v001.mov")["id"]
        decision = wait_decided(stack, file_id)[file_id]
        wait_quiet(stack)
    finally:
        clear_faults(stack)
    assert decision.outcome == "failed", decision
    assert decision.code == "http-403", decision
    assert calls(stack, "list_folder_children") == {"403": 1}  # asked once: no retry loop
    assert loose(stack.tree(folder)) == ["fb_comp_v001.mov"]


@pytest.mark.parametrize("fault_stack", ["per-file"], indirect=True)
def test_an_unexpected_failure_lands_in_the_failed_registry_and_can_be_requeued(fault_stack: LocalStack) -> None:
    """The shared folder listing is a Redis list instead of a string (WRONGTYPE): the job fails
    with an error autostack does not expect, RQ retries it, then keeps it in the failed registry
    with the traceback; once the cause is gone, a requeue stacks the file. (A drain reads its own
    listings, not the shared one; its failures go to per-file jobs, this path.)"""
    stack = fault_stack
    folder = stack.create_folder("unexpected-failure")
    poison = LISTING_KEY.format(folder_id=folder)
    with redis_client(stack) as client:
        client.rpush(poison, "not a listing")
        ids = [stack.upload(folder, f"uf_comp_v00{version}.mov")["id"] for version in (1, 2)]
        queue = Queue(stack.queue_name, connection=client)

        def retried_once() -> list[Job]:
            jobs = []
            for job_id in queue.scheduled_job_registry.get_job_ids():
                with contextlib.suppress(NoSuchJobError):  # enqueued and gone meanwhile
                    jobs.append(Job.fetch(job_id, connection=client))
            return [job for job in jobs if job.retries_left is not None and job.retries_left < 3]

        wait_until(lambda: bool(retried_once()), 20, what="the first failure, and RQ's retry scheduled")
        (job,) = retried_once()
        assert job.retry_intervals == [1, 1, 3], "RQ's retries are not scaled by AUTOSTACK_RETRY_SCALE"

        failed = FailedJobRegistry(queue=queue)
        wait_until(lambda: job.id in failed.get_job_ids(), 30, what="the job in the failed registry")
        result = Job.fetch(job.id, connection=client).latest_result()
        assert result is not None
        assert "WRONGTYPE" in (result.exc_string or "")

        client.delete(poison)
        requeued_at = time.time()
        failed.requeue(job.id)
    leader = job.args[1]
    assert leader in ids
    decision = wait_decided(stack, leader, after=requeued_at)[leader]
    wait_quiet(stack)
    assert decision.outcome == "stacked", story(stack, *ids)
    assert stacks(stack.tree(folder)) == [["uf_comp_v002.mov", "uf_comp_v001.mov"]]


# -- 1b. a worker killed with SIGKILL mid-job: the recovery (RQ needs >= 60 s; see above) --------


def _recovered(run: KillRun, file_id: str) -> Decision:
    decision = wait_decided(run.stack, file_id, after=run.killed_at, timeout=150)[file_id]
    wait_quiet(run.stack, timeout=30)
    print(f"{decision.name}: re-run {decision.at - run.killed_at:.1f} s after the kill: {decision.reason}")
    return decision


def test_a_worker_killed_after_its_create_is_recovered_and_leaves_one_stack(kill_run: KillRun) -> None:
    _recovered(kill_run, kill_run.leader)  # a decision recorded after the kill: the job ran again
    tree = kill_run.stack.tree(kill_run.folder_a)
    assert stacks(tree) == [["ka_comp_v002.mov", "ka_comp_v001.mov"]]
    assert loose(tree) == []


def test_a_worker_killed_after_its_move_is_recovered_and_the_order_is_right(kill_run: KillRun) -> None:
    decision = _recovered(kill_run, kill_run.moved[2])
    assert decision.code == "settled", decision  # it found its stack unsettled and ordered it
    tree = kill_run.stack.tree(kill_run.folder_b)
    assert stacks(tree) == [["kb_comp_v003.mov", "kb_comp_v002.mov", "kb_comp_v001.mov"]]
    assert loose(tree) == []


def test_a_work_horse_killed_mid_job_is_retried_by_its_worker(kill_run: KillRun) -> None:
    """The OOM killer's choice: only the work horse dies; its worker sees it at once and RQ
    retries the job (its Retry: 10 s later, 1 s here)."""
    stack = kill_run.stack
    wait_quiet(stack, timeout=150)  # the recovery above, if its tests were not selected
    folder = stack.create_folder("horse-killed")
    add_fault(stack, "create_stack", "timeout", delay_s=HELD_S, phase="after")  # created, answer held
    ids = [stack.upload(folder, f"kc_comp_v00{version}.mov")["id"] for version in (1, 2)]
    leader, worker, _ = _wait_in_read_back(stack, ids, lambda: bool(stack.tree(folder)["stacks"]), "the create")
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
