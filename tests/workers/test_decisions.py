"""The decision log: compact entries that read back whole, kept as long as the retention setting says."""

from __future__ import annotations

import pytest
import redis

from workers import decisions
from workers.decisions import Decision
from workers.ingest.queue import Run
from workers.ingest.record import record_outcome
from workers.runtime import Runtime
from workers.settings import ConfigError, load_settings
from workers.stacking.stacker import Outcome

DAY_S = 24 * 3600


def test_a_decision_is_stored_without_its_empty_fields_and_reads_back_whole() -> None:
    sparse = Decision(
        "acc", "f1", "nothing", "no version in the name", scope="global", event="file.upload.completed", at=12.5
    )
    full = Decision(
        "acc", "f2", "stacked", "created", "created", "a_v2.mov", "a", 2, "v", "show", "fo", "st", "e", "j", True, 9.25
    )
    assert Decision.from_json(sparse.to_json()) == sparse
    assert Decision.from_json(full.to_json()) == full
    assert '"c"' not in sparse.to_json() and '"v"' not in sparse.to_json()
    assert len(sparse.to_json()) < len(full.to_json()) / 2


def test_the_usual_event_and_scope_are_left_out_of_a_stored_line_and_read_back() -> None:
    usual = Decision("acc", "f1", "nothing", "r", scope="global", event="file.upload.completed", at=1.0)
    assert "file.upload.completed" not in usual.to_json() and "global" not in usual.to_json()
    assert Decision.from_json(usual.to_json()) == usual
    unusual = Decision.from_json(Decision("acc", "f1", "nothing", "r", at=1.0).to_json())
    assert (unusual.event, unusual.scope) == ("", "")


def test_a_stored_decision_keeps_its_time_to_the_millisecond() -> None:
    assert Decision.from_json(Decision("acc", "f1", "nothing", "r", at=1796605679.1762033).to_json()).at == (
        1796605679.176
    )


def test_every_field_is_stored_under_a_key_of_its_own() -> None:
    assert set(decisions.SHORT) == set(Decision.__dataclass_fields__)
    assert len(set(decisions.SHORT.values())) == len(decisions.SHORT)


def test_a_decision_stored_with_field_names_as_keys_still_reads() -> None:
    text = '{"account_id":"acc","at":3.0,"code":"created","name":"a_v2.mov","outcome":"stacked","reason":"r"}'
    expected = Decision("acc", "f1", "stacked", "r", "created", "a_v2.mov", at=3.0)
    assert Decision.from_json(text, file_id="f1") == expected


def old_entry(at: float) -> str:
    """A decision as 0.2 wrote it: every field, in a list."""
    text = '{"account_id":"acc","at":AT,"code":"","dry_run":false,"event":"","file_id":"f1","folder_id":"",'
    text += '"group_key":"","job_id":"","name":"","outcome":"nothing","reason":"r","rule":"","stack_id":"",'
    return text.replace("AT", repr(at)) + '"version":null}'


def test_a_files_history_written_before_the_compact_form_still_reads(redis_client: redis.Redis) -> None:
    redis_client.rpush(decisions.PER_FILE.format(file_id="f1"), old_entry(2.0), old_entry(1.0))
    assert decisions.for_file(redis_client, "f1") == [Decision("acc", "f1", "nothing", "r", at=at) for at in (2, 1)]


def test_a_new_decision_goes_on_top_of_an_old_history_and_the_oldest_leave(redis_client: redis.Redis) -> None:
    key = decisions.PER_FILE.format(file_id="f1")
    redis_client.rpush(key, *(old_entry(float(at)) for at in range(decisions.PER_FILE_KEEP, 0, -1)))
    decisions.record(redis_client, Decision("acc", "f1", "stacked", "created", at=100.0), 100)
    decisions.record(redis_client, Decision("acc", "f1", "added", "moved", at=101.0), 100)
    history = decisions.for_file(redis_client, "f1")
    assert [d.at for d in history] == [101.0, 100.0, *(float(at) for at in range(decisions.PER_FILE_KEEP, 2, -1))]
    assert redis_client.type(key) == b"string"


def test_a_files_history_keeps_its_newest_entries(redis_client: redis.Redis) -> None:
    for at in range(30):
        decisions.record(redis_client, Decision("acc", "f1", "waiting", f"try {at}", at=float(at)), 100)
    history = decisions.for_file(redis_client, "f1")
    assert [d.reason for d in history] == [f"try {at}" for at in range(29, 29 - decisions.PER_FILE_KEEP, -1)]
    assert decisions.for_file(redis_client, "nobody") == []


@pytest.mark.parametrize("days", [1, 7, 90])
def test_a_files_decisions_are_kept_as_many_days_as_the_retention_setting(
    redis_url: str, redis_client: redis.Redis, days: int
) -> None:
    settings = load_settings({"REDIS_URL": redis_url, "AUTOSTACK_DECISION_RETENTION_DAYS": str(days)})
    outcome = Outcome("nothing", "no version in the name", "no-version", name="clip.mov")
    record_outcome(Runtime(settings), outcome, Run("acc", "f1", "file.upload.completed"))
    ttl = int(redis_client.ttl(decisions.PER_FILE.format(file_id="f1")))
    assert days * DAY_S - 60 <= ttl <= days * DAY_S
    assert [decision.code for decision in decisions.for_file(redis_client, "f1")] == ["no-version"]


@pytest.mark.parametrize("value", ["0", "-1", "3651", "a week"])
def test_a_retention_outside_one_day_to_ten_years_is_a_configuration_error(value: str) -> None:
    with pytest.raises(ConfigError, match="AUTOSTACK_DECISION_RETENTION_DAYS"):
        load_settings({"AUTOSTACK_DECISION_RETENTION_DAYS": value})


def test_the_stream_keeps_the_last_day_and_a_quiet_day_does_not_empty_it(redis_client: redis.Redis) -> None:
    for ms in range(150):  # entries from long ago (a stream id is Redis time in ms)
        old = Decision("acc", f"old{ms}", "nothing", "r").to_json()
        redis_client.xadd(decisions.STREAM, {"d": old}, id=f"{ms + 1}-0")
    assert len(decisions.latest(redis_client, 1000)) == 150  # nothing new came: status still shows them
    decisions.record(redis_client, Decision("acc", "new", "stacked", "created a stack"), 100_000)
    assert [decision.file_id for decision in decisions.latest(redis_client, 1000)] == ["new"]
