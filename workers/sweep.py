"""The reconciliation sweep: stack what missed webhooks would have stacked.

Frame.io gives up on a delivery after five attempts, and a delivery can be lost before it is
answered. Every job notes the folder it looked at; a periodic job (RQ's scheduler, one per
interval across all workers) lists each folder seen recently and queues one ordinary stacking job
for every group that still has work: two loose versions, or a loose version beside its stack.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections import defaultdict
from datetime import timedelta

import redis
from rq import Queue
from rq.exceptions import DuplicateJobError

from workers import runtime
from workers.inbox import Inbox, accounts_with_entries
from workers.media import media_kind
from workers.models import Asset, FileAsset, StackAsset
from workers.naming import Parsed, Rules, parse
from workers.undo import without_held

log = logging.getLogger("autostack.sweep")

RECENT = "autostack:recent-folders"
SWEEP_EVENT = "sweep"


def note_folder(client: redis.Redis, account_id: str, folder_id: str, now: float) -> None:
    client.zadd(RECENT, {f"{account_id}|{folder_id}": now})


def recent_folders(client: redis.Redis, now: float, lookback_s: float) -> list[tuple[str, str]]:
    """The (account, folder) pairs seen within the lookback; older ones are forgotten."""
    client.zremrangebyscore(RECENT, "-inf", now - lookback_s)
    members: list[bytes] = client.zrangebyscore(RECENT, now - lookback_s, "+inf")  # type: ignore[assignment]
    pairs = (member.decode().split("|", 1) for member in members)
    return [(account, folder) for account, folder in pairs]


def groups_with_work(children: list[Asset], rules: Rules) -> list[str]:
    """Pure: one loose file id per group that is not yet one stack (the job stacks the group)."""
    loose: dict[tuple[str, str], list[FileAsset]] = defaultdict(list)
    for asset in children:
        if isinstance(asset, FileAsset) and asset.uploaded:
            parsed = parse(asset.name, rules)
            if isinstance(parsed, Parsed):
                loose[(parsed.group_key, media_kind(asset.name, asset.media_type))].append(asset)
    stacked = {parsed.group_key for parsed in _stack_keys(children, rules)}
    return [
        min(files, key=lambda file: file.created_at).id
        for (key, _kind), files in sorted(loose.items())
        if len(files) > 1 or key in stacked
    ]


def _stack_keys(children: list[Asset], rules: Rules) -> list[Parsed]:
    parsed = (parse(asset.name, rules) for asset in children if isinstance(asset, StackAsset))
    return [item for item in parsed if isinstance(item, Parsed)]


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
    log.info("sweep queued %d job(s)", queued)
    return queued


def _revive_drains(rt: runtime.Runtime, queue: Queue) -> int:
    """A drain for every inbox that holds entries and has none (its drain job was lost)."""
    from workers.drain import enqueue_drain  # noqa: PLC0415 - the drain imports the jobs, which import this

    revived = 0
    for account_id in accounts_with_entries(rt.redis()):
        if Inbox(rt.redis(), account_id).claim():
            enqueue_drain(queue, account_id, rt.settings)
            revived += 1
    return revived


def _sweep_folder(rt: runtime.Runtime, queue: Queue, account_id: str, folder_id: str) -> int:
    from workers.jobs import enqueue_file_event  # noqa: PLC0415 - jobs imports this module

    children = rt.frameio().list_folder_children(account_id, folder_id)
    suffix = f"_s{int(time.time())}"
    queued = 0
    for file_id in groups_with_work(without_held(rt.memory(), children), rt.rules):
        job = enqueue_file_event(queue, SWEEP_EVENT, account_id, file_id, rt.settings, suffix)
        queued += job is not None
    return queued


def schedule_sweep(queue: Queue, interval_s: float, now: float | None = None) -> None:
    """Make sure the next sweep is scheduled: one job per interval slot, whichever worker asks."""
    if interval_s <= 0:
        return
    moment = time.time() if now is None else now
    slot = math.floor(moment / interval_s) + 1
    delay = max(0.0, slot * interval_s - moment)
    with contextlib.suppress(DuplicateJobError):  # another worker scheduled this slot already
        queue.enqueue_in(timedelta(seconds=delay), sweep, job_id=f"sweep_{slot}", unique=True, result_ttl=600)
