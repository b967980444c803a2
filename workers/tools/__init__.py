"""Tools a person runs by hand: backfill (stack what was uploaded before autostack listened),
undo and unstack (take autostack's own writes back out), and the doctor (check a deployment,
and learn Frame.io's undocumented answers).

Owns :mod:`.backfill`, :mod:`.undo_plan` (pure: what to move back, what to refuse),
:mod:`.undo` (reading and applying an undo plan under the group locks), :mod:`.doctor` (the
read-only checks), :mod:`.doctor_verdicts` (pure: checks' verdicts, and the inference of each
answer), :mod:`.probe` (the scratch-folder probe) and :mod:`.doctor_api` (its Frame.io caller).

May import: :mod:`workers.stacking`, :mod:`workers.naming`, :mod:`workers.frameio` and the shared
modules beside the packages. Not the ingest path.
"""
