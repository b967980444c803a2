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
    sparse = Decision("acc", "f1", "nothing", "no version in the name", at=12.5)
    full = Decision("acc", "f2", "stacked", "created", "created", "a_v2.mov", "a", 2, "v", "fo", "st", "e", "j", True)
    assert Decision.from_json(sparse.to_json()) == sparse
    assert Decision.from_json(full.to_json()) == full
    assert '"code"' not in sparse.to_json() and '"version"' not in sparse.to_json()
    assert len(sparse.to_json()) < len(full.to_json()) / 2


def test_a_decision_written_before_the_compact_form_still_reads(redis_client: redis.Redis) -> None:
    old = '{"account_id":"acc","at":1.0,"code":"","dry_run":false,"event":"","file_id":"f1","folder_id":"",'
    old += '"group_key":"","job_id":"","name":"","outcome":"nothing","reason":"r","rule":"","stack_id":"",'
    old += '"version":null}'
    redis_client.lpush(decisions.PER_FILE.format(file_id="f1"), old)
    assert decisions.for_file(redis_client, "f1") == [Decision("acc", "f1", "nothing", "r", at=1.0)]


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
