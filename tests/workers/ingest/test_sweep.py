"""The sweep: which groups still have work, and one scheduled sweep per interval."""

from __future__ import annotations

import time

import pytest
import redis
from rq import Queue

from tests.inprocess_sandbox import InProcessSandbox
from tests.workers.ingest.test_drain import make_runtime
from workers import runtime
from workers.frameio.models import Asset, FileAsset, StackAsset
from workers.ingest import activity
from workers.ingest.queue import schedule_sweep
from workers.ingest.sweep import groups_with_work, note_folder, recent_folders, sweep
from workers.naming.parser import DEFAULT_RULES
from workers.stacking.pauses import Pauses


def file(file_id: str, name: str, status: str = "uploaded", at: str = "") -> FileAsset:
    return FileAsset(file_id, name, "folder", status, None, at or file_id)


def test_two_loose_versions_are_work_and_one_alone_is_not() -> None:
    children: list[Asset] = [file("1", "a_v1.mov"), file("2", "a_v2.mov"), file("3", "b_v1.mov")]
    assert groups_with_work(children, DEFAULT_RULES, True) == ["1"]


def test_a_loose_version_beside_its_stack_is_work() -> None:
    children: list[Asset] = [StackAsset("s", "a_v2.mov", "folder", "f2"), file("3", "a_v3.mov")]
    assert groups_with_work(children, DEFAULT_RULES, True) == ["3"]


def test_declined_names_unfinished_uploads_and_other_media_kinds_are_not_work() -> None:
    children: list[Asset] = [
        file("1", "A004C010_20230610_R1JL.mov"),
        file("2", "A004C011_20230610_R1JL.mov"),
        file("3", "a_v1.mov"),
        file("4", "a_v2.mov", status="created"),
        file("5", "a_v3.jpg"),
    ]
    assert groups_with_work(children, DEFAULT_RULES, True) == []


def test_folders_are_remembered_for_the_lookback_only(redis_client: redis.Redis) -> None:
    note_folder(redis_client, "acc", "old", now=1000.0, lookback_s=3600)
    note_folder(redis_client, "acc", "new", now=5000.0, lookback_s=3600)
    assert recent_folders(redis_client, now=5100.0, lookback_s=3600) == [("acc", "new")]
    assert redis_client.zcard("autostack:recent-folders") == 1


def test_noting_a_folder_forgets_the_ones_past_the_lookback_even_with_the_sweep_off(
    redis_client: redis.Redis,
) -> None:
    note_folder(redis_client, "acc", "old", now=1000.0, lookback_s=3600)
    note_folder(redis_client, "acc", "new", now=5000.0, lookback_s=3600)
    assert redis_client.zrange("autostack:recent-folders", 0, -1) == [b"acc|new"]
    assert 0 < int(redis_client.ttl("autostack:recent-folders")) <= 3600 + 60


def test_one_sweep_is_scheduled_per_interval_whoever_asks(redis_client: redis.Redis) -> None:
    queue = Queue("autostack", connection=redis_client)
    for _ in range(3):
        schedule_sweep(queue, 300, now=1_000_000.0)
    schedule_sweep(queue, 300, now=1_000_301.0)  # the next slot
    assert sorted(queue.scheduled_job_registry.get_job_ids()) == ["sweep_3334", "sweep_3335"]


def test_no_sweep_when_the_interval_is_zero(redis_client: redis.Redis) -> None:
    queue = Queue("autostack", connection=redis_client)
    schedule_sweep(queue, 0)
    assert queue.scheduled_job_registry.count == 0


def test_the_sweep_keeps_media_kinds_apart_only_when_the_setting_says_so() -> None:
    children: list[Asset] = [file("1", "a_v1.mov"), file("2", "a_v2.wav")]
    assert groups_with_work(children, DEFAULT_RULES, by_kind=True) == []
    assert groups_with_work(children, DEFAULT_RULES, by_kind=False) == ["1"]


@pytest.mark.parametrize(("separate", "queued"), [("true", 0), ("false", 1)])
def test_a_sweep_job_follows_the_media_kinds_setting(
    sandbox: InProcessSandbox,
    redis_url: str,
    redis_client: redis.Redis,
    monkeypatch: pytest.MonkeyPatch,
    separate: str,
    queued: int,
) -> None:
    rt = make_runtime(sandbox, redis_url, AUTOSTACK_SEPARATE_MEDIA_KINDS=separate, AUTOSTACK_SWEEP_INTERVAL_S="0")
    folder = sandbox.folder("f")
    for name in ("a_v1.mov", "a_v2.wav"):
        sandbox.upload(folder, name)
    note_folder(redis_client, sandbox.account, folder, time.time(), lookback_s=3600)
    monkeypatch.setattr(runtime, "_current", rt)
    assert sweep() == queued


def test_a_sweep_records_when_it_ran_and_what_it_queued_for_status(
    sandbox: InProcessSandbox, redis_url: str, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt = make_runtime(sandbox, redis_url, AUTOSTACK_SWEEP_INTERVAL_S="0")
    folder = sandbox.folder("f")
    for name in ("a_v1.mov", "a_v2.mov"):
        sandbox.upload(folder, name)
    note_folder(redis_client, sandbox.account, folder, time.time(), lookback_s=3600)
    monkeypatch.setattr(runtime, "_current", rt)
    assert activity.read(redis_client).last_sweep_at is None
    before = time.time()
    assert sweep() == 1
    marks = activity.read(redis_client)
    assert marks.last_sweep_queued == 1
    assert marks.last_sweep_at is not None and marks.last_sweep_at >= before
    assert 0 < redis_client.ttl(activity.LAST_SWEEP_KEY) <= activity.TTL_S


def test_the_sweep_queues_nothing_in_a_paused_folder_or_below_it_until_resumed(
    sandbox: InProcessSandbox, redis_url: str, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt = make_runtime(sandbox, redis_url, AUTOSTACK_SWEEP_INTERVAL_S="0")
    top = sandbox.folder("top")
    path = f"/v4/accounts/{sandbox.account}/folders/{top}/folders"
    below = sandbox.http.post(path, json={"data": {"name": "below"}}, headers=sandbox.auth()).json()["data"]["id"]
    for name in ("a_v1.mov", "a_v2.mov"):
        sandbox.upload(below, name)
    note_folder(redis_client, sandbox.account, below, time.time(), lookback_s=3600)
    monkeypatch.setattr(runtime, "_current", rt)
    Pauses(redis_client).pause(top, "someone", 0.0)
    assert sweep() == 0
    Pauses(redis_client).resume(top)
    assert sweep() == 1
