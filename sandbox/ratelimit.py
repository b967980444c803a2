"""Frame.io's rate limits: a leaky bucket per (account, endpoint), refilled continuously.

Numbers are the SDK 4.0.0 docstrings ("N calls per window per account_user", ``docs/frameio.md``
section 4); the guide says they are enforced per account, which is the default scope here.
``local_upload`` (5/s) and ``create_folder`` (3/s) are also documented in the SDK docstrings.
Every answer carries ``x-ratelimit-limit``, ``x-ratelimit-remaining`` and ``x-ratelimit-window``
(milliseconds, after ``rate_window_scale``).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

#: endpoint name -> (calls, window in seconds)
LIMITS: dict[str, tuple[int, float]] = {
    "show_file": (10, 1.0),
    "file_status": (5, 1.0),
    "list_folder_children": (100, 60.0),
    "show_folder": (100, 60.0),
    "create_folder": (3, 1.0),
    "delete_folder": (60, 60.0),
    "show_project": (100, 60.0),
    "show_workspace": (100, 60.0),
    "local_upload": (5, 1.0),
    "create_stack": (10, 60.0),
    "show_stack": (100, 60.0),
    "list_stacks": (5, 1.0),
    "list_stack_children": (100, 60.0),
    "move_stack": (10, 60.0),
    "copy_stack": (10, 60.0),
    "reorder_stack": (10, 60.0),
    "move_file": (100, 60.0),
    "update_file": (100, 60.0),
    "delete_file": (100, 60.0),
    "webhooks_create": (10, 60.0),
    "webhooks_list": (100, 60.0),
    "webhooks_show": (100, 60.0),
    "webhooks_update": (10, 60.0),
    "webhooks_delete": (60, 60.0),
    "actions_create": (10, 60.0),
    "actions_list": (100, 60.0),
    "actions_show": (100, 60.0),
    "actions_update": (10, 60.0),
    "actions_delete": (60, 60.0),
    "me": (100, 60.0),
    "accounts_list": (100, 60.0),
}


@dataclass
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    window_ms: int
    retry_after_s: float

    def headers(self) -> dict[str, str]:
        return {
            "x-ratelimit-limit": str(self.limit),
            "x-ratelimit-remaining": str(self.remaining),
            "x-ratelimit-window": str(self.window_ms),
        }


@dataclass
class LeakyBucket:
    """Holds up to ``capacity`` calls; leaks ``capacity`` per window, continuously."""

    capacity: int
    level: float = 0.0
    stamp: float = 0.0

    def offer(self, window_s: float, at: float, *, enforce: bool) -> Verdict:
        rate = self.capacity / window_s
        self.level = max(0.0, self.level - (at - self.stamp) * rate)
        self.stamp = at
        allowed = not enforce or self.level + 1.0 <= self.capacity + 1e-9
        if allowed:
            self.level = min(self.level + 1.0, float(self.capacity)) if not enforce else self.level + 1.0
        wait = max(0.0, (self.level + 1.0 - self.capacity) / rate)
        remaining = max(0, math.floor(self.capacity - self.level + 1e-9))
        return Verdict(allowed, self.capacity, remaining, round(window_s * 1000), wait)


class RateLimiter:
    """All buckets of one sandbox; keys are (scope id, endpoint)."""

    def __init__(self) -> None:
        self._buckets: dict[tuple[str, str], LeakyBucket] = {}

    def check(self, scope_id: str, endpoint: str, window_scale: float, *, enforce: bool) -> Verdict | None:
        """Count one call; None for endpoints without a documented limit (e.g. upload PUTs)."""
        if endpoint not in LIMITS:
            return None
        capacity, window = LIMITS[endpoint]
        bucket = self._buckets.setdefault((scope_id, endpoint), LeakyBucket(capacity, stamp=time.monotonic()))
        return bucket.offer(window * window_scale, time.monotonic(), enforce=enforce)

    def reset(self) -> None:
        self._buckets.clear()
