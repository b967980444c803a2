"""The Starlette app, built by a factory from the one settings object."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from functools import partial

import redis
from redis.asyncio import Redis as AsyncRedis
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.retry import Retry
from rq import Queue
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from service.action_menu import MenuContext
from service.actions import ActionContext, receive_action
from service.webhooks import WebhookContext, receive
from workers import credentials
from workers.settings import Settings


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


def web_async_redis(settings: Settings) -> AsyncRedis:
    """The same, for the event loop: the endpoint accepts a delivery with one round trip on it."""
    timeout = settings.autostack_web_redis_timeout_s
    return AsyncRedis.from_url(
        settings.redis_url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=AsyncRetry(NoBackoff(), 0),
        health_check_interval=0,
    )


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    """503 only when Redis is down (nothing could be accepted). A Frame.io credential that is not
    ``ok`` is named (``"frameio"``, each account's in ``"accounts"``; ``"status": "degraded"``) but
    keeps the pod ready: deliveries still wait safely in Redis for the workers, and Frame.io would
    give up on them if refused. ``"frameio"`` is null when only the accounts file has credentials."""
    context: WebhookContext = request.app.state.webhooks
    try:
        await run_in_threadpool(context.redis.ping)
        now = time.time()
        credential, accounts = await run_in_threadpool(credentials.inspect_all, context.settings, context.redis, now)
    except redis.RedisError:
        return JSONResponse({"status": "unavailable", "redis": "down"}, status_code=503)
    status = "ok" if credentials.all_ok(credential, accounts) else "degraded"
    body: dict[str, object] = {"status": status, "redis": "up", "frameio": credential and credential.view(now)}
    if accounts:
        body["accounts"] = {account: found.view(now) for account, found in accounts.items()}
    return JSONResponse(body)


def create_app(settings: Settings, redis_client: redis.Redis | None = None) -> Starlette:
    """The app; ``redis_client`` (a test's) replaces the synchronous client (RQ, readiness)."""
    settings.require_webhook_secrets()
    client = redis_client or web_redis(settings)
    opener = partial(web_async_redis, settings)
    context = WebhookContext(settings, client, Queue(settings.autostack_queue, connection=client), opener)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await context.close()

    app = Starlette(
        routes=[
            Route("/webhooks/frameio", receive, methods=["POST"]),
            Route("/actions/frameio", receive_action, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    app.state.webhooks = context
    app.state.actions = ActionContext(MenuContext(settings, client, context.queue))
    return app
