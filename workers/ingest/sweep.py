"""The reconciliation sweep: stack what missed webhooks would have stacked.

Frame.io gives up on a delivery after five attempts, and a delivery can be lost before it is
answered. Every job notes the folder it looked at; a periodic job (scheduled in RQ's registry, one per
interval across all workers) lists each folder seen recently and queues one ordinary stacking job
for every group that still has work: two loose versions, or a loose version beside its stack.
"""

from __future__ import annotations

import logging
import math
import time

import redis
from rq import Queue

from workers import metrics, runtime
from workers.frameio.models import Asset
from workers.ingest import activity
from workers.ingest.inbox import Inbox, accounts_with_entries
from workers.ingest.queue import enqueue_drain, enqueue_file_event, schedule_sweep
from workers.naming.parser import Rules
from workers.stacking.census import take_census
from workers.stacking.holds import without_held
from workers.stacking.scope import FolderScope
from workers.stacking.stacker import NOT_A_FOLDER

log = logging.getLogger("autostack.sweep")

RECENT = "autostack:recent-folders"
SWEEP_EVENT = "sweep"


def note_folder(client: redis.Redis, account_id: str, folder_id: str, now: float, lookback_s: float) -> None:
    """Remember the folder for the sweep; folders older than the lookback are dropped on the way,
    and the set expires a lookback after the last note (with the sweep off, it stays bounded)."""
    pipe = client.pipeline(transaction=False)
    pipe.zadd(RECENT, {f"{account_id}|{folder_id}": now})
    pipe.zremrangebyscore(RECENT, "-inf", f"({now - lookback_s}")
    pipe.expire(RECENT, math.ceil(lookback_s) + 60)
    pipe.execute()


def recent_folders(client: redis.Redis, now: float, lookback_s: float) -> list[tuple[str, str]]:
    """The (account, folder) pairs seen within the lookback; older ones are forgotten."""
    client.zremrangebyscore(RECENT, "-inf", now - lookback_s)
    members: list[bytes] = client.zrangebyscore(RECENT, now - lookback_s, "+inf")  # type: ignore[assignment]
    pairs = (member.decode().split("|", 1) for member in members)
    return [(account, folder) for account, folder in pairs]


def groups_with_work(children: list[Asset], rules: Rules, by_kind: bool) -> list[str]:
    """Pure: one loose file id per group that is not yet one stack (the job stacks the group)."""
    census = take_census(children, rules, by_kind)
    return [
        min((member.file for member in members), key=lambda file: file.created_at).id
        for (key, _kind), members in sorted(census.loose.items())
        if len(members) > 1 or census.has_stack(key)
    ]


def sweep() -> int:
    """RQ entry point: queue a stacking job per group with work in the recently seen folders."""
    rt = runtime.current()
    settings = rt.settings
    client, queue = rt.redis(), rt.queue()
    queued = 0
    try:
        queued += _revive_drains(rt, queue)
        for account_id, folder_id in recent_folders(client, time.time(), settings.autostack_sweep_lookback_s):
            queued += _sweep_folder(rt, queue, account_id, folder_id)
    finally:
        schedule_sweep(queue, settings.autostack_sweep_interval_s)
    activity.note_sweep(client, time.time(), queued)
    metrics.stamp(client, "autostack_sweep_last_run_timestamp_seconds", time.time())
    log.info("sweep queued %d job(s)", queued)
    return queued


def _revive_drains(rt: runtime.Runtime, queue: Queue) -> int:
    """A drain for every inbox that holds entries and has none (its drain job was lost)."""
    revived = 0
    for account_id in accounts_with_entries(rt.redis()):
        if Inbox(rt.redis(), account_id).claim():
            enqueue_drain(queue, account_id, rt.settings)
            revived += 1
    return revived


def _sweep_folder(rt: runtime.Runtime, queue: Queue, account_id: str, folder_id: str) -> int:
    scope = FolderScope(rt.frameio(), rt.redis(), rt.settings.autostack_folders)
    try:
        if scope.refusal(account_id, folder_id) is not None:
            return 0  # outside the configured folders, or paused by a person: nothing to queue
    except NOT_A_FOLDER:
        pass  # a version stack: the jobs it queues answer for themselves
    children = rt.frameio().list_folder_children(account_id, folder_id)
    suffix = f"_s{int(time.time())}"
    queued = 0
    by_kind = rt.policy().separate_media_kinds
    rules = rt.folder_rules().resolve(account_id, folder_id).rules  # the folder's [[scope]], if any
    for file_id in groups_with_work(without_held(rt.memory().holds, children), rules, by_kind):
        job = enqueue_file_event(queue, SWEEP_EVENT, account_id, file_id, rt.settings, suffix)
        queued += job is not None
    return queued
