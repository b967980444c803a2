"""``autostack worker``: an RQ worker, its runtime built once at start-up, and its upkeep thread.

RQ's scheduler is not started (``with_scheduler=False``): due jobs are moved by every worker's
upkeep thread (:mod:`service.upkeep`, :mod:`workers.ingest.due`), so no single process holds them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import redis
from rq import Worker
from rq.job import Job

# The job modules, loaded in the worker before RQ forks a work horse per job: each job would
# import them again otherwise (some 40 ms of every job's latency).
import workers.action_jobs
import workers.ingest.drain
import workers.ingest.jobs
import workers.ingest.sweep  # noqa: F401
from service.upkeep import BACKOFF_MAX_S, REDIS_ERRORS, RedisAway, Upkeep
from workers import runtime
from workers.ingest.due import DueMover
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
    """RQ's worker, with a shorter grace before a dead worker's job counts as abandoned, its own
    Redis errors between jobs ridden out (with back-off) instead of ending the worker, and a
    command listener that stops in a second.

    RQ keeps a running job's registry entry alive for the monitoring interval plus a fixed 60 s,
    so a job whose worker was killed is only found (and retried) after that; the grace is a setting.
    RQ's loop quits on a Redis error outside its wait for a job; here such an error waits (the
    shared :class:`~service.upkeep.RedisAway` logs and backs off) until Redis answers again or
    the upkeep thread gives up on it. RQ's listener thread for worker commands waits up to 60 s
    for a message, and redis-py 8's ``stop()`` joins it: once the unsubscribe's answer was read
    first, a warm shut-down hung for up to a minute. Here it wakes every second.
    """

    abandoned_grace_s = 60
    redis_away: RedisAway | None = None
    max_connection_wait_time = BACKOFF_MAX_S  # RQ's own back-off while it waits for a job (RQ: 60 s)
    listener_wake_s = 1.0

    def subscribe(self) -> None:
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(  # type: ignore[assignment]  # RQ types it None
            sleep_time=self.listener_wake_s, daemon=True, exception_handler=self._pubsub_exception_handler
        )

    def get_heartbeat_ttl(self, job: Job, working_time: float = 0.0) -> int:
        ttl = super().get_heartbeat_ttl(job, working_time)
        return max(1, ttl - 60 + self.abandoned_grace_s)

    def check_for_suspension(self, burst: bool) -> None:
        self._through_outage(lambda: super(AutostackWorker, self).check_for_suspension(burst))

    def run_maintenance_tasks(self) -> None:
        self._through_outage(super().run_maintenance_tasks)

    def _through_outage(self, step: Callable[[], None]) -> None:
        while True:
            try:
                step()
            except REDIS_ERRORS as exc:
                if self.redis_away is None or self.redis_away.given_up():
                    raise
                time.sleep(self.redis_away.failed(exc))  # RQ's loop has nothing else to do meanwhile
            else:
                if self.redis_away is not None:
                    self.redis_away.reached()
                return


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
        # A worker that dies without a goodbye is noticed after its TTL; its running job is
        # retried once its heartbeat is AUTOSTACK_ABANDONED_GRACE_S late, by the upkeep thread.
        worker_ttl=settings.autostack_worker_ttl_s,
        maintenance_interval=settings.autostack_maintenance_interval_s,
        job_monitoring_interval=settings.autostack_job_heartbeat_s,
    )
    worker.abandoned_grace_s = settings.autostack_abandoned_grace_s
    worker.redis_away = RedisAway(settings.autostack_redis_away_s)
    schedule_sweep(rt.queue(), settings.autostack_sweep_interval_s)
    upkeep = Upkeep(
        DueMover(rt.queue(), worker.name, settings.autostack_due_lease_s),
        worker.redis_away,
        settings.autostack_due_interval_s,
        Path(settings.autostack_liveness_file) if settings.autostack_liveness_file else None,
    )
    upkeep.start()
    try:
        worker.work(burst=burst, with_scheduler=False, logging_level="INFO")
    finally:
        upkeep.stop()
    return 0
