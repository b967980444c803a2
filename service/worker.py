"""``autostack worker``: an RQ worker with the scheduler, its runtime built once at start-up."""

from __future__ import annotations

from collections.abc import Callable

import redis
from rq import Worker
from rq.job import Job

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
    """RQ's worker, with a shorter grace before a dead worker's job counts as abandoned, and a
    command listener that stops in a second.

    RQ keeps a running job's registry entry alive for the monitoring interval plus a fixed 60 s,
    so a job whose worker was killed is only found (and retried) after that; the grace is a setting.
    RQ's listener thread for worker commands waits up to 60 s for a message, and redis-py 8's
    ``stop()`` joins it: once the unsubscribe's answer was read first, a warm shut-down hung for up
    to a minute. Here it wakes every second.
    """

    abandoned_grace_s = 60
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
