"""``POST /webhooks/frameio``: verify, parse, filter, dedupe, enqueue, answer. No Frame.io calls.

202 queued · 200 ignored or duplicate · 400 malformed · 401 bad or missing signature or stale
timestamp · 413 body too large · 503 the queue is unavailable (Frame.io will deliver again).
An answer in the 2xx range is only given once the job is durably in Redis.

With the inbox (the default), a delivery is accepted by one script on the event loop's own Redis
client (redis.asyncio: one round trip, no thread); only a delivery that finds no drain queued for
its account (the first after a quiet spell) also queues the drain, through RQ's own enqueue in the
thread pool, before the answer. Without the inbox, a delivery's job is queued through RQ in the
thread pool.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import redis
from redis.asyncio import Redis as AsyncRedis
from rq import Queue
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse

from service.events import Event, MalformedEvent, parse_event
from service.signature import SignatureError, verify
from workers.ingest import activity, inbox
from workers.ingest.inbox import Acceptance, Inbox
from workers.ingest.queue import enqueue_drain, enqueue_file_event
from workers.logs import bind
from workers.settings import Settings

TIMESTAMP_HEADER = "x-frameio-request-timestamp"

log = logging.getLogger("autostack.webhooks")

DEDUPE_KEY = "autostack:delivery:{type}:{account}:{resource}"
_OUTCOME_BY_STATUS = {202: "queued", 503: "unavailable"}


class BodyTooLarge(Exception):
    pass


@dataclass(frozen=True)
class WebhookContext:
    """What the endpoint needs, built once by the app factory."""

    settings: Settings
    redis: redis.Redis
    queue: Queue
    # The event loop's client, made by ``open_async`` on first use in a loop (a redis.asyncio
    # connection belongs to the loop that opened it).
    open_async: Callable[[], AsyncRedis]
    # This pod's answers by outcome (counted here, not in Redis: they matter most when it is down).
    outcomes: Counter[str] = field(default_factory=Counter)
    _async: dict[asyncio.AbstractEventLoop, AsyncRedis] = field(default_factory=dict, repr=False)

    @property
    def secrets(self) -> list[str]:
        return [secret.get_secret_value() for secret in self.settings.frameio_webhook_secrets]

    def async_redis(self) -> AsyncRedis:
        """This event loop's client."""
        loop = asyncio.get_running_loop()
        if loop not in self._async:
            self._async.clear()  # a loop that ended (a test client's) leaves its client behind
            self._async[loop] = self.open_async()
        return self._async[loop]

    async def close(self) -> None:
        for client in self._async.values():
            await client.aclose()
        self._async.clear()


def _answer(status: int, outcome: str, detail: str = "", **extra: str) -> JSONResponse:
    body = {"status": outcome, **({"detail": detail} if detail else {}), **extra}
    return JSONResponse(body, status_code=status)


async def read_capped(request: Request, limit: int) -> bytes:
    """The raw body, refusing more than ``limit`` bytes whether or not Content-Length is sent."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks = bytearray()
    async for chunk in request.stream():
        chunks.extend(chunk)
        if len(chunks) > limit:
            raise BodyTooLarge
    return bytes(chunks)


def single_header(request: Request, name: str) -> str | None:
    values = request.headers.getlist(name)
    if len(values) > 1:
        code = "bad_timestamp" if name == TIMESTAMP_HEADER else "bad_signature"
        raise SignatureError(f"{name} sent more than once", code)
    return values[0] if values else None


async def receive(request: Request) -> JSONResponse:
    context: WebhookContext = request.app.state.webhooks
    bind(request_id=uuid.uuid4().hex[:16])
    response, outcome = await _receive(request, context)
    context.outcomes[outcome] += 1
    if outcome != "queued":
        log.info("webhook answered %s (%s)", response.status_code, outcome)
    return response


class Refused(Exception):
    """The front door turned a request away: the answer's status and body, and the outcome to count."""

    def __init__(self, status: int, outcome: str, detail: str, counted: str) -> None:
        super().__init__(detail)
        self.status, self.outcome, self.detail, self.counted = status, outcome, detail, counted

    def answer(self) -> tuple[JSONResponse, str]:
        return _answer(self.status, self.outcome, self.detail), self.counted


