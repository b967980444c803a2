"""``autostack worker``: an RQ worker with the scheduler, its runtime built once at start-up."""

from __future__ import annotations

from rq import Worker

from workers import runtime
from workers.settings import Settings


def run_worker(settings: Settings, *, burst: bool = False, name: str | None = None) -> int:
    settings.require_frameio_credentials()
    rt = runtime.Runtime(settings)
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
    worker.work(burst=burst, with_scheduler=True, logging_level="INFO")
    return 0
