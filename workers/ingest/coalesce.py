"""Coalescing: versions of one group that arrive within a short window are stacked together.

The first job of a group in a window becomes its leader and runs once the window has passed;
the jobs that arrive inside the window leave their files to the leader. So a render farm's
v004 and v005 in the same second make one create, not a create and a move.

A follower's file id is written down for its leader. When the leader's run ends, it takes that
list and hands every follower its own listing did not show (or all of them, when the leader
failed before it listed the folder: its own file was deleted, say) back to jobs of their own, so
no follower depends on the leader succeeding.
"""

from __future__ import annotations

import redis

KEY = "autostack:coalesce:{name}"
FOLLOWERS_KEY = "autostack:coalesce-followers:{leader}"
FOLLOWERS_TTL_S = 24 * 3600  # a leader's later runs may wait out retries for hours

# KEYS[1] the window; ARGV: this job's token (its file id), the window in ms, the followers key
# prefix, its TTL. The followers key is named by the leader's token, read here, so it is built in
# the script (autostack runs on one Redis, never a cluster).
_LEAD_OR_FOLLOW = """
local leader = redis.call('GET', KEYS[1])
if not leader then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if leader ~= ARGV[1] then
  local followers = ARGV[3] .. leader
  redis.call('SADD', followers, ARGV[1])
  redis.call('EXPIRE', followers, ARGV[4])
end
return 0
"""


def lead_or_follow(client: redis.Redis, name: str, job_token: str, window_s: float) -> bool:
    """True when this job leads the group's window (and must wait it out); False when a leader
    already holds the window and will stack this job's file too (it is written down for it)."""
    if window_s <= 0:
        return True
    prefix = FOLLOWERS_KEY.format(leader="")
    args = (job_token, int(window_s * 1000), prefix, FOLLOWERS_TTL_S)
    return bool(client.eval(_LEAD_OR_FOLLOW, 1, KEY.format(name=name), *args))


def take_followers(client: redis.Redis, leader_token: str) -> list[str]:
    """The file ids that left their files to this leader, once: the list is gone afterwards."""
    key = FOLLOWERS_KEY.format(leader=leader_token)
    pipe = client.pipeline(transaction=True)
    pipe.smembers(key)
    pipe.delete(key)
    members, _ = pipe.execute()
    return sorted(member.decode() for member in members)
