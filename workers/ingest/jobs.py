"""RQ entry point for one file. Arguments are small JSON-able ids; the job rebuilds its inputs from Frame.io.

A permanent failure (the file was deleted, a 403) ends as a recorded decision, not a retry; a
retryable one (429, 5xx, a timeout) hands the job back to RQ's scheduled registry for the delay the retry
policy gives; a file whose upload has not finished is looked at again later the same way, without
holding a worker. Jobs are queued by :mod:`workers.ingest.queue`.
"""

from __future__ import annotations

import logging
import random
import time

from rq import get_current_job

from workers import runtime
from workers.frameio.errors import PermanentError, RetryableError, StaleRead, Throttled, failure_code
from workers.frameio.retry import retry_delay
from workers.ingest.coalesce import lead_or_follow, take_followers
from workers.ingest.queue import LOCK_RETRY_S, Run
from workers.ingest.record import count_outcome, record_outcome
from workers.logs import bind
from workers.stacking.locks import LockBusy, LockLost
from workers.stacking.scope import FolderScope
from workers.stacking.stacker import Outcome, Stacker

log = logging.getLogger("autostack.jobs")

MAX_WAITS = 60
#: Reads of a file a webhook named that Frame.io does not find before it counts as deleted (its
#: reads may lag its writes: a new file can be missing from them for a while).
NOT_FOUND_READS = 4


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
    job back to RQ's scheduled registry for the delay the retry policy gives, so no worker sleeps on it;
    the next run re-reads everything before it writes, so a write is never replayed blindly."""
    rt = runtime.current()
    run = Run(account_id, file_id, event_type, waits, failures, not_before)
    job = get_current_job()
    bind(job_id=job.id if job else "", file_id=file_id, account_id=account_id, event_type=event_type)
    started = time.monotonic()
    try:
        outcome = _outcome(rt, run)
    except RetryableError as exc:
        outcome = _retry_later(rt, exc, run)
    if outcome.status == "waiting" and outcome.code != "retry":
        outcome = _wait(rt, outcome, run)
    if run.waits > 0 and outcome.status != "waiting":
        release_followers(rt, run, outcome.seen)
    record_outcome(rt, outcome, run)
    count_outcome(rt, outcome, time.monotonic() - started)
    if outcome.status == "failed" and outcome.code == "gave-up":
        raise GaveUp(outcome.reason)
    return outcome.status


class GaveUp(Exception):
    """A retryable failure that kept failing: the job goes to RQ's failed registry for a person."""


def _retry_later(rt: runtime.Runtime, error: RetryableError, run: Run) -> Outcome:
    failures = run.failures if isinstance(error, Throttled) else run.failures + 1
    if isinstance(error, StaleRead) and error.status == 404 and failures >= NOT_FOUND_READS:
        return Outcome("failed", f"{error}; not found in {failures} reads", "http-404")
    delay = retry_delay(error, max(1, failures), random.random())
    if delay is not None and not isinstance(error, Throttled):
        delay *= rt.settings.autostack_retry_scale
    if delay is None:
        return Outcome("failed", f"gave up after {failures} failures: {error}", "gave-up")
    run.again(rt.queue(), rt.settings, delay, failures=failures, not_before=0.0)
    return Outcome("waiting", f"{error}; trying again in {delay:.1f} s", "retry", wait_s=delay)


def release_followers(rt: runtime.Runtime, run: Run, seen: frozenset[str]) -> None:
    """This job's runs have ended: if it led a coalescing window, every follower whose file none of
    its listings showed (all of them, if it failed before listing) gets a job of its own."""
    released = [file_id for file_id in take_followers(rt.redis(), run.file_id) if file_id not in seen]
    for file_id in released:
        Run(run.account_id, file_id, run.event_type, waits=1).again(rt.queue(), rt.settings, 0.0)
        log.info("file %s: its coalescing leader %s did not see it; it gets a job of its own", file_id, run.file_id)


def _outcome(rt: runtime.Runtime, run: Run) -> Outcome:
    settings = rt.settings
    memory = rt.memory()
    stacker = Stacker(
        rt.frameio(),
        rt.folder_rules(),
        rt.policy(),
        dry_run=settings.autostack_dry_run,
        lock=rt.locks().hold,
        memory=memory,
        job_id=run.file_id,
        scope=FolderScope(rt.frameio(), rt.redis(), settings.autostack_folders),
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
        return Outcome("failed", str(exc), failure_code(exc))
    except (LockBusy, LockLost) as exc:
        return Outcome("waiting", str(exc), "lock", wait_s=LOCK_RETRY_S)


def _wait(rt: runtime.Runtime, outcome: Outcome, run: Run) -> Outcome:
    if run.waits >= MAX_WAITS:
        return Outcome("failed", f"gave up after {run.waits} waits: {outcome.reason}", "wait-exhausted", outcome.name)
    # A coalescing leader must plan from a listing made after its window closed.
    not_before = rt.memory().now() + outcome.wait_s if outcome.code == "coalescing" else 0.0
    run.again(rt.queue(), rt.settings, outcome.wait_s, waits=run.waits + 1, not_before=not_before)
    return outcome
