"""RQ entry points. Arguments are small JSON-able ids; the job rebuilds its inputs from Frame.io.

A permanent failure (the file was deleted, a 403) ends as a recorded decision, not a retry; a
retryable one (429, 5xx, a timeout) is raised so RQ runs the job again later; a file whose upload
has not finished is looked at again later by a scheduled job, without holding a worker.
"""

from __future__ import annotations

import hashlib
import logging
import random
import re
import time
from dataclasses import astuple, dataclass, replace
from datetime import timedelta
from typing import Any

from rq import Queue, Retry, get_current_job
from rq.exceptions import DuplicateJobError

from workers import metrics, runtime
from workers.coalesce import lead_or_follow, take_followers
from workers.decisions import Decision, record
from workers.errors import LockBusy, LockLost, PermanentError, RetryableError
from workers.limiting import Throttled
from workers.logs import bind
from workers.retry import retry_delay
from workers.scope import FolderScope
from workers.settings import Settings
from workers.stacker import Outcome, Stacker
from workers.sweep import note_folder

log = logging.getLogger("autostack.jobs")

# RQ's own retries are for what the job does not handle itself: a worker that died mid-job
# (its job is found abandoned) or an unexpected error. Frame.io failures are retried by the job.
RETRY_INTERVALS_S = [10, 60, 300]
MAX_WAITS = 60
LOCK_RETRY_S = 2.0
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def job_id_for(event_type: str, account_id: str, file_id: str) -> str:
    """One job id per (account, file, event): readable, within RQ's alphabet, unique by digest."""
    digest = hashlib.sha256(f"{account_id}\0{file_id}\0{event_type}".encode()).hexdigest()[:16]
    readable = _UNSAFE.sub("_", f"{event_type}_{file_id}")[:60]
    return f"{readable}_{digest}"


def rq_retry(settings: Settings) -> Retry:
    """RQ's own retries (for abandoned jobs and unexpected errors), scaled like the policy's."""
    scale = settings.autostack_retry_scale
    return Retry(max=len(RETRY_INTERVALS_S), interval=[max(1, round(s * scale)) for s in RETRY_INTERVALS_S])


def enqueue_file_event(
    queue: Queue, event_type: str, account_id: str, file_id: str, settings: Settings, suffix: str = ""
) -> str | None:
    """Queue one job for the event; None when the same job is already queued (a duplicate)."""
    job_id = job_id_for(event_type, account_id, file_id) + suffix
    try:
        queue.enqueue_call(
            handle_file_event,
            args=(account_id, file_id, event_type),
            job_id=job_id,
            unique=True,
            timeout=settings.autostack_job_timeout_s,
            result_ttl=3600,
            failure_ttl=30 * 24 * 3600,
            retry=rq_retry(settings),
            description=f"{event_type} file {file_id}",
        )
    except DuplicateJobError:
        return None
    return job_id


@dataclass(frozen=True)
class Run:
    """One run of a file's job: its ids and how it came to run (all JSON-able)."""

    account_id: str
    file_id: str
    event_type: str
    waits: int = 0  # runs handed back to RQ to wait (coalescing, upload not finished, lock busy)
    failures: int = 0  # retryable Frame.io failures so far
    not_before: float = 0.0  # Redis time: shared folder listings older than this are not used

    def again(self, queue: Queue, settings: Settings, delay: float, **changes: Any) -> None:
        """Hand the job back to RQ's scheduler to run in ``delay`` seconds."""
        later = replace(self, **changes)
        suffix = f"w{later.waits}r{later.failures}_{random.getrandbits(32):08x}"
        queue.enqueue_in(
            timedelta(seconds=delay),
            handle_file_event,
            *astuple(later),
            job_id=f"{job_id_for(self.event_type, self.account_id, self.file_id)}_{suffix}",
            retry=rq_retry(settings),
            failure_ttl=30 * 24 * 3600,
        )


def handle_file_event(
    account_id: str,
    file_id: str,
    event_type: str,
    waits: int = 0,
    failures: int = 0,
    not_before: float = 0.0,
) -> str:
    """Stack one file if its name says it is a version; record the decision either way.

    A retryable Frame.io failure (429, 5xx, no answer, our own limiter's long wait) hands the
    job back to RQ's scheduler for the delay the retry policy gives, so no worker sleeps on it;
    the next run re-reads everything before it writes, so a write is never replayed blindly."""
    rt = runtime.current()
    run = Run(account_id, file_id, event_type, waits, failures, not_before)
    job = get_current_job()
    bind(job_id=job.id if job else "", file_id=file_id, account_id=account_id, event_type=event_type)
    started = time.monotonic()
    seen: set[str] = set()
    try:
        outcome = _outcome(rt, run, seen)
    except RetryableError as exc:
        outcome = _retry_later(rt, exc, run)
    if outcome.outcome == "waiting" and outcome.code != "retry":
        outcome = _wait(rt, outcome, run)
    if run.waits > 0 and outcome.outcome != "waiting":
        release_followers(rt, run, seen)
    record_outcome(rt, outcome, run)
    count_outcome(rt, outcome, time.monotonic() - started)
    if outcome.outcome == "failed" and outcome.code == "gave-up":
        raise GaveUp(outcome.reason)
    return outcome.outcome


