"""Coalescing: versions of one group that arrive within a short window are stacked together.

The first job of a group in a window becomes its leader and runs once the window has passed;
the jobs that arrive inside the window leave their files to the leader. So a render farm's
v004 and v005 in the same second make one create, not a create and a move.
"""

from __future__ import annotations

import redis

KEY = "autostack:coalesce:{name}"


def lead_or_follow(client: redis.Redis, name: str, job_token: str, window_s: float) -> bool:
    """True when this job leads the group's window (and must wait it out); False when a leader
    already holds the window and will stack this job's file too."""
    if window_s <= 0:
        return True
    claimed = client.set(KEY.format(name=name), job_token, nx=True, px=int(window_s * 1000))
    return bool(claimed)
