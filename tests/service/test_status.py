"""``autostack status``: every fact it promises, in text and JSON, times in UTC with the zone,
and ``--last 0`` without a traceback."""

from __future__ import annotations

import io
import json
import re

import redis

from service.status import run_status
from tests.service.conftest import run_autostack
from workers import decisions
from workers.ingest import activity
from workers.ingest.inbox import Inbox
from workers.settings import load_settings

TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")


def status(redis_url: str, *args: str) -> tuple[int, str, str]:
    return run_autostack("status", *args, env={"REDIS_URL": redis_url, "FRAMEIO_TOKEN": "t"})


def busy(client: redis.Redis) -> None:
    """Three files waiting in two inboxes, a sweep and a decision on record."""
    for account, file_id in (("acc-a", "f1"), ("acc-a", "f2"), ("acc-b", "f3")):
        Inbox(client, account).accept(file_id, "file.upload.completed", 60)
    activity.note_sweep(client, 1_700_000_000.0, 4)
    decisions.record(client, decisions.Decision("acc-a", "f9", "stacked", "created a stack", name="a_v2.mov"), 100)


def test_last_zero_shows_no_decisions_and_no_traceback(redis_url: str, redis_client: redis.Redis) -> None:
    busy(redis_client)
    code, out, err = status(redis_url, "--last", "0")
    assert (code, err) == (0, "")
    assert "last 0 decisions:" in out and "a_v2.mov" not in out


def test_a_negative_last_is_a_usage_error(redis_url: str) -> None:
    code, _, err = status(redis_url, "--last", "-1")
    assert code == 2 and "give 0 or more" in err and "Traceback" not in err


def test_text_shows_the_inbox_per_account_the_last_webhook_and_sweep(redis_client: redis.Redis, redis_url: str) -> None:
    busy(redis_client)
    out = io.StringIO()
    assert run_status(load_settings({"REDIS_URL": redis_url}), out) == 0
    text = out.getvalue()
    assert "inbox: 3 file(s) waiting for a drain" in text
    assert re.search(r"account acc-a: 2, the oldest accepted \S+ \S+ UTC", text)
    assert "account acc-b: 1" in text
    assert re.search(r"last webhook accepted: \S+ \S+ UTC", text)
    assert "last sweep: 2023-11-14 22:13:20 UTC, 4 job(s) queued" in text
    assert "a_v2.mov: created a stack" in text


def test_every_time_printed_carries_its_zone(redis_client: redis.Redis, redis_url: str) -> None:
    busy(redis_client)
    out = io.StringIO()
    run_status(load_settings({"REDIS_URL": redis_url, "FRAMEIO_TOKEN": "t"}), out)
    for line in out.getvalue().splitlines():
        for found in TIME.finditer(line):
            assert line[found.end() : found.end() + 4] == " UTC", line


def test_json_has_every_fact_with_iso_utc_times(redis_client: redis.Redis, redis_url: str) -> None:
    busy(redis_client)
    code, out, _ = status(redis_url, "--json", "--last", "5")
    assert code == 0
    facts = json.loads(out)
    assert [(row["account"], row["waiting"]) for row in facts["inbox"]] == [("acc-a", 2), ("acc-b", 1)]
    assert all(row["oldest_at"].endswith("+00:00") for row in facts["inbox"])
    assert facts["last_webhook_at"].endswith("+00:00")
    assert facts["last_sweep"] == {"at": "2023-11-14T22:13:20+00:00", "queued": 4}
    assert facts["queue"] == {"name": "autostack", "waiting": 0, "running": 0, "scheduled": 0, "failed": 0}
    assert facts["sign_in"]["mode"] == "static" and "token_expires_at" in facts["sign_in"]
    assert [d["name"] for d in facts["decisions"]] == ["a_v2.mov"]
    assert facts["decisions"][0]["at"].endswith("+00:00")


def test_nothing_recorded_says_so(redis_client: redis.Redis, redis_url: str) -> None:
    out = io.StringIO()
    run_status(load_settings({"REDIS_URL": redis_url}), out)
    assert "last webhook accepted: none in the last 7 days" in out.getvalue()
    assert "inbox: 0 file(s) waiting" in out.getvalue()
