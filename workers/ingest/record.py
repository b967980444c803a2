"""Recording a file's outcome: the decision log, the metrics, the log line, the sweep's note.

Every path that decides a file (its own job, or the drain) ends here, so ``autostack explain``,
``/metrics`` and the sweep see every decision the same way.
"""

from __future__ import annotations

import logging
import time

from workers import metrics, runtime
from workers.decisions import Decision, record
from workers.ingest.queue import Run
from workers.ingest.sweep import note_folder
from workers.stacking.stacker import Outcome

log = logging.getLogger("autostack.jobs")


def count_outcome(rt: runtime.Runtime, outcome: Outcome, seconds: float) -> None:
    increments = {
        metrics.series("autostack_jobs_total", outcome=outcome.status): 1.0,
        metrics.series("autostack_decisions_total", reason=outcome.code or outcome.status): 1.0,
        "autostack_stacks_created_total": float(outcome.created),
        "autostack_files_moved_total": float(outcome.moved),
        **metrics.duration(seconds),
        **rt.take_call_metrics(),
    }
    metrics.add(rt.redis(), increments)


def record_outcome(rt: runtime.Runtime, outcome: Outcome, run: Run) -> None:
    parsed = outcome.parsed
    decision = Decision(
        account_id=run.account_id,
        file_id=run.file_id,
        outcome=outcome.status,
        reason=outcome.reason,
        code=outcome.code,
        name=outcome.name,
        group_key=parsed.group_key if parsed else "",
        version=parsed.version if parsed else None,
        rule=parsed.rule if parsed else outcome.code,
        scope=outcome.scope,
        folder_id=outcome.folder_id,
        stack_id=outcome.stack_id,
        event=run.event_type,
        dry_run=rt.settings.autostack_dry_run,
    )
    record(rt.redis(), decision, rt.settings.autostack_decision_log_max, rt.settings.decision_retention_s)
    if outcome.folder_id:
        note_folder(rt.redis(), run.account_id, outcome.folder_id, time.time(), rt.settings.autostack_sweep_lookback_s)
    log.info("file %s (%s): %s: %s", run.file_id, outcome.name, outcome.status, outcome.reason)
