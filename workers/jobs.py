"""RQ entry points. Arguments are small JSON-able ids; the job rebuilds its inputs from Frame.io.

A permanent failure (the file was deleted, a 403) ends as a recorded decision, not a retry; a
retryable one (429, 5xx, a timeout) is raised so RQ runs the job again later; a file whose upload
has not finished is looked at again later by a scheduled job, without holding a worker.
"""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import timedelta

from rq import Queue, Retry
from rq.exceptions import DuplicateJobError

from workers import runtime
from workers.coalesce import lead_or_follow
from workers.decisions import Decision, record
from workers.errors import LockBusy, LockLost, PermanentError
from workers.stacker import Outcome, Stacker

log = logging.getLogger("autostack.jobs")

# RQ's own retries, for retryable Frame.io failures (Frame.io asks for >= 30 s after a 5xx).
RETRY_INTERVALS_S = [30, 60, 120, 300, 600, 900]
MAX_WAITS = 60
LOCK_RETRY_S = 2.0
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def job_id_for(event_type: str, account_id: str, file_id: str) -> str:
    """One job id per (account, file, event): readable, within RQ's alphabet, unique by digest."""
    digest = hashlib.sha256(f"{account_id}\0{file_id}\0{event_type}".encode()).hexdigest()[:16]
    readable = _UNSAFE.sub("_", f"{event_type}_{file_id}")[:60]
    return f"{readable}_{digest}"


def enqueue_file_event(queue: Queue, event_type: str, account_id: str, file_id: str, job_timeout: int) -> str | None:
    """Queue one job for the event; None when the same job is already queued (a duplicate)."""
    job_id = job_id_for(event_type, account_id, file_id)
    try:
        queue.enqueue_call(
            handle_file_event,
            args=(account_id, file_id, event_type),
            job_id=job_id,
            unique=True,
            timeout=job_timeout,
            result_ttl=3600,
            failure_ttl=30 * 24 * 3600,
            retry=Retry(max=len(RETRY_INTERVALS_S), interval=RETRY_INTERVALS_S),
            description=f"{event_type} file {file_id}",
        )
    except DuplicateJobError:
        return None
    return job_id


def handle_file_event(account_id: str, file_id: str, event_type: str, waits: int = 0) -> str:
    """Stack one file if its name says it is a version; record the decision either way."""
    rt = runtime.current()
    outcome = _outcome(rt, account_id, file_id, waits)
    if outcome.outcome == "waiting":
        outcome = _wait(rt.queue(), outcome, account_id, file_id, event_type, waits)
    _record(rt, outcome, account_id, file_id, event_type)
    return outcome.outcome


def _outcome(rt: runtime.Runtime, account_id: str, file_id: str, waits: int) -> Outcome:
    settings = rt.settings
    stacker = Stacker(rt.frameio(), rt.rules, rt.policy(), dry_run=settings.autostack_dry_run, lock=rt.locks().hold)
    window = settings.autostack_coalesce_window_s
    client = rt.redis()
    coalesce = None
    if waits == 0 and window > 0:
        coalesce = (lambda name: lead_or_follow(client, name, file_id, window), window)
    try:
        return stacker.run(
            account_id, file_id, not_ready_wait_s=settings.autostack_not_ready_retry_s, coalesce=coalesce
        )
    except PermanentError as exc:
        return Outcome("failed", str(exc), f"http-{exc.status}")
    except (LockBusy, LockLost) as exc:
        return Outcome("waiting", str(exc), "lock", wait_s=LOCK_RETRY_S)


def _wait(queue: Queue, outcome: Outcome, account_id: str, file_id: str, event_type: str, waits: int) -> Outcome:
    if waits >= MAX_WAITS:
        return Outcome("failed", f"gave up after {waits} waits: {outcome.reason}", "wait-exhausted", outcome.name)
    queue.enqueue_in(
        timedelta(seconds=outcome.wait_s),
        handle_file_event,
        account_id,
        file_id,
        event_type,
        waits + 1,
        job_id=f"{job_id_for(event_type, account_id, file_id)}_wait{waits + 1}",
    )
    return outcome


def _record(rt: runtime.Runtime, outcome: Outcome, account_id: str, file_id: str, event_type: str) -> None:
    parsed = outcome.parsed
    decision = Decision(
        account_id=account_id,
        file_id=file_id,
        outcome=outcome.outcome,
        reason=outcome.reason,
        code=outcome.code,
        name=outcome.name,
        group_key=parsed.group_key if parsed else "",
        version=parsed.version if parsed else None,
        rule=parsed.rule if parsed else outcome.code,
        folder_id=outcome.folder_id,
        stack_id=outcome.stack_id,
        event=event_type,
        dry_run=rt.settings.autostack_dry_run,
    )
    record(rt.redis(), decision, rt.settings.autostack_decision_log_max)
    log.info("file %s (%s): %s: %s", file_id, outcome.name, outcome.outcome, outcome.reason)
