"""Ingest: how an accepted webhook reaches the stacker, and how nothing accepted is lost.

Owns the queue seam (:mod:`.queue`: every RQ job id, option and enqueue call; :mod:`.due`: moving
due jobs into the queue under a short lease, whichever worker is alive), the account inbox
(:mod:`.inbox`) with its pure :mod:`.arrival` and :mod:`.batch` (which groups a drain acts on, and
when), the drain (:mod:`.drain`), a file's own job (:mod:`.jobs`), coalescing (:mod:`.coalesce`),
the outcome record (:mod:`.record`), the reconciliation sweep (:mod:`.sweep`), the backlog the
workers are scaled on (:mod:`.backlog`) and the marks of when a webhook was last accepted and the
sweep last ran (:mod:`.activity`, for ``status``).

May import: :mod:`workers.stacking`, :mod:`workers.naming`, :mod:`workers.frameio`, the shared
modules beside the packages, redis and rq. Not the tools.
"""
