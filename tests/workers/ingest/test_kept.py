"""The listings a drain leaves to the next drain of its account: kept while young, never forever."""

from __future__ import annotations

import redis

from workers.frameio.models import FileAsset, StackAsset
from workers.ingest.kept import KEEP_S, KEY, MAX_ASSETS, Kept, load, save
from workers.stacking.writes import Write

FILE = FileAsset("f1", "sh010_v001.mov", "folder", "uploaded", "video/quicktime", "2026-12-06T10:00:00Z")
STACK = StackAsset("s1", "sh020_v002.mov", "folder", "f3")
WRITE = Write("created", "s1", "folder", ("f2", "f3"), 99.0, "drain:acct")


def test_a_listing_left_comes_back_whole_with_the_writes_made_in_it(redis_client: redis.Redis) -> None:
    left = Kept("folder", (FILE, STACK), read_at=100.0, listed_at=90.0, written=(WRITE,))
    assert save(redis_client, "acct", [left], now=101.0) == 1
    assert load(redis_client, "acct", now=101.0) == [left]
    assert load(redis_client, "another-account", now=101.0) == []


def test_a_listing_read_whole_longer_ago_than_the_keep_time_is_not_left_nor_taken(redis_client: redis.Redis) -> None:
    old = Kept("old", (FILE,), read_at=100.0, listed_at=100.0 - KEEP_S)
    young = Kept("young", (FILE,), read_at=100.0, listed_at=99.0)
    assert save(redis_client, "acct", [old, young], now=100.0) == 1
    assert [kept.folder_id for kept in load(redis_client, "acct", now=100.0)] == ["young"]
    assert load(redis_client, "acct", now=99.0 + KEEP_S) == []  # too old by the time it is read


def test_the_kept_listings_expire_and_a_new_leave_replaces_the_last(redis_client: redis.Redis) -> None:
    save(redis_client, "acct", [Kept("a", (FILE,), 1.0, 1.0)], now=1.0)
    save(redis_client, "acct", [Kept("b", (FILE,), 2.0, 2.0)], now=2.0)
    assert [kept.folder_id for kept in load(redis_client, "acct", now=2.0)] == ["b"]
    assert 0 < redis_client.pttl(KEY.format(account="acct")) <= KEEP_S * 1000
    save(redis_client, "acct", [], now=3.0)
    assert not redis_client.exists(KEY.format(account="acct"))


def test_an_entry_that_cannot_be_read_is_left_out(redis_client: redis.Redis) -> None:
    save(redis_client, "acct", [Kept("good", (FILE,), 1.0, 1.0)], now=1.0)
    redis_client.hset(KEY.format(account="acct"), "bad", b"{not json")
    redis_client.hset(KEY.format(account="acct"), "half", b'{"folder_id": "half"}')
    assert [kept.folder_id for kept in load(redis_client, "acct", now=1.0)] == ["good"]


def test_a_listing_too_long_to_write_at_every_hand_over_is_not_left(redis_client: redis.Redis) -> None:
    many = tuple(FileAsset(f"f{n}", f"take{n}.mov", "big", "uploaded", None, "") for n in range(MAX_ASSETS + 1))
    assert save(redis_client, "acct", [Kept("big", many, 1.0, 1.0), Kept("small", (FILE,), 1.0, 1.0)], now=1.0) == 1
    assert [kept.folder_id for kept in load(redis_client, "acct", now=1.0)] == ["small"]
