"""Tools a person runs by hand: backfill (stack what was uploaded before autostack listened),
undo and unstack (take autostack's own writes back out).

Owns :mod:`.backfill`, :mod:`.undo_plan` (pure: what to move back, what to refuse) and
:mod:`.undo` (reading and applying an undo plan under the group locks).

May import: :mod:`workers.stacking`, :mod:`workers.naming`, :mod:`workers.frameio` and the shared
modules beside the packages. Not the ingest path.
"""
