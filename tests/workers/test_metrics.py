"""Metrics kept in Redis by every process and rendered as Prometheus text."""

from __future__ import annotations

import httpx
import redis
from prometheus_client.parser import text_string_to_metric_families

from workers import metrics
from workers.metrics import CallCounter, series


def test_series_sort_and_clean_their_labels() -> None:
    assert series("x_total", b="2", a='q"uote') == 'x_total{a="q_uote",b="2"}'
    assert series("x_total") == "x_total"


def test_a_job_duration_lands_in_every_bucket_at_or_above_it() -> None:
    increments = metrics.duration(0.3)
    buckets = {key for key in increments if key.endswith('"}') and "bucket" in key}
    assert series("autostack_job_duration_seconds_bucket", le="0.25") not in buckets
    assert series("autostack_job_duration_seconds_bucket", le="0.5") in buckets
    assert series("autostack_job_duration_seconds_bucket", le="+Inf") in buckets
    assert increments["autostack_job_duration_seconds_count"] == 1.0


def test_counts_from_several_processes_add_up_and_render(redis_client: redis.Redis) -> None:
    metrics.add(redis_client, {series("autostack_jobs_total", outcome="stacked"): 1.0, **metrics.duration(0.3)})
    metrics.add(redis_client, {series("autostack_jobs_total", outcome="stacked"): 1.0, **metrics.duration(7.0)})
    extra = {series("autostack_webhooks_total", outcome="queued"): 5.0}
    text = metrics.render(redis_client.hgetall(metrics.HASH), extra, {series("autostack_queue_depth", queue="q"): 3.0})  # type: ignore[arg-type]
    families = {family.name: family for family in text_string_to_metric_families(text)}
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value for f in families.values() for s in f.samples}
    assert samples[("autostack_jobs_total", (("outcome", "stacked"),))] == 2
    assert samples[("autostack_webhooks_total", (("outcome", "queued"),))] == 5
    assert samples[("autostack_queue_depth", (("queue", "q"),))] == 3
    assert samples[("autostack_job_duration_seconds_bucket", (("le", "0.5"),))] == 1
    assert samples[("autostack_job_duration_seconds_bucket", (("le", "10"),))] == 2
    assert samples[("autostack_job_duration_seconds_count", ())] == 2
    assert families["autostack_job_duration_seconds"].type == "histogram"
    assert families["autostack_jobs"].type == "counter"  # the parser names a counter without _total
    buckets = [line for line in text.splitlines() if line.startswith("autostack_job_duration_seconds_bucket")]
    assert buckets[-1].startswith('autostack_job_duration_seconds_bucket{le="+Inf"}')


def test_every_exported_name_is_declared_once_with_its_type() -> None:
    text = metrics.render({}, {"autostack_jobs_total": 1.0}, {"autostack_inbox_files": 2.0})
    assert "# TYPE autostack_jobs_total counter" in text.splitlines()
    assert "# TYPE autostack_inbox_files gauge" in text.splitlines()
    assert text.count("# TYPE autostack_jobs_total ") == 1


def test_metrics_failures_never_fail_the_caller() -> None:
    dead = redis.Redis.from_url("redis://127.0.0.1:9/0", socket_connect_timeout=0.2)
    metrics.add(dead, {"autostack_jobs_total": 1.0})


def test_the_call_counter_counts_and_passes_calls_on() -> None:
    seen: list[tuple[str, int | None]] = []

    class Inner:
        def before(self, account_id: str, endpoint: str) -> None:
            seen.append((endpoint, None))

        def after(self, account_id: str, endpoint: str, status: int | None, headers: httpx.Headers | None) -> None:
            seen.append((endpoint, status))

    counter = CallCounter(Inner())
    counter.before("acc", "show_file")
    counter.after("acc", "show_file", 200, None)
    counter.after("acc", "create_stack", 429, None)
    counter.after("acc", "move_file", None, None)
    drained = counter.drain({"create_stack": 1.5})
    assert drained == {
        series("autostack_frameio_calls_total", endpoint="show_file", status="200"): 1.0,
        series("autostack_frameio_calls_total", endpoint="create_stack", status="429"): 1.0,
        series("autostack_frameio_429_total", endpoint="create_stack"): 1.0,
        series("autostack_frameio_calls_total", endpoint="move_file", status="none"): 1.0,
        series("autostack_ratelimit_wait_seconds_total", endpoint="create_stack"): 1.5,
    }
    assert counter.drain() == {}
    assert seen == [("show_file", None), ("show_file", 200), ("create_stack", 429), ("move_file", None)]
