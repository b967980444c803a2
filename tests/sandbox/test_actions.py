"""Custom Actions in the sandbox: the experimental endpoints, and a click run as Frame.io runs it
(signed payload, 10 s answer limit, retries, forms followed under one interaction)."""

from __future__ import annotations

import json
from collections.abc import Callable

from tests.sandbox.conftest import Receiver, Sandbox, verify_signature

EXPERIMENTAL = {"api-version": "experimental"}
FORM = {"title": "Pick", "description": "one", "fields": [{"type": "text", "name": "x", "label": "X"}]}
DONE = {"title": "Done", "description": "it is done"}


def test_actions_need_the_experimental_header_and_show_their_secret_only_when_created(sandbox: Sandbox) -> None:
    path = f"/workspaces/{sandbox.state['workspace_id']}/actions"
    body = {"data": {"name": "Why?", "description": "d", "event": "a.why", "url": "http://127.0.0.1:1/x"}}
    assert sandbox.api("POST", path, json=body).status_code == 404
    created = sandbox.api("POST", path, json=body, headers=EXPERIMENTAL).json()["data"]
    assert len(created["secret"]) == 64 and created["event"] == "a.why"
    listed = sandbox.api("GET", path, headers=EXPERIMENTAL).json()["data"]
    assert [item["id"] for item in listed] == [created["id"]] and "secret" not in listed[0]
    one = f"/actions/{created['id']}"
    changed = sandbox.api("PATCH", one, json={"data": {"url": "http://127.0.0.1:2/y"}}, headers=EXPERIMENTAL)
    assert changed.json()["data"]["url"] == "http://127.0.0.1:2/y"
    assert sandbox.api("DELETE", one, headers=EXPERIMENTAL).status_code == 204
    assert sandbox.api("GET", one, headers=EXPERIMENTAL).status_code == 404


def test_a_click_posts_the_documented_payload_signed_with_the_actions_secret(
    sandbox: Sandbox, receiver: Receiver
) -> None:
    receiver.reply = lambda request, number: json.dumps(DONE).encode()
    action = sandbox.action(receiver.url, event="a.why")
    file_id = sandbox.upload("a_v001.mov")["id"]
    record = sandbox.click(action["id"], file_id, "file")
    assert [screen["shown"] for screen in record["screens"]] == [DONE]
    [request] = receiver.requests
    assert verify_signature(action["secret"], request.headers, request.body)
    body = request.json()
    assert set(body) == {
        "account_id",
        "action_id",
        "interaction_id",
        "project",
        "resource",
        "type",
        "user",
        "workspace",
    }
    assert body["resource"] == {"id": file_id, "type": "file"} and body["type"] == "a.why"
    assert body["interaction_id"] == record["interaction_id"]


def test_a_form_is_followed_with_the_given_values_under_the_same_interaction(
    sandbox: Sandbox, receiver: Receiver
) -> None:
    receiver.reply = lambda request, number: json.dumps(FORM if number == 1 else DONE).encode()
    action = sandbox.action(receiver.url)
    record = sandbox.click(action["id"], sandbox.folder("F"), "folder", values=[{"x": "42"}])
    assert [screen["shown"] for screen in record["screens"]] == [FORM, DONE]
    first, second = (request.json() for request in receiver.requests)
    assert "data" not in first and second["data"] == {"x": "42"}
    assert first["interaction_id"] == second["interaction_id"]
    assert sandbox.http.get("/_sandbox/clicks").json()["clicks"] == [record]


def test_a_late_or_failed_answer_is_tried_again_up_to_five_times(
    make_sandbox: Callable[..., Sandbox], receiver: Receiver
) -> None:
    sandbox = make_sandbox(action_timeout_s=0.3, action_retry_s=0.0)
    receiver.answer = lambda request, number: (500, 0.0) if number == 1 else (200, 1.0 if number == 2 else 0.0)
    receiver.reply = lambda request, number: json.dumps(DONE).encode()
    action = sandbox.action(receiver.url)
    [screen] = sandbox.click(action["id"], sandbox.folder("F"), "folder")["screens"]
    assert [(attempt["status"], attempt["error"]) for attempt in screen["attempts"]] == [
        (500, None),
        (None, "ReadTimeout"),
        (200, None),
    ]
    assert screen["shown"] == DONE
    assert len({request.json()["interaction_id"] for request in receiver.requests}) == 1


def test_after_five_failed_attempts_the_user_is_shown_nothing(
    make_sandbox: Callable[..., Sandbox], receiver: Receiver
) -> None:
    sandbox = make_sandbox(action_retry_s=0.0)
    receiver.answer = lambda request, number: (401, 0.0)
    action = sandbox.action(receiver.url)
    [screen] = sandbox.click(action["id"], sandbox.folder("F"), "folder")["screens"]
    assert len(screen["attempts"]) == 5 and screen["shown"] is None
