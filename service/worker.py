"""``autostack worker``: an RQ worker with the scheduler, its runtime built once at start-up."""

from __future__ import annotations

from collections.abc import Callable

import redis
from rq import Worker
from rq.job import Job

# The job modules, loaded in the worker before RQ forks a work horse per job: each job would
# import them again otherwise (some 40 ms of every job's latency).
import workers.action_jobs
import workers.ingest.drain
import workers.ingest.jobs
import workers.ingest.sweep  # noqa: F401
from workers import runtime
from workers.ingest.queue import schedule_sweep
from workers.naming.rules import RulesError, load_rulebook
from workers.naming.scopes import DEFAULT_BOOK, RuleBook
from workers.settings import ConfigError, Settings


def rules_for(settings: Settings) -> RuleBook:
    """The naming rules in force (with their scopes): ``AUTOSTACK_RULES`` validated at start-up, else the defaults."""
    if settings.autostack_rules is None:
        return DEFAULT_BOOK
    try:
        return load_rulebook(settings.autostack_rules)
    except RulesError as exc:
        raise ConfigError(f"AUTOSTACK_RULES: {exc}") from None


class AutostackWorker(Worker):
    """RQ's worker, with a shorter grace before a dead worker's job counts as abandoned.

    RQ keeps a running job's registry entry alive for the monitoring interval plus a fixed 60 s,
    so a job whose worker was killed is only found (and retried) after that; the grace is a setting.
    """

    abandoned_grace_s = 60

    def get_heartbeat_ttl(self, job: Job, working_time: float = 0.0) -> int:
        ttl = super().get_heartbeat_ttl(job, working_time)
        return max(1, ttl - 60 + self.abandoned_grace_s)


def run_worker(
    settings: Settings,
    *,
    burst: bool = False,
    name: str | None = None,
    on_start: Callable[[redis.Redis], None] | None = None,
) -> int:
    settings.require_frameio_credentials()
    rt = runtime.Runtime(settings, rules_for(settings))
    runtime.install(rt)
    rt.tls()  # built before the fork, inherited by every work horse
    if on_start is not None:
        on_start(rt.redis())
    worker = AutostackWorker(
        [rt.queue()],
        name=name,
        connection=rt.redis(),
        # A worker that dies without a goodbye is noticed after its TTL, and its job is recovered
        # by the next maintenance pass: seconds, not RQ's default many minutes.
        worker_ttl=settings.autostack_worker_ttl_s,
        maintenance_interval=settings.autostack_maintenance_interval_s,
        job_monitoring_interval=max(5, settings.autostack_worker_ttl_s // 3),
    )
    worker.abandoned_grace_s = settings.autostack_abandoned_grace_s
    schedule_sweep(rt.queue(), settings.autostack_sweep_interval_s)
    worker.work(burst=burst, with_scheduler=True, logging_level="INFO")
    return 0
