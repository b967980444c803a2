"""A Redis lock per group (account, folder, group key) around the act step.

The lock is a short lease: it times out on its own (``timeout_s``, a few seconds), so a worker that
dies blocks its group only that long, and :func:`renewing` extends it from a thread every third
of that while the holder lives, however long a Frame.io call takes. The holder also extends it
before every write and stops, writing nothing, if it was lost.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress

import redis
from redis.exceptions import LockError, RedisError
from redis.lock import Lock


class LockLost(Exception):
    """The group lock expired or was taken by another worker; the job must not write."""


class LockBusy(Exception):
    """Another worker holds the group lock; try again shortly."""


Guard = Callable[[], None]
LockFactory = Callable[[str], AbstractContextManager[Guard]]


def group_lock_name(account_id: str, folder_id: str, group_key: str) -> str:
    return f"{account_id}:{folder_id}:{group_key}"


@contextmanager
def renewing(lock: Lock, every_s: float) -> Iterator[None]:
    """Extend ``lock`` every ``every_s`` from a thread while the block runs (the lease stays ours
    while this process lives; a renewal that fails is left to the holder's next check)."""
    done = threading.Event()

    def renew() -> None:
        while not done.wait(every_s):
            try:
                lock.reacquire()
            except (LockError, RedisError):
                return  # lost or Redis away: the holder's own check (guard, keep-alive) says so

    thread = threading.Thread(target=renew, name="autostack-lease", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join(every_s + 1)


class GroupLocks:
    def __init__(self, client: redis.Redis, *, timeout_s: float = 6.0, wait_s: float = 5.0) -> None:
        self.client = client
        self.timeout_s = timeout_s
        self.wait_s = wait_s

    @contextmanager
    def hold(self, name: str) -> Iterator[Guard]:
        """Hold the lock ``name``; yields a guard to call before each write."""
        lock = self.client.lock(
            f"autostack:lock:{name}", timeout=self.timeout_s, blocking_timeout=self.wait_s, thread_local=False
        )
        if not lock.acquire():
            raise LockBusy(f"group {name} is being stacked by another worker")

        def guard() -> None:
            try:
                lock.reacquire()  # resets the full timeout; fails if the lock is no longer ours
            except LockError:
                raise LockLost(f"lost the lock on group {name}; not writing") from None

        try:
            with renewing(lock, self.timeout_s / 3):
                yield guard
        finally:
            with suppress(LockError):  # expired meanwhile: nothing to release
                lock.release()


@contextmanager
def no_lock(name: str) -> Iterator[Guard]:
    """For a single process (and the planner's tests): nothing to guard against."""
    yield lambda: None
