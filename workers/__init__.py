"""autostack's workers: everything that reads Frame.io, decides and writes, in five layers.

Each package says in its docstring what it owns and what it may import; ``tests/workers/test_layers.py``
holds every package to it. From the bottom up:

- :mod:`workers.naming`: file names to (group key, version), and media kinds. Pure.
- :mod:`workers.frameio`: the Frame.io V4 client, its sign-in, rate limiting, retry policy,
  errors and models. The swap point for tests is the httpx transport the client takes.
- :mod:`workers.stacking`: how a folder's versions become one stack: the census, the planner and
  the stack order (pure), and the stacker with its memory, journal, holds, locks and scope.
- :mod:`workers.ingest`: how accepted webhooks reach the stacker: the queue seam, the account
  inbox and its drain, a file's own job, coalescing and the sweep.
- :mod:`workers.tools`: what a person runs by hand: backfill, undo and unstack, the doctor.

Beside them: :mod:`workers.settings` (the one settings object), :mod:`workers.runtime` (where
every client is built, once per process), :mod:`workers.credentials` (the sign-in's state for
status, readiness and metrics), :mod:`workers.logs`, :mod:`workers.metrics` and
:mod:`workers.decisions`; and :mod:`workers.action_jobs`, the RQ jobs behind Frame.io's menu (it
imports the tools and the ingest path's recording; nothing imports it: RQ names it by path).

Jobs queued before the layout changed name their functions ``workers.jobs.…``,
``workers.drain.…`` and ``workers.sweep.…``: RQ resolves such a name through :func:`__getattr__`
below, so those jobs still run after an upgrade. Kept for one release (remove in 0.3).
"""

from __future__ import annotations

import importlib
from types import ModuleType

#: The dotted paths RQ stored for jobs before the layout changed, and where they live now.
LEGACY_JOB_MODULES = {
    "jobs": "workers.ingest.jobs",
    "drain": "workers.ingest.drain",
    "sweep": "workers.ingest.sweep",
}


def __getattr__(name: str) -> ModuleType:
    """``workers.jobs`` and the other old job modules, for RQ's lookup of a stored job's function."""
    if name in LEGACY_JOB_MODULES:
        return importlib.import_module(LEGACY_JOB_MODULES[name])
    raise AttributeError(f"module 'workers' has no attribute {name!r}")
