"""The metrics listener: its own address, prometheus_client's exposition of the Redis series and the
backlog, and nothing of it on the public webhook port."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from service.app import create_app
from service.metrics_port import start_metrics
from service.processes import free_port
from service.webhooks import WebhookContext
from workers import metrics
from workers.ingest.inbox import Inbox
from workers.settings import ConfigError, load_settings


@pytest.fixture
def context(redis_url: str, redis_client: redis.Redis) -> WebhookContext:
    env = {"REDIS_URL": redis_url, "FRAMEIO_WEBHOOK_SECRETS": "whsec", "FRAMEIO_TOKEN": "t"}
    env["AUTOSTACK_METRICS_ADDRESS"] = f"127.0.0.1:{free_port()}"
    app = create_app(load_settings(env))
    found: WebhookContext = app.state.webhooks
    return found


@pytest.fixture
def listener(context: WebhookContext) -> Iterator[str]:
    server = start_metrics(context)
    assert server is not None
    yield f"http://{context.settings.autostack_metrics_address}/metrics"
    server.shutdown()
    server.server_close()


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    answer = httpx.get(url, timeout=5)
    assert answer.status_code == 200
    families = text_string_to_metric_families(answer.text)
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for f in families for s in f.samples}


def test_the_listener_renders_redis_counters_and_the_backlog(
    context: WebhookContext, listener: str, redis_client: redis.Redis
) -> None:
    metrics.add(redis_client, {metrics.series("autostack_jobs_total", outcome="stacked"): 3.0})
    for n in range(5):
        Inbox(redis_client, "acc").accept(f"f{n}", "file.upload.completed", 3600)
    context.outcomes["unavailable"] += 2
    values = scrape(listener)
    assert values[("autostack_jobs_total", (("outcome", "stacked"),))] == 3
    assert values[("autostack_backlog", (("part", "inbox"),))] == 5
    assert values[("autostack_inbox_files", ())] == 5
    assert values[("autostack_enqueue_failures_total", ())] == 2


def test_the_webhook_port_publishes_no_metrics(context: WebhookContext) -> None:
    app = create_app(context.settings, context.redis)
    with TestClient(app) as web:
        assert web.get("/metrics").status_code == 404
        assert web.get("/healthz").status_code == 200


def test_a_taken_metrics_address_leaves_the_service_running(context: WebhookContext, listener: str) -> None:
    assert start_metrics(context) is None  # the same address again: one warning, no crash


def test_a_malformed_metrics_address_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="AUTOSTACK_METRICS_ADDRESS: must be host:port"):
        load_settings({"AUTOSTACK_METRICS_ADDRESS": "9464"})
    assert load_settings({"AUTOSTACK_METRICS_ADDRESS": ""}).autostack_metrics_address == ""
