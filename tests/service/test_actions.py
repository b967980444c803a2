"""The Custom Actions endpoint on a real Redis: what each action answers, that each step of an
interaction is done once, and what it refuses without doing anything."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from rq import Queue
from starlette.applications import Starlette
from starlette.testclient import TestClient

from service.app import create_app
from service.metrics_port import render_text
from tests.service.test_webhooks import signed_headers
from workers import decisions
from workers.decisions import Decision
from workers.ingest.queue import STACK_ACTION_JOB, UNDO_ACTION_JOB
from workers.settings import Settings, load_settings
from workers.stacking.pauses import Pauses

ACTION_SECRET = "action-secret-new"
OLD_ACTION_SECRET = "action-secret-old"


def payload(
    kind: str,
    resource_id: str,
    resource_type: str = "file",
    interaction: str = "int-1",
    user: str = "user-1",
    data: dict[str, Any] | None = None,
) -> bytes:
    body: dict[str, Any] = {
        "account_id": "acc",
        "action_id": "act-1",
        "interaction_id": interaction,
        "project": {"id": "proj"},
        "resource": {"id": resource_id, "type": resource_type},
        "type": kind,
        "user": {"id": user},
        "workspace": {"id": "ws"},
    }
    if data is not None:
        body["data"] = data
    return json.dumps(body).encode()


@pytest.fixture
def settings(redis_url: str) -> Settings:
    return load_settings(
        {
            "REDIS_URL": redis_url,
            "FRAMEIO_WEBHOOK_SECRETS": "whsec-test",
            "FRAMEIO_ACTION_SECRETS": f"{ACTION_SECRET},{OLD_ACTION_SECRET}",
            "AUTOSTACK_ACTION_WAIT_S": "0",
        }
    )


@pytest.fixture
def client(settings: Settings, redis_client: redis.Redis) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def click(client: TestClient, body: bytes, secret: str = ACTION_SECRET, timestamp: int | None = None) -> Any:
    return client.post("/actions/frameio", content=body, headers=signed_headers(body, secret, timestamp))


def jobs(redis_client: redis.Redis) -> list[tuple[Any, Any]]:
    return [(job.func_name, job.args) for job in Queue("autostack", connection=redis_client).get_jobs()]


def test_why_on_a_file_answers_its_recorded_decisions_without_frameio(
    client: TestClient, redis_client: redis.Redis
) -> None:
    decision = Decision(
        "acc", "f1", "stacked", "created a stack of 2 versions", name="a_v2.mov", rule="vNNN", stack_id="s1"
    )
    decisions.record(redis_client, decision, 100)
    answer = click(client, payload("autostack.why", "f1"))
    assert answer.status_code == 200
    shown = answer.json()
    assert shown["title"] == "Why? a_v2.mov"
    assert "stacked (stack s1): created a stack of 2 versions [rule vNNN]" in shown["description"]
    assert "fields" not in shown


def test_why_on_a_stack_answers_the_decisions_that_name_it(client: TestClient, redis_client: redis.Redis) -> None:
    decisions.record(redis_client, Decision("acc", "f1", "stacked", "made it", name="a_v1.mov", stack_id="s9"), 100)
    decisions.record(redis_client, Decision("acc", "f2", "declined", "no version", name="b.mov"), 100)
    shown = click(client, payload("autostack.why", "s9", "version_stack")).json()
    assert "made it" in shown["description"] and "no version" not in shown["description"]


def test_why_on_a_file_autostack_never_saw_says_so(client: TestClient) -> None:
    shown = click(client, payload("autostack.why", "unknown")).json()
    assert shown == {"title": "Why?", "description": "autostack has recorded no decision about this file yet."}


def test_pause_and_resume_hold_the_folder_in_redis_and_say_what_they_did(
    client: TestClient, redis_client: redis.Redis
) -> None:
    paused = click(client, payload("autostack.pause", "folder-1", "folder", interaction="i1")).json()
    assert paused["title"] == "Paused"
    pause = Pauses(redis_client).get("folder-1")
    assert pause is not None and pause.by == "frameio-user:user-1"
    assert click(client, payload("autostack.pause", "folder-1", "folder", interaction="i2")).json()["title"] == (
        "Already paused"
    )
    assert click(client, payload("autostack.resume", "folder-1", "folder", interaction="i3")).json()["title"] == (
        "Resumed"
    )
    assert Pauses(redis_client).ids() == set()
    assert click(client, payload("autostack.resume", "folder-1", "folder", interaction="i4")).json()["title"] == (
        "Not paused here"
    )


def test_a_retried_interaction_does_the_work_once_and_repeats_the_first_answer(
    client: TestClient, redis_client: redis.Redis
) -> None:
    body = payload("autostack.pause", "folder-1", "folder")
    first = click(client, body).json()
    Pauses(redis_client).resume("folder-1")  # were the retry done again, it would pause again
    again = click(client, body).json()
    assert first == again == {**first, "title": "Paused"}
    assert Pauses(redis_client).ids() == set()


def test_the_older_secret_still_verifies_during_a_rotation(client: TestClient) -> None:
    assert click(client, payload("autostack.why", "f1"), secret=OLD_ACTION_SECRET).status_code == 200


@pytest.mark.parametrize(
    ("secret", "age_s"),
    [("wrong-secret", 0), ("whsec-test", 0), (ACTION_SECRET, 3600)],
    ids=["bad-signature", "a-webhook-secret", "stale-replay"],
)
def test_a_bad_signature_or_a_replay_is_refused_401_and_nothing_is_done(
    client: TestClient, redis_client: redis.Redis, secret: str, age_s: int
) -> None:
    body = payload("autostack.pause", "folder-1", "folder")
    answer = click(client, body, secret=secret, timestamp=int(time.time()) - age_s)
    assert answer.status_code == 401
    assert Pauses(redis_client).ids() == set()
    assert redis_client.keys("autostack:interaction:*") == []


def test_an_action_that_is_not_autostacks_gets_a_message(client: TestClient) -> None:
    answer = click(client, payload("someone.else", "f1"))
    assert answer.status_code == 200
    assert answer.json()["title"] == "Not an autostack action"


def test_an_action_on_a_resource_it_does_not_work_on_gets_a_message(
    client: TestClient, redis_client: redis.Redis
) -> None:
    answer = click(client, payload("autostack.pause", "f1", "file")).json()
    assert answer == {"title": "Pause autostack here", "description": "Pause autostack here works on a folder."}
    assert Pauses(redis_client).ids() == set()


def test_stack_versions_here_answers_a_form_then_queues_the_work_once(
    client: TestClient, redis_client: redis.Redis
) -> None:
    form = click(client, payload("autostack.stack", "folder-1", "folder")).json()
    assert [field["name"] for field in form["fields"]] == ["where", "mode"]
    submitted = payload("autostack.stack", "folder-1", "folder", data={"where": "tree", "mode": "apply"})
    first = click(client, submitted).json()
    assert first["title"] == "Stack versions here: queued"
    assert click(client, submitted).json() == first  # Frame.io's retry: queued once
    [(name, args)] = jobs(redis_client)
    assert name == STACK_ACTION_JOB
    assert args[:5] == ("acc", "folder-1", True, True, "frameio-user:user-1")


def test_a_preview_no_worker_takes_in_time_answers_at_once_that_it_is_queued(
    client: TestClient, redis_client: redis.Redis
) -> None:
    click(client, payload("autostack.stack", "folder-1", "folder"))
    submitted = payload("autostack.stack", "folder-1", "folder", data={"where": "folder", "mode": "preview"})
    assert click(client, submitted).json()["title"] == "Stack versions here: preview queued"
    assert [args[3] for _, args in jobs(redis_client)] == [False]


def test_stack_versions_here_in_a_paused_folder_queues_nothing(client: TestClient, redis_client: redis.Redis) -> None:
    Pauses(redis_client).pause("folder-1", "someone", 0.0)
    click(client, payload("autostack.stack", "folder-1", "folder"))
    submitted = payload("autostack.stack", "folder-1", "folder", data={"where": "folder", "mode": "apply"})
    assert click(client, submitted).json()["title"] == "Nothing to stack"
    assert jobs(redis_client) == []


def test_undo_asks_to_confirm_and_queues_only_when_confirmed(client: TestClient, redis_client: redis.Redis) -> None:
    form = click(client, payload("autostack.undo", "f1", interaction="u1")).json()
    assert form["title"] == "Undo autostack?" and form["fields"][0]["type"] == "boolean"
    cancelled = click(client, payload("autostack.undo", "f1", interaction="u1", data={"confirm": False})).json()
    assert cancelled["title"] == "Undo autostack: cancelled"
    assert jobs(redis_client) == []
    click(client, payload("autostack.undo", "s1", "version_stack", interaction="u2"))
    confirmed = click(
        client, payload("autostack.undo", "s1", "version_stack", interaction="u2", data={"confirm": True})
    )
    assert confirmed.json()["title"] == "Undo autostack: queued"
    [(name, args)] = jobs(redis_client)
    assert (name, args[:4]) == (UNDO_ACTION_JOB, ("acc", "version_stack", "s1", "frameio-user:user-1"))


def test_a_form_submitted_for_an_interaction_never_clicked_has_expired(
    client: TestClient, redis_client: redis.Redis
) -> None:
    answer = click(client, payload("autostack.undo", "f1", interaction="nope", data={"confirm": True}))
    assert answer.status_code == 200
    assert answer.json()["title"] == "This action has expired"
    assert jobs(redis_client) == []


def test_a_form_submitted_by_another_user_or_on_another_item_is_foreign(
    client: TestClient, redis_client: redis.Redis
) -> None:
    click(client, payload("autostack.undo", "f1", interaction="u1", user="alice"))
    by_bob = click(client, payload("autostack.undo", "f1", interaction="u1", user="bob", data={"confirm": True}))
    other = click(client, payload("autostack.undo", "f2", interaction="u1", user="alice", data={"confirm": True}))
    assert by_bob.json()["title"] == other.json()["title"] == "This is not your action"
    assert jobs(redis_client) == []


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", payload("autostack.why", "f1", "project"), json.dumps({"type": "autostack.why"}).encode()],
    ids=["not-json", "not-object", "bad-resource-type", "no-ids"],
)
def test_a_malformed_payload_is_refused_400(client: TestClient, body: bytes) -> None:
    assert click(client, body).status_code == 400


def test_with_redis_down_an_action_gets_a_message_not_a_500(settings: Settings) -> None:
    dead = load_settings(
        {**{"REDIS_URL": "redis://127.0.0.1:1/0"}, "FRAMEIO_WEBHOOK_SECRETS": "x"},
        **{"frameio_action_secrets": settings.frameio_action_secrets},
    )
    with TestClient(create_app(dead)) as dead_client:
        answer = click(dead_client, payload("autostack.pause", "folder-1", "folder"))
    assert answer.status_code == 200
    assert answer.json()["title"] == "autostack is unavailable"


def test_a_body_over_the_cap_is_refused_413(client: TestClient) -> None:
    body = b" " * (300 * 1024)
    assert click(client, body).status_code == 413


def test_the_answers_are_counted_by_outcome_in_the_metrics(client: TestClient) -> None:
    click(client, payload("autostack.why", "f1"))
    click(client, payload("someone.else", "f1"))
    click(client, payload("autostack.why", "f1"), secret="wrong-secret")
    app = client.app
    assert isinstance(app, Starlette)
    text = render_text(app.state.webhooks, app.state.actions.outcomes)
    for outcome in ("answered", "not_ours", "bad_signature"):
        assert f'autostack_actions_total{{outcome="{outcome}"}} 1.0' in text.splitlines()
