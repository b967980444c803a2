"""The queue seam: every job it queues names a function RQ can find, under the new paths and,
for jobs queued before the layout changed, under the old ones."""

from __future__ import annotations

import pytest
import redis
from rq import Queue, SimpleWorker
from rq.job import Job
from rq.utils import import_attribute

from tests.inprocess_sandbox import InProcessSandbox
from tests.workers.ingest.test_drain import make_runtime
from workers import action_jobs, runtime
from workers.ingest import drain, jobs, queue, sweep
from workers.ingest.queue import DRAIN_JOB, FILE_JOB, STACK_ACTION_JOB, SWEEP_JOB, UNDO_ACTION_JOB


def test_each_job_path_names_its_function() -> None:
    assert import_attribute(FILE_JOB) is jobs.handle_file_event
    assert import_attribute(DRAIN_JOB) is drain.drain_inbox
    assert import_attribute(SWEEP_JOB) is sweep.sweep
    assert import_attribute(STACK_ACTION_JOB) is action_jobs.stack_folder
    assert import_attribute(UNDO_ACTION_JOB) is action_jobs.undo_resource


def test_the_seam_imports_none_of_the_job_modules() -> None:
    source = queue.__loader__.get_source(queue.__name__) or ""  # type: ignore[union-attr]
    assert "workers.ingest.jobs import" not in source and "workers.ingest.drain import" not in source


@pytest.mark.parametrize(
    ("old_path", "args", "result"),
    [
        # A file not found may be newer than Frame.io's reads show yet: the job reads it again later.
        ("workers.jobs.handle_file_event", ("{account}", "no-such-file", "file.upload.completed"), "waiting"),
        ("workers.drain.drain_inbox", ("{account}",), "drained"),
        ("workers.sweep.sweep", (), 0),
    ],
)
def test_a_job_queued_under_its_path_before_the_layout_changed_still_runs(
    sandbox: InProcessSandbox,
    redis_url: str,
    redis_client: redis.Redis,
    monkeypatch: pytest.MonkeyPatch,
    old_path: str,
    args: tuple[str, ...],
    result: object,
) -> None:
    rt = make_runtime(sandbox, redis_url, AUTOSTACK_SWEEP_INTERVAL_S="0")
    monkeypatch.setattr(runtime, "_current", rt)
    rq_queue = Queue("legacy", connection=redis_client)
    job = rq_queue.enqueue(old_path, *(arg.format(account=sandbox.account) for arg in args))
    assert SimpleWorker([rq_queue], connection=redis_client).work(burst=True)
    done = Job.fetch(job.id, connection=redis_client)
    assert (done.get_status(), done.return_value()) == ("finished", result)
