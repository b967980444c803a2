"""The account's recent arrivals: the files its inbox accepted within the last two coalescing windows.

A drain job lives only while its account's inbox holds files, so the next upload may start a new
one that knows nothing of the files just before it. Whether an upload is lone (no other arrival
within a window of it: :func:`workers.ingest.batch.lone`) is read from here: a sorted set per
account, file id scored by its arrival (Redis time, ms), written by the drain with each look at the
inbox, trimmed to two windows on every write (older entries cannot make a pending file less lone:
a file pending longer than a window is due anyway) and expiring soon after.
"""

from __future__ import annotations

from collections.abc import Sequence

import redis

from workers.ingest.arrival import Arrival

KEY = "autostack:recent-arrivals:{account}"


def note(
    client: redis.Redis, account_id: str, arrivals: Sequence[Arrival], now: float, window_s: float
) -> dict[str, float]:
    """Add ``arrivals``; the account's arrivals of the last two windows (file id -> seconds)."""
    if window_s <= 0:
        return {}
    key = KEY.format(account=account_id)
    span_ms = int(2 * window_s * 1000)
    pipe = client.pipeline(transaction=True)
    if arrivals:
        pipe.zadd(key, {arrival.file_id: arrival.score for arrival in arrivals})
    pipe.zremrangebyscore(key, "-inf", f"({int(now * 1000) - span_ms}")
    pipe.zrange(key, 0, -1, withscores=True)
    pipe.pexpire(key, span_ms + 1000)
    rows: list[tuple[bytes, float]] = pipe.execute()[-2]
    return {file_id.decode(): score / 1000 for file_id, score in rows}
