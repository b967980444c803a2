"""Recovering in seconds (issue 19), on real processes with autostack's default timings.

* A worker SIGKILLed mid-job: its job runs again within 15 s (the heartbeat, the abandoned-job
  grace, the upkeep thread that retries it, RQ's first retry interval, the drain's short lease).
* The worker that moves due jobs SIGKILLed: a job handed back to RQ still runs within seconds,
  moved by another worker that took the lease over (RQ's scheduler held a 61 s lock).
* Redis away: the worker logs one line, keeps trying, its liveness probe fails, and it goes on
  once Redis is back; if Redis stays away past ``AUTOSTACK_REDIS_AWAY_S`` it exits with status 1.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from rq import Queue

from service.launcher import PERIODIC, LocalStack
from service.processes import Child, wait_until
from tests.e2e.fault_tools import (
    OwnRedis,
    add_fault,
    busy_draining,
    clear_faults,
    decisions_for,
    kill_hard,
    redis_client,
    stacks,
    wait_decided,
)
from workers.ingest.due import LEASE_KEY
from workers.ingest.inbox import INBOXES_KEY

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SANDBOX = {"transcode_delay_s": 0.2, "rate_limits": False}
#: autostack's defaults, but for the sweep (its 5-minute boundaries would land by chance).
ENV = {"AUTOSTACK_SWEEP_INTERVAL_S": "0", "FRAMEIO_TIMEOUT_S": "150"}
RERUN_WITHIN_S = 15.0
HELD_S = 100.0  # a held answer: longer than any wait here


def _alive_only(stack: LocalStack) -> None:
    stack.workers = [worker for worker in stack.workers if worker.alive()]


def _work_done(stack: LocalStack) -> bool:
    """Nothing queued, running, scheduled or in an inbox (``LocalStack.queue_idle`` also waits for
    every registered worker to be idle, and a worker killed mid-job stays registered as busy for
    a minute: RQ's own heartbeat TTL)."""
    with redis_client(stack) as client:
        queue = Queue(stack.queue_name, connection=client)
        scheduled = [job for job in queue.scheduled_job_registry.get_job_ids() if not PERIODIC.fullmatch(job)]
        return (
            queue.count == 0
            and queue.started_job_registry.count == 0
            and not scheduled
            and int(client.llen(queue.intermediate_queue_key)) == 0
            and int(client.scard(INBOXES_KEY)) == 0
        )


def test_a_worker_killed_mid_drain_has_its_job_run_again_within_15_s() -> None:
    stack = LocalStack.start(workers=2, sandbox_config=SANDBOX, env=ENV)
    try:
        folder = stack.create_folder("killed-mid-drain")
        # The create is made and its answer held: the drain sits after its write, holding its lease.
        add_fault(stack, "create_stack", "timeout", delay_s=HELD_S, phase="after")
        ids = [stack.upload(folder, f"kd_comp_v00{version}.mov")["id"] for version in (1, 2)]
        found: list[tuple[Child, str]] = []

        def draining_after_create() -> bool:
            busy = busy_draining(stack)
            found[:] = [busy] if busy else []
            return bool(found) and bool(stack.tree(folder)["stacks"])

        wait_until(draining_after_create, 30, interval=0.05, what="the drain holding its create's answer")
        worker, _ = found[0]
        kill_hard(worker)
        killed_at = time.time()
        clear_faults(stack)
        _alive_only(stack)

        decided = wait_decided(stack, *ids, after=killed_at, timeout=RERUN_WITHIN_S)
        print(f"decided {max(d.at for d in decided.values()) - killed_at:.1f} s after the kill")
        wait_until(lambda: _work_done(stack), 60, interval=0.1, what="every job done")
        assert stacks(stack.tree(folder)) == [["kd_comp_v002.mov", "kd_comp_v001.mov"]]  # one stack, not two
    finally:
        stack.stop()


def _lease_holder(stack: LocalStack) -> Child | None:
    with redis_client(stack) as client:
        name = client.get(LEASE_KEY.format(queue=stack.queue_name))
    if name is None:
        return None
    rq_name = name.decode() if isinstance(name, bytes) else str(name)
    return next((w for w in stack.workers if w.alive() and rq_name.startswith(f"{w.name}-")), None)


def test_due_jobs_still_move_within_seconds_when_the_worker_moving_them_dies() -> None:
    env = {**ENV, "AUTOSTACK_INBOX": "false", "AUTOSTACK_RETRY_SCALE": "0.05"}  # a 5xx waits 1.5 s, not 30
    stack = LocalStack.start(workers=2, sandbox_config=SANDBOX, env=env)
    try:
        holder: list[Child] = []

        def held() -> bool:
            found = _lease_holder(stack)
            holder[:] = [found] if found else []
            return bool(found)

        wait_until(held, 10, interval=0.05, what="a worker holding the due-jobs lease")
        kill_hard(holder[0])
        killed_at = time.time()
        _alive_only(stack)
        # The file's read fails: its job hands itself back to RQ to run 1.5 s later, and only a
        # worker that moves due jobs can run it again (one file: no other job decides it).
        add_fault(stack, "show_file", "status", status=503)
        folder = stack.create_folder("mover-killed")
        file_id = stack.upload(folder, "mk_comp_v001.mov")["id"]

        decision = wait_decided(stack, file_id, after=killed_at, timeout=RERUN_WITHIN_S)[file_id]
        print(f"decided {decision.at - killed_at:.1f} s after the mover's death")
        waits = [d for d in decisions_for(stack, file_id) if d.outcome == "waiting" and d.code == "retry"]
        assert len(waits) == 1 and waits[0].at < decision.at, "the job was not handed back: nothing was proven"
        wait_until(lambda: _lease_holder(stack) is stack.workers[0], 5, what="the survivor to hold the lease")
        assert decision.outcome == "nothing", decision  # one version: left loose, and said why
        assert stack.tree(folder)["stacks"] == []
    finally:
        stack.stop()


# -- Redis away -----------------------------------------------------------------------------------


def probe(stack: LocalStack, env: dict[str, str]) -> tuple[int, str]:
    """``autostack worker --alive``, as the liveness probe runs it."""
    done = subprocess.run(
        [sys.executable, "-m", "service.cli", "worker", "--alive"],
        env={**stack.env(), **env},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return done.returncode, (done.stdout + done.stderr).strip()


def test_a_worker_rides_out_a_redis_outage_and_its_probe_fails_meanwhile(own_redis: OwnRedis, tmp_path: Path) -> None:
    env = {**ENV, "AUTOSTACK_LIVENESS_FILE": str(tmp_path / "alive"), "AUTOSTACK_LIVENESS_S": "3"}
    stack = LocalStack.start(workers=1, sandbox_config=SANDBOX, env=env, redis_url=own_redis.url)
    try:
        wait_until(lambda: probe(stack, env)[0] == 0, 20, interval=0.2, what="the probe to pass")
        worker = stack.workers[0]
        own_redis.kill()
        wait_until(lambda: "Redis unreachable" in worker.log(), 20, interval=0.1, what="the outage's log line")
        wait_until(lambda: probe(stack, env)[0] == 1, 20, interval=0.2, what="the probe to fail")
        code, line = probe(stack, env)
        assert code == 1 and "not alive" in line and "REDIS_URL" in line, line
        assert worker.alive()

        own_redis.start()
        wait_until(lambda: "Redis reachable again" in worker.log(), 30, interval=0.1, what="the worker to reconnect")
        wait_until(lambda: probe(stack, env)[0] == 0, 20, interval=0.2, what="the probe to pass again")
        folder = stack.create_folder("after-the-outage")
        ids = [stack.upload(folder, f"ro_comp_v00{version}.mov")["id"] for version in (1, 2)]
        wait_decided(stack, *ids, timeout=30)
        assert stacks(stack.tree(folder)) == [["ro_comp_v002.mov", "ro_comp_v001.mov"]]
        assert worker.alive()
    finally:
        stack.stop()


def test_a_worker_exits_with_status_1_when_redis_stays_away_too_long(own_redis: OwnRedis) -> None:
    env = {**ENV, "AUTOSTACK_REDIS_AWAY_S": "2"}
    stack = LocalStack.start(workers=1, sandbox_config=SANDBOX, env=env, redis_url=own_redis.url)
    try:
        worker = stack.workers[0]
        own_redis.kill()
        wait_until(lambda: not worker.alive(), 30, interval=0.1, what="the worker to give up")
        assert worker.process.returncode == 1
        assert "Redis unreachable for more than 2 s (AUTOSTACK_REDIS_AWAY_S)" in worker.log()
        assert "Traceback" not in worker.log()
    finally:
        stack.stop()
