"""The Starlette app, built by a factory from the one settings object."""

from __future__ import annotations

import time

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from rq import Queue
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from service.action_menu import MenuContext
from service.actions import ActionContext, receive_action
from service.webhooks import WebhookContext, receive
from workers import credentials, metrics
from workers.ingest.inbox import inbox_files
from workers.settings import Settings

PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


def web_redis(settings: Settings) -> redis.Redis:
    """A Redis client tuned for the web tier: fail fast (a 503 within a second) rather than wait,
    since Frame.io delivers again after a non-2xx answer."""
    timeout = settings.autostack_web_redis_timeout_s
    return redis.Redis.from_url(
        settings.redis_url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
        health_check_interval=0,
    )


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    """503 only when Redis is down (nothing could be accepted). A Frame.io credential that is not
    ``ok`` is named (``"frameio"``, ``"status": "degraded"``) but keeps the pod ready: deliveries
    still wait safely in Redis for the workers, and Frame.io would give up on them if refused."""
    context: WebhookContext = request.app.state.webhooks
    try:
        await run_in_threadpool(context.redis.ping)
        credential = await run_in_threadpool(credentials.inspect, context.settings, context.redis)
    except redis.RedisError:
        return JSONResponse({"status": "unavailable", "redis": "down"}, status_code=503)
    status = "ok" if credential.state == "ok" else "degraded"
    return JSONResponse({"status": status, "redis": "up", "frameio": credential.view(time.time())})


async def metrics_endpoint(request: Request) -> PlainTextResponse:
    context: WebhookContext = request.app.state.webhooks
    actions: ActionContext = request.app.state.actions
    text = await run_in_threadpool(_metrics_text, context, actions)
    return PlainTextResponse(text, media_type=PROMETHEUS_TEXT)


def _metrics_text(context: WebhookContext, actions: ActionContext) -> str:
    extra = {metrics.series("autostack_webhooks_total", outcome=key): float(n) for key, n in context.outcomes.items()}
    extra |= {metrics.series("autostack_actions_total", outcome=key): float(n) for key, n in actions.outcomes.items()}
    extra["autostack_enqueue_failures_total"] = float(context.outcomes.get("unavailable", 0))
    try:
        stored: dict[bytes, bytes] = context.redis.hgetall(metrics.HASH)  # type: ignore[assignment]
        now = time.time()
        gauges = {
            metrics.series("autostack_queue_depth", queue=context.queue.name): float(context.queue.count),
            "autostack_inbox_files": float(inbox_files(context.redis)),
            **credentials.gauges(credentials.inspect(context.settings, context.redis, now), now),
        }
    except redis.RedisError:
        stored, gauges = {}, {}
    return metrics.render(stored, extra, gauges)


def create_app(settings: Settings, redis_client: redis.Redis | None = None) -> Starlette:
    settings.require_webhook_secrets()
    client = redis_client or web_redis(settings)
    app = Starlette(
        routes=[
            Route("/webhooks/frameio", receive, methods=["POST"]),
            Route("/actions/frameio", receive_action, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", metrics_endpoint, methods=["GET"]),
        ]
    )
    queue = Queue(settings.autostack_queue, connection=client)
    app.state.webhooks = WebhookContext(settings, client, queue)
    app.state.actions = ActionContext(MenuContext(settings, client, queue))
    return app
