"""When autostack last accepted a webhook and last swept, for ``autostack status``.

Two small keys with a TTL, written where the work happens: the web tier's accept (inside the
inbox's accept script, no extra round trip; one SET on the one-job-per-delivery path) and the
sweep job. A key that expired says "none within the TTL".
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import redis

LAST_WEBHOOK_KEY = "autostack:last-webhook"  # Redis time in ms of the last delivery accepted
LAST_SWEEP_KEY = "autostack:last-sweep"  # {"at": s, "queued": n} of the last sweep
TTL_S = 7 * 86400


@dataclass(frozen=True)
class Activity:
    last_webhook_at: float | None  # seconds since the epoch; None: none within the TTL
    last_sweep_at: float | None
    last_sweep_queued: int | None


def note_webhook(client: redis.Redis, at: float) -> None:
    client.set(LAST_WEBHOOK_KEY, str(int(at * 1000)), ex=TTL_S)


def note_sweep(client: redis.Redis, at: float, queued: int) -> None:
    client.set(LAST_SWEEP_KEY, json.dumps({"at": at, "queued": queued}), ex=TTL_S)


def read(client: redis.Redis) -> Activity:
    webhook, sweep = client.mget(LAST_WEBHOOK_KEY, LAST_SWEEP_KEY)
    swept = _sweep(sweep)
    return Activity(
        last_webhook_at=int(webhook) / 1000 if webhook else None,
        last_sweep_at=swept[0] if swept else None,
        last_sweep_queued=swept[1] if swept else None,
    )


def _sweep(raw: bytes | str | None) -> tuple[float, int] | None:
    if raw is None:
        return None
    try:
        record = json.loads(raw)
        return float(record["at"]), int(record["queued"])
    except (ValueError, KeyError, TypeError):
        return None
