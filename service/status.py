"""``autostack status``: the Frame.io sign-in (who autostack acts as, its state, when its token
expires), queue depths, failed jobs, workers and the last decisions with reasons."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TextIO

import redis
from rq import Queue, Worker

from workers import credentials, decisions
from workers.settings import Settings


def run_status(settings: Settings, out: TextIO, last: int = 20) -> int:
    client = redis.Redis.from_url(settings.redis_url, socket_timeout=5, socket_connect_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        print(f"autostack: Redis does not answer at the configured REDIS_URL ({type(exc).__name__})", file=out)
        return 1
    now = time.time()
    print(credentials.describe(credentials.inspect(settings, client, now), now), file=out)
    queue = Queue(settings.autostack_queue, connection=client)
    print(f"queue {queue.name}: {queue.count} waiting", file=out)
    print(f"  running:   {queue.started_job_registry.count}", file=out)
    print(f"  scheduled: {queue.scheduled_job_registry.count}", file=out)
    print(f"  failed:    {queue.failed_job_registry.count}", file=out)
    workers = Worker.all(connection=client)
    print(f"workers: {len(workers)}", file=out)
    for worker in workers:
        print(f"  {worker.name}: {worker.get_state()}", file=out)
    print(f"last {last} decisions:", file=out)
    for decision in decisions.latest(client, last):
        when = datetime.fromtimestamp(decision.at, UTC).strftime("%Y-%m-%d %H:%M:%S")
        print(f"  {when}  {decision.outcome:<9} {decision.name or decision.file_id}: {decision.reason}", file=out)
    return 0
