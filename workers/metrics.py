"""Metrics every process keeps in Redis, and the ``prometheus_client`` collector that renders them.

Workers come and go (RQ forks a work horse per job, KEDA scales the pods), so counters live in
one Redis hash that every process increments and the web tier's metrics port renders (its own
listener, ``AUTOSTACK_METRICS_ADDRESS``, not the public webhook port): scrape only the web pods.
A web pod's webhook answers are kept in the pod (they matter most while Redis is down) and added
to its rendering. So every web pod renders the same Redis-kept series, and alert rules take
``max`` of those across pods and ``sum`` only of the pod-local ones.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping

import httpx
import redis
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from workers.frameio.client import CallObserver

log = logging.getLogger("autostack.metrics")

HASH = "autostack:metrics"
DURATION_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)

HELP = {
    "autostack_webhooks_total": ("counter", "Webhook deliveries by outcome."),
    "autostack_actions_total": ("counter", "Custom Action calls (Frame.io's menu) by outcome."),
    "autostack_enqueue_failures_total": ("counter", "Deliveries answered 503 because Redis could not take the job."),
    "autostack_queue_depth": ("gauge", "Jobs waiting in the queue."),
    "autostack_inbox_files": ("gauge", "Files accepted and waiting in the accounts' inboxes for a drain."),
    "autostack_inbox_oldest_age_seconds": ("gauge", "Age of the oldest file waiting in any account's inbox."),
    "autostack_backlog": (
        "gauge",
        "The work waiting and in hand, by part: inbox files, queued, scheduled and running jobs (KEDA scales on it).",
    ),
    "autostack_jobs_total": ("counter", "Jobs by outcome."),
    "autostack_job_duration_seconds": ("histogram", "Job run time."),
    "autostack_frameio_calls_total": ("counter", "Frame.io calls by endpoint and status (none: no answer)."),
    "autostack_frameio_429_total": ("counter", "Frame.io 429 answers by endpoint."),
    "autostack_ratelimit_wait_seconds_total": ("counter", "Seconds slept waiting for the shared rate limiter."),
    "autostack_stacks_created_total": ("counter", "Version stacks created."),
    "autostack_files_moved_total": ("counter", "Files moved into version stacks."),
    "autostack_decisions_total": ("counter", "Decisions by reason code."),
    "autostack_frameio_token_state": (
        "gauge",
        "The Frame.io credential's state (1 for the current one): ok, expiring, expired, rejected, logged_out.",
    ),
    "autostack_frameio_token_expires_in_seconds": ("gauge", "Seconds until the Frame.io access token expires."),
    "autostack_sweep_last_run_timestamp_seconds": ("gauge", "When the reconciliation sweep last finished (Unix time)."),
}

_LABEL = re.compile(r"[^A-Za-z0-9_.:/+-]")
_PAIR = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)="([^"]*)"')
#: What a scrape reads: the series stored in Redis, this process's own additions, the gauges.
Snapshot = tuple[Mapping[bytes, bytes], Mapping[str, float], Mapping[str, float]]


def series(name: str, **labels: str) -> str:
    """The hash field of one series: ``name{a="x",b="y"}`` with labels sorted and cleaned."""
    if not labels:
        return name
    body = ",".join(f'{key}="{_LABEL.sub("_", str(value))[:80]}"' for key, value in sorted(labels.items()))
    return f"{name}{{{body}}}"


def add(client: redis.Redis, increments: Mapping[str, float]) -> None:
    """Add to several series in one round trip; a metrics failure never fails the caller."""
    if not increments:
        return
    try:
        pipe = client.pipeline(transaction=False)
        for field, amount in increments.items():
            pipe.hincrbyfloat(HASH, field, amount)
        pipe.execute()
    except redis.RedisError as exc:
        log.warning("metrics not recorded: %s", type(exc).__name__)


def stamp(client: redis.Redis, field: str, value: float) -> None:
    """Set a gauge kept in Redis (a time, say); a metrics failure never fails the caller."""
    try:
        client.hset(HASH, field, value)
    except redis.RedisError as exc:
        log.warning("metrics not recorded: %s", type(exc).__name__)


def duration(seconds: float) -> dict[str, float]:
    """The histogram increments for one job duration."""
    increments = {series("autostack_job_duration_seconds_bucket", le=_le(bound)): 1.0 for bound in DURATION_BUCKETS}
    increments = {key: value for key, value in increments.items() if seconds <= float(_bound_of(key))}
    increments[series("autostack_job_duration_seconds_bucket", le="+Inf")] = 1.0
    increments["autostack_job_duration_seconds_sum"] = seconds
    increments["autostack_job_duration_seconds_count"] = 1.0
    return increments


def _le(bound: float) -> str:
    return f"{bound:g}"


def _bound_of(field: str) -> str:
    return field.split('le="', 1)[1].rstrip('"}')


class CallCounter:
    """A :class:`~workers.frameio.client.CallObserver` that counts calls and passes them on."""

    def __init__(self, inner: CallObserver | None = None) -> None:
        self.inner = inner
        self.counts: Counter[str] = Counter()

    def before(self, account_id: str, endpoint: str) -> None:
        if self.inner is not None:
            self.inner.before(account_id, endpoint)

    def after(self, account_id: str, endpoint: str, status: int | None, headers: httpx.Headers | None) -> None:
        self.counts[series("autostack_frameio_calls_total", endpoint=endpoint, status=str(status or "none"))] += 1
        if status == 429:
            self.counts[series("autostack_frameio_429_total", endpoint=endpoint)] += 1
        if self.inner is not None:
            self.inner.after(account_id, endpoint, status, headers)

    def drain(self, waited_s: Mapping[str, float] | None = None) -> dict[str, float]:
        """The increments since the last drain (plus the limiter's waits), and start afresh."""
        increments: dict[str, float] = {key: float(value) for key, value in self.counts.items()}
        for endpoint, seconds in (waited_s or {}).items():
            increments[series("autostack_ratelimit_wait_seconds_total", endpoint=endpoint)] = seconds
        self.counts.clear()
        return increments


class RedisCollector(Collector):
    """A ``prometheus_client`` collector of the series kept in Redis, this process's extras and the
    gauges read at scrape time; ``read`` returns those three (empty when Redis does not answer)."""

    def __init__(self, read: Callable[[], Snapshot]) -> None:
        self.read = read

    def collect(self) -> Iterator[Metric]:
        stored, extra, gauges = self.read()
        values: dict[str, float] = {key.decode(): float(value) for key, value in stored.items()}
        for key, value in extra.items():
            values[key] = values.get(key, 0.0) + value
        values.update(gauges)
        for name, (kind, text) in HELP.items():
            family = Metric(name.removesuffix("_total") if kind == "counter" else name, text, kind)
            for key in _sorted_series(values, name):
                sample, labels = parse_series(key)
                family.add_sample(sample, labels, values[key])
            yield family


def render(stored: Mapping[bytes, bytes], extra: Mapping[str, float], gauges: Mapping[str, float]) -> str:
    """Prometheus text exposition of the stored series, this process's extras and the gauges."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RedisCollector(lambda: (stored, extra, gauges)))
    return generate_latest(registry).decode()


def parse_series(key: str) -> tuple[str, dict[str, str]]:
    """The name and labels of a hash field written by :func:`series`."""
    name, _, body = key.partition("{")
    return name, dict(_PAIR.findall(body))


def _sorted_series(values: Iterable[str], name: str) -> list[str]:
    def belongs(key: str) -> bool:
        base = key.split("{", 1)[0]
        return base == name or base in (f"{name}_bucket", f"{name}_sum", f"{name}_count")

    return sorted((key for key in values if belongs(key)), key=_bucket_order)


def _bucket_order(key: str) -> tuple[str, float]:
    if 'le="' not in key:
        return (key, 0.0)
    bound = _bound_of(key)
    return (key.split('le="', 1)[0], float("inf") if bound == "+Inf" else float(bound))
