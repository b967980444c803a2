"""The webhook endpoint on a real Redis: what it queues, and what it refuses without queuing."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from rq import Queue
from starlette.testclient import TestClient

from service.app import create_app
from workers.ingest import activity
from workers.ingest.inbox import Inbox
from workers.settings import Settings, load_settings

SECRET = "whsec-test"


def signed_headers(body: bytes, secret: str = SECRET, timestamp: int | None = None) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256).hexdigest()
    return {
        "x-frameio-request-timestamp": stamp,
        "x-frameio-signature": f"v0={digest}",
        "content-type": "application/json",
    }


def event(
    kind: str = "file.upload.completed", file_id: str = "file-1", project: str = "proj", account: str = "acc"
) -> bytes:
    payload = {
        "account": {"id": account},
        "project": {"id": project},
        "resource": {"id": file_id, "type": "file"},
        "type": kind,
        "user": {"id": "user"},
        "workspace": {"id": "ws"},
    }
    return json.dumps(payload).encode()


@pytest.fixture
def settings(redis_url: str) -> Settings:
    return load_settings({"REDIS_URL": redis_url, "FRAMEIO_WEBHOOK_SECRETS": f"{SECRET},older-secret"})


@pytest.fixture
def client(settings: Settings, redis_client: redis.Redis) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def queued(redis_client: redis.Redis) -> int:
    """Deliveries accepted and waiting in account ``acc``'s inbox for its drain."""
    return Inbox(redis_client, "acc").size()


def test_a_signed_upload_event_goes_to_the_inbox_and_queues_its_drain_with_ids_only(
    client: TestClient, redis_client: redis.Redis
) -> None:
    body = event()
    answer = client.post("/webhooks/frameio", content=body, headers=signed_headers(body))
    assert answer.status_code == 202
    assert answer.json()["status"] == "queued"
    assert [(entry.file_id, entry.event_type) for entry in Inbox(redis_client, "acc").snapshot(10)] == [
        ("file-1", "file.upload.completed")
    ]
    jobs = Queue("autostack", connection=redis_client).get_jobs()
    assert [(job.func_name, job.args) for job in jobs] == [("workers.ingest.drain.drain_inbox", ("acc",))]


def test_deliveries_for_many_files_of_one_account_queue_one_drain(
    client: TestClient, redis_client: redis.Redis
) -> None:
    for index in range(5):
        body = event(file_id=f"file-{index}")
        assert client.post("/webhooks/frameio", content=body, headers=signed_headers(body)).status_code == 202
    assert queued(redis_client) == 5
    assert Queue("autostack", connection=redis_client).count == 1


def test_a_file_ready_after_the_files_upload_event_is_a_duplicate(
    client: TestClient, redis_client: redis.Redis
) -> None:
    first, ready = event(), event("file.ready")
    assert client.post("/webhooks/frameio", content=first, headers=signed_headers(first)).status_code == 202
    again = client.post("/webhooks/frameio", content=ready, headers=signed_headers(ready))
    assert (again.status_code, again.json()["status"]) == (200, "duplicate")
    assert queued(redis_client) == 1


def test_without_the_inbox_each_delivery_is_a_job_of_ids_only(redis_url: str, redis_client: redis.Redis) -> None:
    settings = load_settings({"REDIS_URL": redis_url, "FRAMEIO_WEBHOOK_SECRETS": SECRET, "AUTOSTACK_INBOX": "false"})
    with TestClient(create_app(settings)) as per_event:
        for kind in ("file.upload.completed", "file.ready"):
            body = event(kind)
            assert per_event.post("/webhooks/frameio", content=body, headers=signed_headers(body)).status_code == 202
    jobs = Queue("autostack", connection=redis_client).get_jobs()
    assert [job.args for job in jobs] == [("acc", "file-1", "file.upload.completed"), ("acc", "file-1", "file.ready")]
    assert {job.func_name for job in jobs} == {"workers.ingest.jobs.handle_file_event"}


@pytest.mark.parametrize("inbox", ["true", "false"])
def test_an_accepted_delivery_is_noted_as_the_last_webhook_and_a_refused_one_is_not(
    redis_url: str, redis_client: redis.Redis, inbox: str
) -> None:
    settings = load_settings({"REDIS_URL": redis_url, "FRAMEIO_WEBHOOK_SECRETS": SECRET, "AUTOSTACK_INBOX": inbox})
    with TestClient(create_app(settings)) as web:
        body = event()
        assert web.post("/webhooks/frameio", content=body, headers=signed_headers(body, "wrong")).status_code == 401
        assert activity.read(redis_client).last_webhook_at is None
        before = time.time()
        assert web.post("/webhooks/frameio", content=body, headers=signed_headers(body)).status_code == 202
    noted = activity.read(redis_client).last_webhook_at
    assert noted is not None and noted >= before - 1  # Redis's clock on the inbox path, ms precision


