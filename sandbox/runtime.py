"""One running sandbox: its knobs, its world, its rate buckets, faults, call counts and deliveries."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sandbox.config import SandboxConfig, apply_updates, validate
from sandbox.deliveries import DeliveryEngine
from sandbox.faults import FaultBook
from sandbox.ratelimit import RateLimiter
from sandbox.readlag import ReadLag
from sandbox.state import Store, seed_store


class Sandbox:
    def __init__(self, config: SandboxConfig) -> None:
        validate(config)
        self.initial_config = config
        self.config = config
        self.store: Store = seed_store(config.seed, config.token, config.extra_tokens)
        self.limiter = RateLimiter()
        self.faults = FaultBook()
        self.calls: Counter[tuple[str, int | str]] = Counter()
        self.deliveries = DeliveryEngine(lambda: self.config, lambda: self.store.webhooks, config.seed)
        self.store.listeners.append(self.deliveries.enqueue)
        self.closing = asyncio.Event()
        self._timers: set[asyncio.TimerHandle] = set()
        self.clock: Callable[[], float] = time.monotonic
        """Seconds, for the read lag; tests may replace it (a reset puts the real one back)."""
        self.read_lag = ReadLag()

    # --- life cycle -----------------------------------------------------------------------
    async def start(self) -> None:
        self.closing.clear()
        await self.deliveries.start()

    async def stop(self) -> None:
        self.closing.set()
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        await self.deliveries.stop()

    def reset(self, updates: dict[str, Any]) -> None:
        """Start over without a restart: a freshly seeded world, the start-up knobs plus ``updates``.

        Pending deliveries and timers are cancelled; calls, faults and rate buckets are emptied.
        """
        config = apply_updates(self.initial_config, updates)
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        self.deliveries.reset(config.seed)
        self.config = config
        self.store = seed_store(config.seed, config.token, config.extra_tokens)
        self.store.listeners.append(self.deliveries.enqueue)
        self.limiter.reset()
        self.faults.clear()
        self.calls.clear()
        self.clock = time.monotonic
        self.read_lag.clear()

    def call_later(self, delay: float, callback: Callable[[], None]) -> None:
        """Run ``callback`` on the event loop after ``delay`` seconds (cancelled at shutdown)."""
        loop = asyncio.get_running_loop()
        handle: asyncio.TimerHandle | None = None

        def fire() -> None:
            if handle is not None:
                self._timers.discard(handle)
            callback()

        handle = loop.call_later(delay, fire)
        self._timers.add(handle)

    # --- reads that lag writes (knob read_lag_ms) --------------------------------------------
    def read_store(self) -> Store:
        """The world as a read sees it now: the live store unless a write is younger than the lag."""
        return self.read_lag.view(self.store, self.clock(), self.config.read_lag_ms / 1000.0)

    @contextmanager
    def writing(self) -> Iterator[Store]:
        """Wrap a write to stacks: reads within ``read_lag_ms`` of it will not see it."""
        with self.read_lag.write(self.store, self.clock(), self.config.read_lag_ms / 1000.0):
            yield self.store

    # --- knobs ----------------------------------------------------------------------------
    def update_config(self, updates: dict[str, Any]) -> None:
        """Apply knob changes at run time; tokens are re-registered to match."""
        updated = apply_updates(self.config, updates)
        if updated.token != self.config.token:
            self.store.tokens.pop(self.config.token, None)
            self.store.tokens[updated.token] = self.store.api_user_id
        for extra in updated.extra_tokens:
            if extra not in self.store.tokens:
                self.store.add_user(f"Service Account User {len(self.store.users) + 1}", extra)
        self.config = updated

    def register_token(self, token: str, name: str | None = None) -> str:
        """Accept one more bearer token, standing for a new user; returns the user id."""
        existing = self.store.tokens.get(token)
        if existing:
            return existing
        self.config.extra_tokens.append(token)
        return self.store.add_user(name or f"Service Account User {len(self.store.users) + 1}", token).id

    # --- bookkeeping ----------------------------------------------------------------------
    def record_call(self, endpoint: str, status: int | str) -> None:
        self.calls[(endpoint, status)] += 1

    def call_listing(self) -> list[dict[str, Any]]:
        return [
            {"endpoint": endpoint, "status": status, "count": count}
            for (endpoint, status), count in sorted(self.calls.items(), key=lambda item: str(item[0]))
        ]

    def state_view(self) -> dict[str, Any]:
        store = self.store
        project = store.projects[store.project_id]
        other = store.projects[store.other_project_id]
        return {
            "account_id": store.account_id,
            "workspace_id": store.workspace_id,
            "project_id": project.id,
            "root_folder_id": project.root_folder_id,
            "token": self.config.token,
            "user_id": store.api_user_id,
            "uploader_user_id": store.uploader_user_id,
            "other_project_id": other.id,
            "other_root_folder_id": other.root_folder_id,
        }
