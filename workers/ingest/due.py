"""Due jobs: whichever worker is alive moves the jobs whose time has come into the queue.

Every wait autostack hands back to RQ (a coalescing leader's second run, a retry after a 429 or
a 5xx, a limiter wait, a drain's hand-over, the next sweep) waits in RQ's scheduled-job registry
with its due time. RQ's own scheduler moves them from one process per queue, under a lock that
lives 61 s: when that process dies, nothing moves until the lock has expired and another worker's
maintenance pass has started a new scheduler, up to about 90 s. Instead every worker runs a
:class:`DueMover` from a thread of its own: one of them at a time holds a lease of ``lease_s``
seconds, renewed at each tick, and moves the due jobs with RQ's own code
(:meth:`rq.scheduler.RQScheduler.enqueue_scheduled_jobs`); when the holder dies, another worker
takes the lease over within ``lease_s``.

The holder also hands a dead worker's jobs back to RQ at each tick (RQ's
:meth:`~rq.registry.StartedJobRegistry.cleanup`: a running job whose heartbeat has lapsed is
retried), instead of waiting for the next maintenance pass.

It is part of the queue seam: swapping the queue backend means changing it too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from rq import Queue
from rq.registry import StartedJobRegistry
from rq.scheduler import RQScheduler
from rq.scripts import acquire_or_refresh_lock, release_lock

#: The lease's key (per queue); its value is the holder's RQ worker name.
LEASE_KEY = "autostack:due-lease:{queue}"


@dataclass
class DueMover:
    """Moves due jobs of ``queue`` while this worker (``owner``) holds the lease."""

    queue: Queue
    owner: str
    lease_s: int = 3
    _move: Callable[[], None] | None = field(default=None, repr=False)

    @property
    def key(self) -> str:
        return LEASE_KEY.format(queue=self.queue.name)

    def tick(self) -> bool:
        """Take or renew the lease; if held, move what is due and retry abandoned jobs. True when
        this worker holds the lease. Redis errors propagate (the caller backs off and reports)."""
        outcome = acquire_or_refresh_lock(self.queue.connection, self.key, self.owner, self.lease_s)
        if outcome == "taken":
            return False
        self.move_due()
        StartedJobRegistry(queue=self.queue).cleanup()
        return True

    def release(self) -> None:
        """Give the lease up (a worker stopping), so another takes it at its next tick."""
        release_lock(self.queue.connection, self.key, self.owner)

    def move_due(self) -> None:
        """Move the due jobs into the queue with RQ's own scheduler code (the object only: its
        process is never started)."""
        if self._move is None:
            scheduler = RQScheduler([self.queue], connection=self.queue.connection)
            scheduler.prepare_registries([self.queue.name])
            self._move = scheduler.enqueue_scheduled_jobs  # untyped in RQ: typed here
        self._move()