def test_the_older_secret_still_verifies_during_rotation(client: TestClient, redis_client: redis.Redis) -> None:
    body = event()
    answer = client.post("/webhooks/frameio", content=body, headers=signed_headers(body, "older-secret"))
    assert answer.status_code == 202
    assert queued(redis_client) == 1


def test_a_repeated_delivery_is_answered_but_queued_once(client: TestClient, redis_client: redis.Redis) -> None:
    body = event()
    first = client.post("/webhooks/frameio", content=body, headers=signed_headers(body))
    again = client.post("/webhooks/frameio", content=body, headers=signed_headers(body, timestamp=int(time.time()) + 1))
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["status"] == "duplicate"
    assert queued(redis_client) == 1


@pytest.mark.parametrize(
    ("make_request", "status"),
    [
        (lambda b: (b, signed_headers(b, "wrong-secret")), 401),
        (lambda b: (b, signed_headers(b, timestamp=int(time.time()) - 301)), 401),
        (lambda b: (b, signed_headers(b, timestamp=int(time.time()) + 301)), 401),
        (lambda b: (b, {"content-type": "application/json"}), 401),
        (lambda b: (b + b"x", signed_headers(b)), 401),
        (lambda b: (b"{not json", signed_headers(b"{not json")), 400),
        (lambda b: (b"[1, 2]", signed_headers(b"[1, 2]")), 400),
        (lambda b: (b'{"type": "file.ready"}', signed_headers(b'{"type": "file.ready"}')), 400),
    ],
    ids=["bad-signature", "stale", "future", "unsigned", "tampered", "malformed-json", "not-object", "no-ids"],
)
def test_bad_input_is_refused_and_nothing_is_queued(
    client: TestClient, redis_client: redis.Redis, make_request: object, status: int
) -> None:
    body, headers = make_request(event())  # type: ignore[operator]
    answer = client.post("/webhooks/frameio", content=body, headers=headers)
    assert answer.status_code == status
    assert queued(redis_client) == 0


def test_a_valid_event_of_another_type_is_ignored_with_200(client: TestClient, redis_client: redis.Redis) -> None:
    body = event("file.deleted")
    answer = client.post("/webhooks/frameio", content=body, headers=signed_headers(body))
    assert answer.status_code == 200
    assert answer.json()["status"] == "ignored"
    assert queued(redis_client) == 0


def test_a_body_over_the_limit_is_refused_with_413(redis_url: str, redis_client: redis.Redis) -> None:
    settings = load_settings(
        {"REDIS_URL": redis_url, "FRAMEIO_WEBHOOK_SECRETS": SECRET, "AUTOSTACK_MAX_BODY_BYTES": "100"}
    )
    body = event() + b" " * 200
    with TestClient(create_app(settings)) as test_client:
        answer = test_client.post("/webhooks/frameio", content=body, headers=signed_headers(body))
    assert answer.status_code == 413
    assert queued(redis_client) == 0


def test_events_outside_the_configured_projects_are_ignored(redis_url: str, redis_client: redis.Redis) -> None:
    settings = load_settings(
        {"REDIS_URL": redis_url, "FRAMEIO_WEBHOOK_SECRETS": SECRET, "AUTOSTACK_PROJECTS": "proj-a,proj-b"}
    )
    with TestClient(create_app(settings)) as test_client:
        outside, inside = event(project="proj-z"), event(project="proj-b", file_id="file-2")
        assert (
            test_client.post("/webhooks/frameio", content=outside, headers=signed_headers(outside)).status_code == 200
        )
        assert test_client.post("/webhooks/frameio", content=inside, headers=signed_headers(inside)).status_code == 202
    assert queued(redis_client) == 1


