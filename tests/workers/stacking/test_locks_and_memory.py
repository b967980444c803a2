"""The group lock, coalescing and the shared memory, on a real Redis."""

from __future__ import annotations

import threading

import pytest
import redis

from service.processes import wait_until
from workers.frameio.models import Asset, FileAsset, StackAsset
from workers.ingest.coalesce import lead_or_follow, take_followers
from workers.stacking.journal import MOVED_KEY, MOVED_TTL_S, WRITE_KEY, WRITES_KEY, Journal
from workers.stacking.locks import GroupLocks, LockBusy, LockLost, renewing
from workers.stacking.memory import Memory
from workers.stacking.writes import Write


def test_a_held_group_lock_makes_the_second_worker_wait_then_give_up(redis_client: redis.Redis) -> None:
    locks = GroupLocks(redis_client, timeout_s=10, wait_s=0.2)
    with locks.hold("acc:folder:shot010"), pytest.raises(LockBusy), locks.hold("acc:folder:shot010"):
        pass  # pragma: no cover - never reached


def test_other_groups_are_not_blocked(redis_client: redis.Redis) -> None:
    locks = GroupLocks(redis_client, timeout_s=10, wait_s=0.2)
    with locks.hold("acc:folder:shot010") as guard, locks.hold("acc:folder:shot020") as other:
        guard()
        other()


def test_a_lock_lost_to_expiry_refuses_the_next_write(redis_client: redis.Redis) -> None:
    locks = GroupLocks(redis_client, timeout_s=10, wait_s=0.2)
    with locks.hold("acc:folder:g") as guard:
        guard()  # still ours: re-acquired for another full timeout
        redis_client.delete("autostack:lock:acc:folder:g")  # it expired
        with pytest.raises(LockLost):
            guard()


def test_a_lock_taken_over_by_another_worker_refuses_the_write(redis_client: redis.Redis) -> None:
    locks = GroupLocks(redis_client, timeout_s=10, wait_s=0.2)
    with locks.hold("acc:folder:g") as guard:
        redis_client.set("autostack:lock:acc:folder:g", "someone-else")
        with pytest.raises(LockLost):
            guard()
    assert redis_client.get("autostack:lock:acc:folder:g") == b"someone-else"  # not released by us


def test_the_first_job_of_a_window_leads_and_the_rest_follow(redis_client: redis.Redis) -> None:
    assert lead_or_follow(redis_client, "acc:f:g", "job-1", 5.0) is True
    assert lead_or_follow(redis_client, "acc:f:g", "job-2", 5.0) is False
    assert lead_or_follow(redis_client, "acc:f:other", "job-3", 5.0) is True
    redis_client.delete("autostack:coalesce:acc:f:g")  # the window has passed
    assert lead_or_follow(redis_client, "acc:f:g", "job-4", 5.0) is True


def test_followers_are_written_down_for_their_leader_and_taken_once(redis_client: redis.Redis) -> None:
    assert lead_or_follow(redis_client, "acc:f:g", "v1", 5.0) is True
    assert lead_or_follow(redis_client, "acc:f:g", "v1", 5.0) is False  # the leader's own repeat
    assert lead_or_follow(redis_client, "acc:f:g", "v3", 5.0) is False
    assert lead_or_follow(redis_client, "acc:f:g", "v2", 5.0) is False
    assert lead_or_follow(redis_client, "acc:f:other", "w1", 5.0) is True
    assert take_followers(redis_client, "v1") == ["v2", "v3"]
    assert take_followers(redis_client, "v1") == []
    assert take_followers(redis_client, "w1") == []
    assert 0 < redis_client.ttl("autostack:coalesce:acc:f:g") <= 5


def test_without_a_window_every_job_leads(redis_client: redis.Redis) -> None:
    assert lead_or_follow(redis_client, "acc:f:g", "job-1", 0) is True
    assert lead_or_follow(redis_client, "acc:f:g", "job-2", 0) is True


ASSETS: list[Asset] = [
    FileAsset("f1", "a_v1.mov", "folder", "uploaded", "video/quicktime", "2026-01-01T00:00:00Z"),
    StackAsset("s1", "b_v2.mov", "folder", "f9"),
]


def test_a_shared_listing_is_used_only_when_fetched_after_what_the_plan_depends_on(redis_client: redis.Redis) -> None:
    memory = Memory(redis_client, listing_ttl_s=30)
    memory.store_listing("folder", ASSETS, fetched_at=100.0)
    assert memory.listing("folder", "acc:folder:a", not_before=99.0) == ASSETS
    assert memory.listing("folder", "acc:folder:a", not_before=101.0) is None  # older than the window
    memory.remember_write(Write("created", "s2", "folder", ("f1", "f2"), at=150.0), "acc:folder:a", "acc")
    assert memory.listing("folder", "acc:folder:a", not_before=0.0) is None  # older than our own write
    assert memory.listing("folder", "acc:folder:b", not_before=0.0) == ASSETS  # another group is unaffected


def test_a_listing_is_not_shared_when_the_cache_is_off(redis_client: redis.Redis) -> None:
    memory = Memory(redis_client, listing_ttl_s=0)
    memory.store_listing("folder", ASSETS, fetched_at=100.0)
    assert memory.listing("folder", "g", not_before=0.0) is None


def test_writes_are_remembered_per_file_and_the_stack_is_known(redis_client: redis.Redis) -> None:
    memory = Memory(redis_client)
    write = Write("created", "s2", "folder", ("f1", "f2"), at=memory.now(), job_id="j")
    memory.remember_write(write, "g", "acc")
    assert memory.is_known_stack("s2")
    assert not memory.is_known_stack("s-other")
    assert memory.journal.write_for("f2") == write
    assert memory.journal.write_for("f3") is None