class GaveUp(Exception):
    """A retryable failure that kept failing: the job goes to RQ's failed registry for a person."""


def _retry_later(rt: runtime.Runtime, error: RetryableError, run: Run) -> Outcome:
    failures = run.failures if isinstance(error, Throttled) else run.failures + 1
    delay = retry_delay(error, max(1, failures), random.random())
    if delay is not None and not isinstance(error, Throttled):
        delay *= rt.settings.autostack_retry_scale
    if delay is None:
        return Outcome("failed", f"gave up after {failures} failures: {error}", "gave-up")
    run.again(rt.queue(), rt.settings, delay, failures=failures, not_before=0.0)
    return Outcome("waiting", f"{error}; trying again in {delay:.1f} s", "retry", wait_s=delay)


def release_followers(rt: runtime.Runtime, run: Run, seen: set[str]) -> None:
    """This job's runs have ended: if it led a coalescing window, every follower whose file none of
    its listings showed (all of them, if it failed before listing) gets a job of its own."""
    released = [file_id for file_id in take_followers(rt.redis(), run.file_id) if file_id not in seen]
    for file_id in released:
        Run(run.account_id, file_id, run.event_type, waits=1).again(rt.queue(), rt.settings, 0.0)
        log.info("file %s: its coalescing leader %s did not see it; it gets a job of its own", file_id, run.file_id)


def _outcome(rt: runtime.Runtime, run: Run, seen: set[str]) -> Outcome:
    settings = rt.settings
    memory = rt.memory()
    stacker = Stacker(
        rt.frameio(),
        rt.rules,
        rt.policy(),
        dry_run=settings.autostack_dry_run,
        lock=rt.locks().hold,
        memory=memory,
        job_id=run.file_id,
        scope=FolderScope(rt.frameio(), rt.redis(), settings.autostack_folders),
        seen=seen,  # the caller hands followers this run did not see to jobs of their own
    )
    window = settings.autostack_coalesce_window_s
    coalesce = None
    if run.waits == 0 and window > 0:
        client = rt.redis()
        coalesce = (lambda name: lead_or_follow(client, name, run.file_id, window), window)
    try:
        return stacker.run(
            run.account_id,
            run.file_id,
            not_ready_wait_s=settings.autostack_not_ready_retry_s,
            coalesce=coalesce,
            not_before=run.not_before or memory.now(),
        )
    except PermanentError as exc:
        return Outcome("failed", str(exc), f"http-{exc.status}")
    except (LockBusy, LockLost) as exc:
        return Outcome("waiting", str(exc), "lock", wait_s=LOCK_RETRY_S)


def _wait(rt: runtime.Runtime, outcome: Outcome, run: Run) -> Outcome:
    if run.waits >= MAX_WAITS:
        return Outcome("failed", f"gave up after {run.waits} waits: {outcome.reason}", "wait-exhausted", outcome.name)
    # A coalescing leader must plan from a listing made after its window closed.
    not_before = rt.memory().now() + outcome.wait_s if outcome.code == "coalescing" else 0.0
    run.again(rt.queue(), rt.settings, outcome.wait_s, waits=run.waits + 1, not_before=not_before)
    return outcome


def count_outcome(rt: runtime.Runtime, outcome: Outcome, seconds: float) -> None:
    increments = {
        metrics.series("autostack_jobs_total", outcome=outcome.outcome): 1.0,
        metrics.series("autostack_decisions_total", reason=outcome.code or outcome.outcome): 1.0,
        "autostack_stacks_created_total": float(outcome.created),
        "autostack_files_moved_total": float(outcome.moved),
        **metrics.duration(seconds),
        **rt.drain_call_metrics(),
    }
    metrics.add(rt.redis(), increments)


def record_outcome(rt: runtime.Runtime, outcome: Outcome, run: Run) -> None:
    parsed = outcome.parsed
    decision = Decision(
        account_id=run.account_id,
        file_id=run.file_id,
        outcome=outcome.outcome,
        reason=outcome.reason,
        code=outcome.code,
        name=outcome.name,
        group_key=parsed.group_key if parsed else "",
        version=parsed.version if parsed else None,
        rule=parsed.rule if parsed else outcome.code,
        folder_id=outcome.folder_id,
        stack_id=outcome.stack_id,
        event=run.event_type,
        dry_run=rt.settings.autostack_dry_run,
    )
    record(rt.redis(), decision, rt.settings.autostack_decision_log_max)
    if outcome.folder_id:
        note_folder(rt.redis(), run.account_id, outcome.folder_id, time.time())
    log.info("file %s (%s): %s: %s", run.file_id, outcome.name, outcome.outcome, outcome.reason)
