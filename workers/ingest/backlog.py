"""The backlog the workers are scaled on: files waiting in the accounts' inboxes, and the jobs
queued, scheduled and running.

Since the inbox, an account's burst of a thousand files is one drain job, and a running drain has
left the queue's list: that list's length says nothing of the work in hand. The sum of these parts
does; the web tier exports it as ``autostack_backlog`` and KEDA scales on it (deploy/k8s/base).
"""

from __future__ import annotations

from dataclasses import dataclass

import redis
from rq import Queue

from workers.ingest.inbox import INBOX_KEY, accounts_with_entries


@dataclass(frozen=True)
class Backlog:
    inbox: int  # files accepted and not yet decided, over every account
    queued: int  # jobs in the queue's list
    scheduled: int  # jobs waiting in RQ's scheduler (a retry, a file handed back, the next sweep)
    running: int  # jobs a worker holds
    oldest_inbox_age_s: float  # the longest any inbox entry has waited (0 when none waits)

    def parts(self) -> dict[str, int]:
        return {"inbox": self.inbox, "queued": self.queued, "scheduled": self.scheduled, "running": self.running}

    @property
    def total(self) -> int:
        return sum(self.parts().values())


def read_backlog(client: redis.Redis, queue: Queue) -> Backlog:
    """The backlog now, from the keys the inbox and RQ write (a handful of round trips)."""
    inbox, oldest_ms = _inboxes(client)
    now_s, now_us = client.time()
    now_ms = int(now_s) * 1000 + int(now_us) // 1000
    return Backlog(
        inbox=inbox,
        queued=queue.count,
        # Read only: a registry's ``count`` cleans up (moves abandoned jobs), the workers' business.
        scheduled=queue.scheduled_job_registry.get_job_count(cleanup=False),
        running=queue.started_job_registry.get_job_count(cleanup=False),
        oldest_inbox_age_s=max(0.0, (now_ms - oldest_ms) / 1000) if oldest_ms is not None else 0.0,
    )


def _inboxes(client: redis.Redis) -> tuple[int, float | None]:
    """Files in every inbox, and the Redis time (ms) the oldest of them was accepted."""
    pipe = client.pipeline(transaction=False)
    for account in accounts_with_entries(client):
        key = INBOX_KEY.format(account=account)
        pipe.zcard(key)
        pipe.zrange(key, 0, 0, withscores=True)
    answers = pipe.execute()
    sizes, heads = answers[0::2], answers[1::2]
    scores = [float(head[0][1]) for head in heads if head]
    return sum(int(size) for size in sizes), min(scores, default=None)
