"""The backlog KEDA scales on counts an account's burst, though it is one drain job."""

from __future__ import annotations

from datetime import timedelta

import redis
from rq import Queue, SimpleWorker, get_current_job

from workers.ingest.backlog import read_backlog
from workers.ingest.inbox import Inbox
from workers.ingest.queue import DRAIN_JOB, enqueue_drain
from workers.settings import load_settings


def test_a_burst_in_one_inbox_is_backlog_though_the_queue_holds_one_job(redis_client: redis.Redis) -> None:
    settings = load_settings({})
    queue = Queue(settings.autostack_queue, connection=redis_client)
    inbox = Inbox(redis_client, "acc")
    asked = [inbox.accept(f"f{n}", "file.upload.completed", 3600).queue_drain for n in range(40)]
    assert asked.count(True) == 1  # one drain for the whole burst
    enqueue_drain(queue, "acc", settings)
    backlog = read_backlog(redis_client, queue)
    assert redis_client.llen(queue.key) == 1  # what the old trigger watched: one, below any threshold
    assert (backlog.inbox, backlog.queued, backlog.scheduled, backlog.running) == (40, 1, 0, 0)
    assert backlog.total == 41


def backlog_while_running() -> dict[str, int]:
    """A job that reads the backlog while a worker holds it (so it counts itself as running)."""
    job = get_current_job()
    assert job is not None
    return read_backlog(job.connection, Queue("autostack", connection=job.connection)).parts()


def test_scheduled_and_running_jobs_count(redis_client: redis.Redis) -> None:
    queue = Queue("autostack", connection=redis_client)
    queue.enqueue_in(timedelta(seconds=60), DRAIN_JOB, "acc")
    job = queue.enqueue(backlog_while_running)
    assert read_backlog(redis_client, queue).parts() == {"inbox": 0, "queued": 1, "scheduled": 1, "running": 0}
    SimpleWorker([queue], connection=redis_client).work(burst=True, with_scheduler=False)
    assert job.return_value() == {"inbox": 0, "queued": 0, "scheduled": 1, "running": 1}


def test_the_oldest_inbox_entry_ages(redis_client: redis.Redis) -> None:
    queue = Queue("autostack", connection=redis_client)
    assert read_backlog(redis_client, queue).oldest_inbox_age_s == 0
    Inbox(redis_client, "acc").accept("f1", "file.upload.completed", 3600)
    redis_client.zadd("autostack:inbox:acc", {"f1": 1000.0})  # accepted long ago (Redis time, ms)
    assert read_backlog(redis_client, queue).oldest_inbox_age_s > 3600
