"""``autostack worker``: an RQ worker with the scheduler, its runtime built once at start-up."""

from __future__ import annotations

from rq import Worker

from workers import runtime
from workers.naming import DEFAULT_RULES, Rules
from workers.rules import RulesError, load_rules
from workers.settings import ConfigError, Settings
from workers.sweep import schedule_sweep


def rules_for(settings: Settings) -> Rules:
    """The naming rules in force: ``AUTOSTACK_RULES`` validated at start-up, else the defaults."""
    if settings.autostack_rules is None:
        return DEFAULT_RULES
    try:
        return load_rules(settings.autostack_rules)
    except RulesError as exc:
        raise ConfigError(f"AUTOSTACK_RULES: {exc}") from None


def run_worker(settings: Settings, *, burst: bool = False, name: str | None = None) -> int:
    settings.require_frameio_credentials()
    rt = runtime.Runtime(settings, rules_for(settings))
    runtime.install(rt)
    worker = Worker(
        [rt.queue()],
        name=name,
        connection=rt.redis(),
        # A worker that dies without a goodbye is noticed after its TTL, and its job is recovered
        # by the next maintenance pass: seconds, not RQ's default many minutes.
        worker_ttl=settings.autostack_worker_ttl_s,
        maintenance_interval=settings.autostack_maintenance_interval_s,
        job_monitoring_interval=max(5, settings.autostack_worker_ttl_s // 3),
    )
    schedule_sweep(rt.queue(), settings.autostack_sweep_interval_s)
    worker.work(burst=burst, with_scheduler=True, logging_level="INFO")
    return 0
