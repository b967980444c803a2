"""The account inbox on a real Redis: one acceptance per file, one drain queued at a time, and no
entry removed that a newer delivery re-scored."""

from __future__ import annotations

import redis

from workers.ingest import activity
from workers.ingest.inbox import Inbox, accounts_with_entries, inbox_files


def test_a_file_is_accepted_once_whatever_the_event_type(redis_client: redis.Redis) -> None:
    inbox = Inbox(redis_client, "acct")
    first = inbox.accept("file-1", "file.upload.completed", 60)
    again = inbox.accept("file-1", "file.ready", 60)
    assert first.accepted and not again.accepted
    (entry,) = inbox.snapshot(10)
    assert (entry.file_id, entry.event_type) == ("file-1", "file.upload.completed")
    assert abs(entry.at - first.at) < 0.01


def test_only_the_first_delivery_asks_for_a_drain_while_one_is_queued(redis_client: redis.Redis) -> None:
    inbox = Inbox(redis_client, "acct")
    asks = [inbox.accept(f"file-{index}", "file.upload.completed", 60).queue_drain for index in range(5)]
    assert asks == [True, False, False, False, False]
    assert accounts_with_entries(redis_client) == ["acct"]


def test_the_flag_is_dropped_only_once_the_inbox_is_empty(redis_client: redis.Redis) -> None:
    inbox = Inbox(redis_client, "acct")
    inbox.accept("file-1", "file.upload.completed", 60)
    assert not inbox.close_if_empty()
    assert inbox.remove(inbox.snapshot(10)) == 1
    assert inbox.close_if_empty()
    assert accounts_with_entries(redis_client) == []
    assert inbox.accept("file-2", "file.upload.completed", 60).queue_drain  # the next one queues a drain


def test_an_entry_accepted_again_after_the_snapshot_is_not_removed(redis_client: redis.Redis) -> None:
    inbox = Inbox(redis_client, "acct")
    inbox.accept("file-1", "file.upload.completed", 60)
    seen = inbox.snapshot(10)
    redis_client.delete("autostack:delivery:acct:file-1")  # the dedupe mark expired: a new delivery
    redis_client.zadd(inbox.key, {"file-1": seen[0].score + 5})
    assert inbox.remove(seen) == 0
    assert inbox.size() == 1


def test_a_failed_enqueue_lets_the_next_delivery_in_and_ask_for_a_drain(redis_client: redis.Redis) -> None:
    inbox = Inbox(redis_client, "acct")
    assert inbox.accept("file-1", "file.upload.completed", 60).queue_drain
    inbox.undo_accept("file-1")
    retried = inbox.accept("file-1", "file.upload.completed", 60)
    assert retried.accepted and retried.queue_drain
    assert inbox.size() == 1


def test_a_duplicate_revives_a_lost_drain_once_the_flag_has_expired(redis_client: redis.Redis) -> None:
    inbox = Inbox(redis_client, "acct")
    inbox.accept("file-1", "file.upload.completed", 60)
    redis_client.delete(inbox.flag_key)  # the drain's flag expired: its job was lost
    duplicate = inbox.accept("file-1", "file.ready", 60)
    assert not duplicate.accepted and duplicate.queue_drain


def test_accounts_have_separate_inboxes(redis_client: redis.Redis) -> None:
    Inbox(redis_client, "a").accept("file-1", "file.upload.completed", 60)
    assert Inbox(redis_client, "b").accept("file-1", "file.upload.completed", 60).accepted
    assert Inbox(redis_client, "b").snapshot(10)[0].file_id == "file-1"
    assert accounts_with_entries(redis_client) == ["a", "b"]


def test_the_files_waiting_are_counted_over_every_account(redis_client: redis.Redis) -> None:
    assert inbox_files(redis_client) == 0
    for account, files in (("a", ["f1", "f2", "f3"]), ("b", ["f1"])):
        for file_id in files:
            Inbox(redis_client, account).accept(file_id, "file.upload.completed", 60)
    Inbox(redis_client, "a").accept("f1", "file.ready", 60)  # a duplicate adds nothing
    assert inbox_files(redis_client) == 4


def test_the_sweep_claims_a_drain_only_for_entries_without_one(redis_client: redis.Redis) -> None:
    inbox = Inbox(redis_client, "acct")
    assert not inbox.claim()  # nothing waits
    inbox.accept("file-1", "file.upload.completed", 60)
    assert not inbox.claim()  # the delivery's drain holds the flag
    redis_client.delete(inbox.flag_key)
    assert inbox.claim()
    assert not inbox.claim()


def test_an_accepted_delivery_is_the_last_webhook_and_a_duplicate_is_not(redis_client: redis.Redis) -> None:
    first = Inbox(redis_client, "acc").accept("f1", "file.ready", 60)
    assert activity.read(redis_client).last_webhook_at == first.at
    redis_client.delete(activity.LAST_WEBHOOK_KEY)
    Inbox(redis_client, "acc").accept("f1", "file.ready", 60)  # a duplicate: not a new acceptance
    assert activity.read(redis_client).last_webhook_at is None


def test_the_oldest_entry_is_the_longest_waiting(redis_client: redis.Redis) -> None:
    inbox = Inbox(redis_client, "acc")
    assert inbox.oldest_at() is None
    first = inbox.accept("f1", "file.ready", 60)
    inbox.accept("f2", "file.ready", 60)
    assert inbox.oldest_at() == first.at
