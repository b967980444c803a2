"""The metrics listener: ``prometheus_client`` serving the Redis-kept series on its own address.

The public webhook port answers Frame.io only; Prometheus scrapes ``AUTOSTACK_METRICS_ADDRESS``
(a Service port of its own, scraped through the ServiceMonitor in the production overlay).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from wsgiref.simple_server import WSGIServer

import redis
from prometheus_client import CollectorRegistry, generate_latest, start_http_server

from service.webhooks import WebhookContext
from workers import credentials, metrics
from workers.ingest.backlog import read_backlog
from workers.settings import metrics_listen

log = logging.getLogger("autostack.metrics")


def snapshot(context: WebhookContext, actions: Counter[str] | None = None) -> metrics.Snapshot:
    """What one scrape renders: the Redis series, this pod's webhook and Custom Action answers,
    the gauges read now."""
    extra = {metrics.series("autostack_webhooks_total", outcome=key): float(n) for key, n in context.outcomes.items()}
    extra |= {metrics.series("autostack_actions_total", outcome=key): float(n) for key, n in (actions or {}).items()}
    extra["autostack_enqueue_failures_total"] = float(context.outcomes.get("unavailable", 0))
    try:
        stored: dict[bytes, bytes] = context.redis.hgetall(metrics.HASH)  # type: ignore[assignment]
        backlog = read_backlog(context.redis, context.queue)
        now = time.time()
        credential, accounts = credentials.inspect_all(context.settings, context.redis, now)
        gauges = {
            metrics.series("autostack_queue_depth", queue=context.queue.name): float(backlog.queued),
            "autostack_inbox_files": float(backlog.inbox),
            "autostack_inbox_oldest_age_seconds": backlog.oldest_inbox_age_s,
            **{metrics.series("autostack_backlog", part=part): float(n) for part, n in backlog.parts().items()},
            **credentials.gauges(credential, now, accounts),
        }
    except redis.RedisError:
        stored, gauges = {}, {}
    return stored, extra, gauges


def registry_for(context: WebhookContext, actions: Counter[str] | None = None) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(metrics.RedisCollector(lambda: snapshot(context, actions)))
    return registry


def render_text(context: WebhookContext, actions: Counter[str] | None = None) -> str:
    """The text one scrape of the metrics listener answers."""
    return generate_latest(registry_for(context, actions)).decode()


def start_metrics(context: WebhookContext, actions: Counter[str] | None = None) -> WSGIServer | None:
    """Serve the metrics on ``AUTOSTACK_METRICS_ADDRESS`` in a thread; None when it is empty or
    taken (one warning line: the webhook port matters more than the metrics)."""
    address = context.settings.autostack_metrics_address
    if not address:
        return None
    host, port = metrics_listen(address)
    try:
        server, _thread = start_http_server(port, addr=host, registry=registry_for(context, actions))
    except OSError as exc:
        log.warning("metrics not served: %s is unavailable (%s); set AUTOSTACK_METRICS_ADDRESS", address, exc.strerror)
        return None
    log.info("metrics served at http://%s/metrics", address)
    return server
