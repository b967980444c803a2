"""The queue seam: every RQ job autostack puts in Redis is queued here, and nowhere else.

Job ids, RQ's retry options and the enqueue calls for the three kinds of job: a file's job
(:mod:`workers.ingest.jobs`), an account's drain (:mod:`workers.ingest.drain`) and the periodic
sweep (:mod:`workers.ingest.sweep`). The job functions are named by their dotted paths, as RQ
stores them, so this module imports none of them: the modules that queue work (the web tier,
the drain, the sweep, a file's job handing itself back) import this seam, not each other.

Swapping the queue backend means changing this module (and :mod:`workers.runtime`, which opens
the queue).
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import random
import re
import time
from dataclasses import astuple, dataclass, replace
from datetime import timedelta
from typing import Any

from rq import Queue, Retry
from rq.exceptions import DuplicateJobError

from workers.settings import Settings

#: The job functions, by the dotted path RQ stores with each job (a test checks each resolves).
FILE_JOB = "workers.ingest.jobs.handle_file_event"
DRAIN_JOB = "workers.ingest.drain.drain_inbox"
SWEEP_JOB = "workers.ingest.sweep.sweep"
STACK_ACTION_JOB = "workers.action_jobs.stack_folder"
UNDO_ACTION_JOB = "workers.action_jobs.undo_resource"
ACTION_PREFIX = "action_"

# RQ's own retries are for what a job does not handle itself: a worker that died mid-job (its
# job is found abandoned) or an unexpected error. Frame.io failures are retried by the job. The
# first comes soon: a killed worker's job runs again within seconds of being found abandoned.
RETRY_INTERVALS_S = [1, 60, 300]
FAILURE_TTL_S = 30 * 24 * 3600
LOCK_RETRY_S = 2.0  # a group whose lock another job holds is tried again this soon
DRAIN_PREFIX = "drain_"  # every drain job's id starts so (a file job's id starts with its event)
SWEEP_PREFIX = "sweep_"
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def rq_retry(settings: Settings) -> Retry:
    """RQ's own retries (for abandoned jobs and unexpected errors), scaled like the policy's."""
    scale = settings.autostack_retry_scale
    return Retry(max=len(RETRY_INTERVALS_S), interval=[max(1, round(s * scale)) for s in RETRY_INTERVALS_S])


# -- a file's job ------------------------------------------------------------------------------


def file_job_id(event_type: str, account_id: str, file_id: str) -> str:
    """One job id per (account, file, event): readable, within RQ's alphabet, unique by digest."""
    digest = hashlib.sha256(f"{account_id}\0{file_id}\0{event_type}".encode()).hexdigest()[:16]
    readable = _UNSAFE.sub("_", f"{event_type}_{file_id}")[:60]
    return f"{readable}_{digest}"


def enqueue_file_event(
    queue: Queue, event_type: str, account_id: str, file_id: str, settings: Settings, suffix: str = ""
) -> str | None:
    """Queue one job for the event; None when the same job is already queued (a duplicate)."""
    job_id = file_job_id(event_type, account_id, file_id) + suffix
    try:
        queue.enqueue_call(
            FILE_JOB,
            args=(account_id, file_id, event_type),
            job_id=job_id,
            unique=True,
            timeout=settings.autostack_job_timeout_s,
            result_ttl=3600,
            failure_ttl=FAILURE_TTL_S,
            retry=rq_retry(settings),
            description=f"{event_type} file {file_id}",
        )
    except DuplicateJobError:
        return None
    return job_id


@dataclass(frozen=True)
class Run:
    """One run of a file's job: its arguments, as RQ passes them (all JSON-able)."""

    account_id: str
    file_id: str
    event_type: str
    waits: int = 0  # runs handed back to RQ to wait (coalescing, upload not finished, lock busy)
    failures: int = 0  # retryable Frame.io failures so far
    not_before: float = 0.0  # Redis time: shared folder listings older than this are not used

    def again(self, queue: Queue, settings: Settings, delay: float, **changes: Any) -> None:
        """Hand the job back to RQ's scheduled registry (moved when due, see .due) to run in ``delay`` seconds."""
        later = replace(self, **changes)
        suffix = f"w{later.waits}r{later.failures}_{random.getrandbits(32):08x}"
        queue.enqueue_in(
            timedelta(seconds=delay),
            FILE_JOB,
            *astuple(later),
            job_id=f"{file_job_id(self.event_type, self.account_id, self.file_id)}_{suffix}",
            retry=rq_retry(settings),
            failure_ttl=FAILURE_TTL_S,
        )


# -- an account's drain ------------------------------------------------------------------------


def enqueue_drain(queue: Queue, account_id: str, settings: Settings, delay_s: float = 0.0) -> str:
    """Queue the account's drain job (now, or in ``delay_s`` via RQ's scheduled registry)."""
    job_id = f"{DRAIN_PREFIX}{_UNSAFE.sub('_', account_id)[:60]}_{random.getrandbits(48):012x}"
    options = {
        "job_id": job_id,
        "job_timeout": settings.autostack_job_timeout_s,
        "result_ttl": 600,
        "failure_ttl": FAILURE_TTL_S,
        "retry": rq_retry(settings),
        "description": f"drain the inbox of account {account_id}",
    }
    if delay_s > 0:
        queue.enqueue_in(timedelta(seconds=delay_s), DRAIN_JOB, account_id, **options)
    else:
        queue.enqueue(DRAIN_JOB, account_id, **options)
    return job_id


# -- a Custom Action's work ---------------------------------------------------------------------


def enqueue_action(queue: Queue, job: str, args: tuple[str | bool, ...], settings: Settings, job_id: str) -> str:
    """Queue the work a person asked for from Frame.io's menu (``job``: one of the action jobs)."""
    full_id = f"{ACTION_PREFIX}{_UNSAFE.sub('_', job_id)[:80]}"
    queue.enqueue_call(
        job,
        args=args,
        job_id=full_id,
        timeout=settings.autostack_job_timeout_s,
        result_ttl=600,
        failure_ttl=FAILURE_TTL_S,
        description=f"{job.rsplit('.', 1)[-1]} asked from Frame.io's menu",
    )
    return full_id


# -- the sweep -----------------------------------------------------------------------------------


def schedule_sweep(queue: Queue, interval_s: float, now: float | None = None) -> None:
    """Make sure the next sweep is scheduled: one job per interval slot, whichever worker asks."""
    if interval_s <= 0:
        return
    moment = time.time() if now is None else now
    slot = math.floor(moment / interval_s) + 1
    delay = max(0.0, slot * interval_s - moment)
    with contextlib.suppress(DuplicateJobError):  # another worker scheduled this slot already
        queue.enqueue_in(
            timedelta(seconds=delay), SWEEP_JOB, job_id=f"{SWEEP_PREFIX}{slot}", unique=True, result_ttl=600
        )