async def verified_body(request: Request, secrets: list[str], settings: Settings) -> bytes:
    """The front door shared by webhooks and actions: the capped body, once its ``v0`` signature
    by one of ``secrets`` and its timestamp check out; else :class:`Refused`."""
    limit = settings.autostack_max_body_bytes
    try:
        body = await read_capped(request, limit)
    except ClientDisconnect:
        # Nobody is left to answer; nothing was accepted, so Frame.io (if it was) delivers again.
        raise Refused(400, "malformed", "the client hung up before the body ended", "malformed") from None
    except BodyTooLarge:
        raise Refused(413, "too_large", f"the body is over {limit} bytes", "too_large") from None
    try:
        timestamp = single_header(request, TIMESTAMP_HEADER)
        signature = single_header(request, "x-frameio-signature")
        verify(secrets, timestamp, signature, body, time.time(), settings.autostack_timestamp_tolerance_s)
    except SignatureError as exc:
        raise Refused(401, "unauthorized", str(exc), exc.code) from None
    return body


async def _receive(request: Request, context: WebhookContext) -> tuple[JSONResponse, str]:
    settings = context.settings
    try:
        body = await verified_body(request, context.secrets, settings)
    except Refused as refused:
        return refused.answer()
    try:
        event = parse_event(body)
    except MalformedEvent as exc:
        return _answer(400, "malformed", str(exc)), "malformed"
    ignored = _ignored_because(event, settings)
    if ignored:
        return _answer(200, "ignored", ignored), "ignored"
    if settings.declines_account(event.account_id):
        # Declined for good: a retry would meet the same settings. 200, so Frame.io stops.
        log.warning(
            "webhook for account %s declined: no Frame.io credential for it; add its row to "
            "FRAMEIO_ACCOUNTS_FILE (or set a default credential) and restart",
            event.account_id,
        )
        return _answer(200, "ignored", "no Frame.io credential for this account"), "ignored"
    response = await _enqueue(context, event)
    return response, _OUTCOME_BY_STATUS.get(response.status_code, "duplicate")


def _ignored_because(event: Event, settings: Settings) -> str:
    if event.type not in settings.autostack_event_types:
        return f"event type {event.type} is not one autostack acts on"
    if event.resource_type not in ("file", ""):
        return f"resource type {event.resource_type} is not a file"
    if settings.autostack_projects and event.project_id not in settings.autostack_projects:
        return "the project is outside autostack's scope"
    return ""


async def _enqueue(context: WebhookContext, event: Event) -> JSONResponse:
    if not context.settings.autostack_inbox:
        return await run_in_threadpool(_to_job, context, event)
    ttl = context.settings.autostack_dedupe_ttl_s
    try:
        taken = await inbox.accept(context.async_redis(), event.account_id, event.resource_id, event.type, ttl)
    except redis.RedisError as exc:
        return _unavailable(exc)
    return await _answer_taken(context, event, taken)


async def _answer_taken(context: WebhookContext, event: Event, taken: Acceptance) -> JSONResponse:
    if taken.queue_drain:
        try:
            await run_in_threadpool(_queue_drain, context, event)
        except redis.RedisError as exc:
            return _unavailable(exc)
    if not taken.accepted:
        return _answer(200, "duplicate", "this file's delivery was already accepted")
    return _answer(202, "queued", file_id=event.resource_id)


def _to_job(context: WebhookContext, event: Event) -> JSONResponse:
    key = DEDUPE_KEY.format(type=event.type, account=event.account_id, resource=event.resource_id)
    settings = context.settings
    try:
        if not context.redis.set(key, "1", nx=True, ex=settings.autostack_dedupe_ttl_s):
            return _answer(200, "duplicate", "this delivery was already accepted")
        try:
            job_id = enqueue_file_event(context.queue, event.type, event.account_id, event.resource_id, settings)
        except BaseException:
            _forget(context.redis, key)
            raise
        if job_id is not None:
            activity.note_webhook(context.redis, time.time())
    except redis.RedisError as exc:
        return _unavailable(exc)
    if job_id is None:
        return _answer(200, "duplicate", "a job for this event is already queued")
    return _answer(202, "queued", job_id=job_id)


def _queue_drain(context: WebhookContext, event: Event) -> None:
    """Queue the account's drain (the accept found none); when that fails, forget the delivery
    mark and the flag, so Frame.io's next attempt is taken afresh."""
    try:
        enqueue_drain(context.queue, event.account_id, context.settings)
    except BaseException:
        Inbox(context.redis, event.account_id).undo_accept(event.resource_id)
        raise


def _unavailable(exc: redis.RedisError) -> JSONResponse:
    log.warning("queue unavailable: %s", type(exc).__name__)
    return _answer(503, "unavailable", "the queue is unavailable; deliver again later")


def _forget(client: redis.Redis, key: str) -> None:
    """Best effort: let a redelivery through when the enqueue after the dedupe mark failed."""
    try:
        client.delete(key)
    except redis.RedisError:
        log.warning("could not clear the dedupe mark after a failed enqueue")
