"""The ``autostack worker`` process's RQ worker class."""

from __future__ import annotations

import threading

import redis
from rq import Queue

from service.processes import wait_until
from service.worker import AutostackWorker


def test_a_warm_shut_down_is_not_held_by_the_command_listener(redis_client: redis.Redis) -> None:
    """The listener read the unsubscribe's answer before it was told to stop: it must still end
    within seconds (RQ's own listener slept 60 s there, and redis-py's stop() waited for it)."""
    worker = AutostackWorker([Queue("q", connection=redis_client)], connection=redis_client, name="w-listener")
    worker.subscribe()
    assert worker.pubsub is not None
    wait_until(lambda: worker.pubsub is not None and worker.pubsub.subscribed, 10, what="the listener subscribed")
    worker.pubsub.unsubscribe()  # type: ignore[no-untyped-call]
    wait_until(lambda: worker.pubsub is not None and not worker.pubsub.subscribed, 10, what="the unsubscribe read")
    stopping = threading.Thread(target=worker.unsubscribe, daemon=True)
    stopping.start()
    stopping.join(15)  # a deadline for the hang this guards against, not a measured time
    assert not stopping.is_alive()
