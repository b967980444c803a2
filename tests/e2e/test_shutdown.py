"""Graceful shutdown on real processes (issue 7): SIGTERM to ``autostack serve`` lets the request
in flight finish with its answer; SIGTERM to ``autostack worker`` lets the running job finish and
record its decision before the worker exits 0. (Kubernetes sends SIGTERM to the container's main
process only, as :meth:`Child.signal` does here: RQ's work horse is in a process group of its own.)
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator

import pytest
from rq.job import Job, JobStatus

from service.launcher import LocalStack
from service.processes import Child, autostack_argv, free_port, spawn, wait_http, wait_until
from tests.e2e.fault_tools import (
    UPLOAD_COMPLETED,
    SlowDelivery,
    add_fault,
    busy_draining,
    deliver_by_hand,
    redis_client,
    refused,
    set_webhook_active,
    stacks,
    wait_decided,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SANDBOX = {"transcode_delay_s": 0.2, "rate_limits": False, "rate_window_scale": 0.01}
ENV = {
    "AUTOSTACK_EVENT_TYPES": UPLOAD_COMPLETED,
    "AUTOSTACK_COALESCE_WINDOW_S": "0",  # one run of the job does everything
    "AUTOSTACK_RATE_WINDOW_SCALE": "0.01",
}


@pytest.fixture
def stack() -> Iterator[LocalStack]:
    local = LocalStack.start(workers=1, sandbox_config=SANDBOX, env=ENV)
    try:
        yield local
    finally:
        local.stop()


def service_of(stack: LocalStack) -> Child:
    return next(child for child in stack.children if child.name == "service")


def test_sigterm_to_serve_lets_the_request_in_flight_finish_with_its_answer(stack: LocalStack) -> None:
    folder = stack.create_folder("serve-sigterm")
    set_webhook_active(stack, False)  # this test delivers the events itself
    v1 = stack.upload(folder, "ss_comp_v001.mov")["id"]
    v2 = stack.upload(folder, "ss_comp_v002.mov")["id"]
    assert deliver_by_hand(stack, v1) == 202
    wait_decided(stack, v1)

    service = service_of(stack)
    delivery = SlowDelivery(stack, v2)
    try:
        delivery.send_head()  # the headers and half the body: the request is in flight
        wait_until(delivery.server_has_read, 5, interval=0.01, what="the service to read the request so far")
        service.signal(signal.SIGTERM)
        wait_until(lambda: refused(stack.service_url), 5, what="the service to stop listening")
        assert service.alive(), "the service exited with a request in flight"
        status, answer = delivery.finish()
    finally:
        delivery.close()
    assert status == 202, answer
    assert b'"queued"' in answer
    service.process.wait(10)  # it goes once the request is answered, well before the 20 s grace
    wait_decided(stack, v2)
    assert stacks(stack.tree(folder)) == [["ss_comp_v002.mov", "ss_comp_v001.mov"]]


def test_serve_exits_0_after_a_graceful_sigterm(stack: LocalStack) -> None:
    port = free_port()
    serve = spawn("serve-exit", autostack_argv("serve", "--port", str(port)), stack.env(), stack.workdir)
    try:
        wait_http(serve, f"http://127.0.0.1:{port}/healthz")
        serve.signal(signal.SIGTERM)
        assert serve.process.wait(10) == 0
    finally:
        serve.stop()


def test_sigterm_to_a_worker_lets_its_job_finish_then_it_exits_0(stack: LocalStack) -> None:
    folder = stack.create_folder("worker-sigterm")
    v1 = stack.upload(folder, "ws_comp_v001.mov")["id"]
    wait_decided(stack, v1)

    (worker,) = stack.workers
    add_fault(stack, "list_folder_children", "slow", delay_s=3)  # the drain is mid-way for 3 s
    v2 = stack.upload(folder, "ws_comp_v002.mov")["id"]
    found: list[tuple[Child, str]] = []

    def busy() -> bool:
        draining = busy_draining(stack)
        found[:] = [draining] if draining else []
        return bool(found)

    wait_until(busy, 10, what="the worker busy with the drain that takes v2")
    job_id = found[0][1]

    worker.signal(signal.SIGTERM)
    signalled_at = time.time()
    assert worker.process.wait(30) == 0
    stack.workers.remove(worker)
    decision = wait_decided(stack, v2, after=signalled_at, timeout=1)[v2]  # recorded before the exit
    assert decision.outcome == "stacked", decision
    with redis_client(stack) as client:
        assert Job.fetch(job_id, connection=client).get_status() == JobStatus.FINISHED
    assert stacks(stack.tree(folder)) == [["ws_comp_v002.mov", "ws_comp_v001.mov"]]
    assert "warm shut down requested" in worker.log()