def test_a_write_is_stored_once_and_each_file_finds_its_latest(redis_client: redis.Redis) -> None:
    journal = Journal(redis_client)
    created = Write("created", "s1", "folder", ("f1", "f2", "f3"), at=1000.25, job_id="j1")
    added = Write("added", "s1", "folder", ("f4",), at=1000.5, job_id="j2")
    again = Write("added", "s2", "folder", ("f2",), at=2000.125, job_id="j3")  # f2 moved on later
    for write in (created, added, again):
        journal.record(write, "acc")
    assert [journal.write_for(f) for f in ("f1", "f2", "f3", "f4")] == [created, again, created, added]
    assert int(redis_client.zcard(WRITES_KEY)) == 3  # the create once, not once per file
    assert len(redis_client.get(WRITE_KEY.format(file_id="f1")) or b"") < 20


def test_a_files_write_kept_whole_by_an_older_release_still_reads(redis_client: redis.Redis) -> None:
    old = '{"action": "created", "stack_id": "s1", "folder_id": "fo", "file_ids": ["f1", "f2"], "at": 5.0, '
    old += '"job_id": ""}'
    redis_client.set(WRITE_KEY.format(file_id="f1"), old)
    assert Journal(redis_client).write_for("f1") == Write("created", "s1", "fo", ("f1", "f2"), 5.0)


def test_a_file_whose_write_left_the_index_has_none(redis_client: redis.Redis) -> None:
    journal = Journal(redis_client)
    journal.record(Write("created", "s1", "folder", ("f1", "f2"), at=10.0), "acc")
    redis_client.delete(WRITES_KEY)
    assert journal.write_for("f1") is None


def test_a_moved_file_names_its_stack_for_minutes_and_forgetting_it_clears_that(redis_client: redis.Redis) -> None:
    journal = Journal(redis_client)
    journal.record(Write("created", "s1", "folder", ("f1", "f2"), at=10.0), "acc")
    journal.record(Write("added", "s1", "folder", ("f3",), at=11.0), "acc")
    assert journal.moved_lately(["f1", "f3", "f9"]) == {"f1": "s1", "f3": "s1"}
    assert 0 < redis_client.ttl(MOVED_KEY.format(file_id="f3")) <= MOVED_TTL_S
    journal.forget("f3")  # undo took it out
    assert journal.moved_lately(["f1", "f3"]) == {"f1": "s1"}


def test_one_worker_lists_a_folder_while_the_others_wait_for_its_listing(redis_url: str) -> None:
    started, release = threading.Event(), threading.Event()
    fetches: list[str] = []

    def slow_fetch() -> list[Asset]:
        fetches.append(threading.current_thread().name)
        started.set()
        release.wait(10)
        return ASSETS

    def worker(results: list[tuple[list[Asset], bool]]) -> None:
        memory = Memory(redis.Redis.from_url(redis_url), listing_ttl_s=30)
        results.append(memory.shared_listing("folder", "acc:folder:g", 0.0, slow_fetch))

    results: list[tuple[list[Asset], bool]] = []
    first = threading.Thread(target=worker, args=(results,), name="first")
    first.start()
    assert started.wait(10)
    others = [threading.Thread(target=worker, args=(results,), name=f"other-{n}") for n in range(3)]
    for thread in others:
        thread.start()
    release.set()
    for thread in [first, *others]:
        thread.join(20)
    assert fetches == ["first"]
    assert sorted(shared for _, shared in results) == [False, True, True, True]
    assert all(listing == ASSETS for listing, _ in results)


def test_a_listing_begun_before_the_groups_window_closed_is_not_enough(redis_client: redis.Redis) -> None:
    memory = Memory(redis_client, listing_ttl_s=30)
    memory.store_listing("folder", ASSETS[:1], fetched_at=memory.now() - 5)
    fresh, shared = memory.shared_listing("folder", "g", memory.now() - 1, lambda: ASSETS)
    assert (fresh, shared) == (ASSETS, False)


def test_a_held_group_lock_is_renewed_while_its_holder_lives_and_lapses_after(redis_client: redis.Redis) -> None:
    """A short lease: renewed from a thread however long the holder's call takes; once the holder
    is gone nothing renews it (a dead worker blocks its group only ``timeout_s``)."""
    locks = GroupLocks(redis_client, timeout_s=1.5, wait_s=0.2)
    key = "autostack:lock:acc:folder:renewed"
    lowest = [int(1e9)]

    def renewed() -> bool:  # the time left went down, then back up
        left = int(redis_client.pttl(key))
        lowest[0] = min(lowest[0], left)
        return left > lowest[0] + 200

    with locks.hold("acc:folder:renewed") as guard:
        wait_until(renewed, 5, interval=0.05, what="a renewal")
        lowest[0] = int(1e9)
        wait_until(renewed, 5, interval=0.05, what="a second renewal")
        guard()  # still ours
    assert not redis_client.exists(key)  # released on the way out


def test_renewing_stops_when_the_block_ends(redis_client: redis.Redis) -> None:
    lock = redis_client.lock("autostack:lock:renew-stops", timeout=1.0, thread_local=False)
    assert lock.acquire()
    with renewing(lock, 0.2):
        pass
    wait_until(lambda: not redis_client.exists("autostack:lock:renew-stops"), 5, what="the lease to lapse")
