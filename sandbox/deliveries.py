"""Webhook deliveries with Frame.io's rules (``docs/frameio.md`` §6.5).

Each event goes to every active webhook of its workspace that subscribed to its type, as its own
asynchronous task (deliveries run concurrently). An attempt fails on a non-2xx answer, a
connection error, or no answer within 5 s (``delivery_timeout_s``); there are 5 attempts in all,
waiting 15 s, 30 s, 60 s, 120 s (plus up to 25 % jitter) in between, all scaled by
``delivery_time_scale``. Deleting or deactivating a webhook stops its pending retries.
Undocumented but plausible, and therefore available: duplicate deliveries
(``duplicate_delivery_rate``) and deliveries held back until a later one to the same webhook went
out (``reorder_delivery_rate``; held at most one base backoff, 15 s scaled). Every attempt carries
a fresh ``X-Frameio-Request-Timestamp`` unless ``retry_reuses_timestamp`` is on: then retries
repeat the first attempt's timestamp (and so its signature), and a late retry falls outside a
receiver's 300 s tolerance. The wall clock is ``DeliveryEngine.clock`` (tests may replace it).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from sandbox.config import SandboxConfig
from sandbox.events import Event
from sandbox.model import Webhook
from sandbox.signing import USER_AGENT, signature_headers

MAX_JITTER = 0.25


@dataclass
class Attempt:
    number: int
    at: float
    status_code: int | None
    error: str | None
    elapsed_s: float


@dataclass
class Delivery:
    id: int
    webhook_id: str
    event: Event
    duplicate: bool = False
    held: bool = False
    state: str = "pending"
    attempts: list[Attempt] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    in_flight: bool = False
    first_timestamp: int | None = None
    """The epoch second the first attempt was signed with."""

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "webhook_id": self.webhook_id,
            "event_type": self.event.type,
            "resource_id": self.event.resource_id,
            "user_id": self.event.user_id,
            "emitted_at": self.event.at,
            "duplicate": self.duplicate,
            "held": self.held,
            "state": self.state,
            "succeeded": self.state == "succeeded",
            "gave_up": self.state == "gave_up",
            "attempts": [vars(attempt) for attempt in self.attempts],
        }


class DeliveryEngine:
    """Turns events into signed POSTs; a dispatcher task runs between :meth:`start` and :meth:`stop`."""

    def __init__(
        self,
        config: Callable[[], SandboxConfig],
        webhooks: Callable[[], dict[str, Webhook]],
        seed: int | None,
    ) -> None:
        self._config = config
        self._webhooks = webhooks
        self._rng = random.Random(None if seed is None else seed + 1)
        self._queue: asyncio.Queue[Event] = asyncio.Queue()
        self._ids = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()
        self._dispatcher: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None
        self.log: list[Delivery] = []
        self.dropped_resources: set[str] = set()
        self.clock: Callable[[], float] = time.time
        """Wall-clock seconds for the signature timestamps; tests may replace it."""

    # --- life cycle -----------------------------------------------------------------------
    async def start(self) -> None:
        pending, self._queue = self._queue, asyncio.Queue()
        while not pending.empty():
            self._queue.put_nowait(pending.get_nowait())
        self._client = httpx.AsyncClient(headers={"user-agent": USER_AGENT}, follow_redirects=False)
        self._dispatcher = asyncio.create_task(self._dispatch(), name="sandbox-deliveries")

    async def stop(self) -> None:
        tasks = [*self._tasks, *([self._dispatcher] if self._dispatcher else [])]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._client is not None:
            await self._client.aclose()

    def enqueue(self, event: Event) -> None:
        """Store listener: called synchronously from inside a handler."""
        self._queue.put_nowait(event)

    def idle(self) -> bool:
        return self._queue.empty() and all(d.state != "pending" for d in self.log)

    # --- dispatching ----------------------------------------------------------------------
    async def _dispatch(self) -> None:
        while True:
            event = await self._queue.get()
            for webhook in list(self._webhooks().values()):
                if self._subscribed(webhook, event):
                    self._launch(webhook, event)

    @staticmethod
    def _subscribed(webhook: Webhook, event: Event) -> bool:
        return webhook.active and webhook.workspace_id == event.workspace_id and event.type in webhook.events

    def _launch(self, webhook: Webhook, event: Event) -> None:
        config = self._config()
        copies = 2 if self._rng.random() < config.duplicate_delivery_rate else 1
        for copy in range(copies):
            held = self._rng.random() < config.reorder_delivery_rate
            delivery = Delivery(next(self._ids), webhook.id, event, duplicate=copy > 0, held=held)
            self.log.append(delivery)
            task = asyncio.create_task(self._guarded_run(delivery))
            delivery.task = task
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    # --- one delivery ---------------------------------------------------------------------
    def _stopped(self, delivery: Delivery) -> str | None:
        if delivery.event.resource_id in self.dropped_resources:
            return "dropped"
        webhook = self._webhooks().get(delivery.webhook_id)
        if webhook is None or not webhook.active:
            return "cancelled"
        return None

    async def _guarded_run(self, delivery: Delivery) -> None:
        """A bug here must not leave a delivery pending for ever: it ends in state ``error``."""
        try:
            await self._run(delivery)
        except Exception as exc:  # recorded in the log the tests read
            delivery.state = "error"
            delivery.attempts.append(Attempt(len(delivery.attempts) + 1, time.time(), None, repr(exc), 0.0))

    async def _run(self, delivery: Delivery) -> None:
        await self._wait_to_start(delivery)
        attempts = self._config().delivery_attempts
        for number in range(1, attempts + 1):
            if self._halted(delivery):
                return
            ok = await self._attempt(delivery, number)
            if number == 1:
                self._release_older(delivery)
            if ok:
                delivery.state = "succeeded"
                return
            if number < attempts and not self._halted(delivery):
                jitter = self._rng.uniform(0.0, MAX_JITTER)
                await asyncio.sleep(self._config().backoff_s(number, jitter))
        if delivery.state == "pending":
            delivery.state = "gave_up"

    async def _wait_to_start(self, delivery: Delivery) -> None:
        scale = self._config().delivery_time_scale
        if delivery.duplicate:  # the twin goes out at once or up to one base backoff later
            await asyncio.sleep(self._rng.uniform(0.0, 15.0 * scale))
        if delivery.held:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(delivery.release.wait(), 15.0 * scale)

    def _halted(self, delivery: Delivery) -> bool:
        stopped = self._stopped(delivery)
        if stopped is not None:
            delivery.state = stopped
        return stopped is not None

    def _release_older(self, delivery: Delivery) -> None:
        for other in self.log:
            if other.held and other.webhook_id == delivery.webhook_id and other.id < delivery.id:
                other.release.set()

    async def _attempt(self, delivery: Delivery, number: int) -> bool:
        webhook = self._webhooks().get(delivery.webhook_id)
        assert webhook is not None
        body = json.dumps(delivery.event.payload(), separators=(",", ":")).encode()
        timestamp = self._timestamp(delivery)
        headers = {"content-type": "application/json", **signature_headers(webhook.secret, timestamp, body)}
        timeout = self._config().delivery_timeout_s()
        sent_at, started = time.time(), time.monotonic()
        delivery.in_flight = True
        try:
            status, error = await self._post(webhook.url, body, headers, timeout)
        finally:
            delivery.in_flight = False
        elapsed = time.monotonic() - started
        if status is not None and elapsed > timeout:
            error = f"answered after {elapsed:.2f} s (limit {timeout:.2f} s)"
        delivery.attempts.append(Attempt(number, sent_at, status, error, round(elapsed, 4)))
        return error is None and status is not None and 200 <= status < 300

    def _timestamp(self, delivery: Delivery) -> int:
        """Now, or the first attempt's timestamp again when ``retry_reuses_timestamp`` is on."""
        if delivery.first_timestamp is not None and self._config().retry_reuses_timestamp:
            return delivery.first_timestamp
        timestamp = int(self.clock())
        if delivery.first_timestamp is None:
            delivery.first_timestamp = timestamp
        return timestamp

    async def _post(
        self, url: str, body: bytes, headers: dict[str, str], timeout: float
    ) -> tuple[int | None, str | None]:
        assert self._client is not None
        try:
            posting = self._client.post(url, content=body, headers=headers, timeout=timeout)
            response = await asyncio.wait_for(posting, timeout)
        except (TimeoutError, httpx.TimeoutException):
            return None, f"no answer within {timeout:.2f} s"
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"
        return response.status_code, None

    # --- control --------------------------------------------------------------------------
    def cancel_for(self, webhook_id: str) -> None:
        """A webhook was deleted or deactivated: its waiting deliveries stop at once.

        An attempt already on the wire finishes (and is logged); no further attempt follows.
        """
        for delivery in self.log:
            waiting = delivery.state == "pending" and not delivery.in_flight
            if delivery.webhook_id == webhook_id and waiting and delivery.task:
                delivery.task.cancel()
                delivery.state = "cancelled"

    def listing(self, resource_id: str | None = None, event_type: str | None = None) -> list[dict[str, Any]]:
        return [
            delivery.summary()
            for delivery in self.log
            if (resource_id is None or delivery.event.resource_id == resource_id)
            and (event_type is None or delivery.event.type == event_type)
        ]

    def clear(self) -> None:
        self.log = [delivery for delivery in self.log if delivery.state == "pending"]

    def reset(self, seed: int | None) -> None:
        """Forget everything: queued events, pending deliveries (cancelled), the log, drop rules."""
        for task in list(self._tasks):
            task.cancel()
        while not self._queue.empty():
            self._queue.get_nowait()
        self._rng = random.Random(None if seed is None else seed + 1)
        self._ids = itertools.count(1)
        self.log = []
        self.dropped_resources = set()
        self.clock = time.time
