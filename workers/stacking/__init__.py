"""Stacking: how one group's versions in a folder become one version stack, in version order.

Pure (no I/O, no clock): :mod:`.census` (a folder's groups), :mod:`.planner` (the next step),
:mod:`.order` (which end of a stack is its head, and the fewest reorders). At the I/O edge:
:mod:`.stacker` (read, plan, act, read back), :mod:`.memory` (what workers remember between
jobs), :mod:`.journal` (autostack's own writes, for undo), :mod:`.holds` (files a person took
out), :mod:`.locks` (the group lock) and :mod:`.scope` (the folders autostack may act in, and
the naming rules of the show each folder belongs to).

May import: :mod:`workers.naming`, :mod:`workers.frameio`, redis. Not the ingest path, not the
tools, not rq.
"""
