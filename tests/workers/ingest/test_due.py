"""Due jobs move whichever worker is alive: one lease holder at a time, taken over when it lapses."""

from __future__ import annotations

from datetime import timedelta

import redis
from rq import Queue
from rq.job import JobStatus

from service.processes import wait_until
from workers.ingest.due import LEASE_KEY, DueMover

JOB = "workers.ingest.sweep.sweep"  # any importable function: these jobs are moved, never run


def _due_job(queue: Queue, job_id: str) -> None:
    """A job handed back to RQ to run later, already due (a negative delay is due at once)."""
    queue.enqueue_in(timedelta(seconds=-1), JOB, job_id=job_id)


def test_the_lease_holder_moves_a_due_job_into_the_queue(redis_client: redis.Redis) -> None:
    queue = Queue("due-a", connection=redis_client)
    _due_job(queue, "later-1")
    assert queue.get_job_ids() == []
    assert DueMover(queue, "worker-a").tick() is True
    assert queue.get_job_ids() == ["later-1"]
    assert queue.scheduled_job_registry.get_job_ids() == []
    assert queue.fetch_job("later-1").get_status() == JobStatus.QUEUED  # type: ignore[union-attr]


def test_a_job_not_yet_due_stays_scheduled(redis_client: redis.Redis) -> None:
    queue = Queue("due-b", connection=redis_client)
    queue.enqueue_in(timedelta(seconds=600), JOB, job_id="much-later")
    DueMover(queue, "worker-a").tick()
    assert queue.get_job_ids() == []
    assert queue.scheduled_job_registry.get_job_ids() == ["much-later"]


def test_only_one_worker_holds_the_lease_and_the_others_move_nothing(redis_client: redis.Redis) -> None:
    queue = Queue("due-c", connection=redis_client)
    holder, other = DueMover(queue, "worker-a", lease_s=30), DueMover(queue, "worker-b", lease_s=30)
    assert holder.tick() is True
    _due_job(queue, "later-2")
    assert other.tick() is False
    assert queue.get_job_ids() == []  # the other worker did not move it
    assert holder.tick() is True  # renewed, not lost
    assert queue.get_job_ids() == ["later-2"]


def test_a_dead_holders_lease_lapses_and_another_worker_takes_it_over(redis_client: redis.Redis) -> None:
    queue = Queue("due-d", connection=redis_client)
    DueMover(queue, "worker-dead", lease_s=1).tick()  # then it dies: no more ticks
    survivor = DueMover(queue, "worker-b", lease_s=1)
    assert survivor.tick() is False
    _due_job(queue, "later-3")
    wait_until(survivor.tick, 5, interval=0.1, what="the lease to lapse and be taken over")
    assert redis_client.get(LEASE_KEY.format(queue="due-d")) == b"worker-b"
    assert queue.get_job_ids() == ["later-3"]


def test_a_stopping_worker_releases_the_lease_at_once(redis_client: redis.Redis) -> None:
    queue = Queue("due-e", connection=redis_client)
    leaving, other = DueMover(queue, "worker-a", lease_s=30), DueMover(queue, "worker-b", lease_s=30)
    leaving.tick()
    leaving.release()
    assert other.tick() is True