def test_an_account_without_a_credential_is_declined_with_one_line(
    redis_url: str, redis_client: redis.Redis, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    accounts = tmp_path / "accounts.toml"
    accounts.write_text('[acc]\ntoken = "t"\n')
    env = {"REDIS_URL": redis_url, "FRAMEIO_WEBHOOK_SECRETS": SECRET, "FRAMEIO_ACCOUNTS_FILE": str(accounts)}
    with TestClient(create_app(load_settings(env))) as test_client, caplog.at_level(logging.WARNING):
        stranger, known = event(account="acc-stranger"), event(file_id="file-2")
        declined = test_client.post("/webhooks/frameio", content=stranger, headers=signed_headers(stranger))
        accepted = test_client.post("/webhooks/frameio", content=known, headers=signed_headers(known))
    assert declined.status_code == 200 and declined.json()["status"] == "ignored"  # Frame.io stops retrying
    assert accepted.status_code == 202
    assert Inbox(redis_client, "acc-stranger").size() == 0 and queued(redis_client) == 1
    (line,) = [record.getMessage() for record in caplog.records if "declined" in record.getMessage()]
    assert "acc-stranger" in line and "FRAMEIO_ACCOUNTS_FILE" in line


def test_redis_down_answers_503_quickly_and_queues_nothing() -> None:
    settings = load_settings({"REDIS_URL": "redis://127.0.0.1:9/0", "FRAMEIO_WEBHOOK_SECRETS": SECRET})
    body = event()
    with TestClient(create_app(settings)) as test_client:
        started = time.monotonic()
        answer = test_client.post("/webhooks/frameio", content=body, headers=signed_headers(body))
        elapsed = time.monotonic() - started
        ready = test_client.get("/readyz")
    assert answer.status_code == 503
    assert elapsed < 1.0
    assert ready.status_code == 503


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").status_code == 200


@pytest.mark.parametrize(
    ("make_headers", "outcome"),
    [
        (lambda b: list(signed_headers(b, timestamp=int(time.time()) - 301).items()), "stale"),
        (
            lambda b: [(k, v) for k, v in signed_headers(b).items() if k != "x-frameio-request-timestamp"],
            "bad_timestamp",
        ),
        (lambda b: [*signed_headers(b).items(), ("x-frameio-request-timestamp", "1")], "bad_timestamp"),
        (
            lambda b: [(k, "soon" if k == "x-frameio-request-timestamp" else v) for k, v in signed_headers(b).items()],
            "bad_timestamp",
        ),
        (lambda b: [*signed_headers(b).items(), ("x-frameio-signature", "v0=00")], "bad_signature"),
        (lambda b: list(signed_headers(b, "wrong-secret").items()), "bad_signature"),
    ],
    ids=["stale", "timestamp-missing", "timestamp-twice", "timestamp-malformed", "signature-twice", "wrong-secret"],
)
def test_a_refused_delivery_is_counted_by_the_check_that_failed_not_by_its_message(
    client: TestClient, make_headers: object, outcome: str
) -> None:
    body = event()
    answer = client.post("/webhooks/frameio", content=body, headers=make_headers(body))  # type: ignore[operator]
    assert answer.status_code == 401
    counted = client.app.state.webhooks.outcomes  # type: ignore[attr-defined]
    assert {name: count for name, count in counted.items() if count} == {outcome: 1}


@pytest.fixture
def rq_forbidden_url(redis_url: str, redis_client: redis.Redis) -> Iterator[str]:
    """A Redis user that may write autostack's keys but not RQ's: every accept works, every
    enqueue fails (NOPERM), as when Redis refuses the second write of a delivery."""
    redis_client.acl_setuser("frontdoor", enabled=True, passwords=["+pw"], keys=["autostack:*"], commands=["+@all"])
    try:
        yield redis_url.replace("redis://", "redis://frontdoor:pw@", 1)
    finally:
        redis_client.acl_deluser("frontdoor")


def test_a_delivery_whose_drain_cannot_be_queued_gets_503_and_is_taken_afresh_next_time(
    rq_forbidden_url: str, redis_client: redis.Redis
) -> None:
    settings = load_settings({"REDIS_URL": rq_forbidden_url, "FRAMEIO_WEBHOOK_SECRETS": SECRET})
    body = event()
    with TestClient(create_app(settings)) as refused:
        answers = [refused.post("/webhooks/frameio", content=body, headers=signed_headers(body)) for _ in range(2)]
    assert [answer.status_code for answer in answers] == [503, 503]  # the redelivery is not a "duplicate"
    assert redis_client.exists("autostack:delivery:acc:file-1", "autostack:drain:acc") == 0
    assert Queue("autostack", connection=redis_client).count == 0
    assert queued(redis_client) == 1  # the entry waits; the next accepted delivery's drain decides it once
