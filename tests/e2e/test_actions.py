"""Frame.io's menu, end to end: a person clicks autostack's Custom Actions in the sandbox, which
signs and posts them to the real web tier, with RQ workers doing the queued work."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from rq import Queue

from service.launcher import LocalStack
from service.processes import autostack_argv
from tests.service.test_webhooks import signed_headers
from workers import decisions
from workers.stacking.pauses import Pauses

Shown = dict[str, Any]


def shown(record: dict[str, Any]) -> list[Shown | None]:
    """What the person saw, screen after screen."""
    return [screen["shown"] for screen in record["screens"]]


def titles(record: dict[str, Any]) -> list[str]:
    return [screen["title"] for screen in shown(record) if screen]


def paused_ids(local_stack: LocalStack) -> set[str]:
    client = local_stack.redis()
    try:
        return Pauses(client).ids()
    finally:
        client.close()


def last(record: dict[str, Any]) -> Shown:
    final = shown(record)[-1]
    assert final is not None, f"the person was shown nothing: {record}"
    return final


def stacks(tree: dict[str, Any]) -> list[list[str]]:
    return [[child["name"] for child in stack["children"]] for stack in tree["stacks"]]


def loose(tree: dict[str, Any]) -> list[str]:
    return sorted(file["name"] for file in tree["files"])


def stacked(local_stack: LocalStack, folder: str, wait_decided: Callable[..., None], prefix: str) -> list[str]:
    ids = [local_stack.upload(folder, f"{prefix}_v00{n}.mov")["id"] for n in (1, 2, 3)]
    wait_decided(*ids)
    assert stacks(local_stack.tree(folder)) == [[f"{prefix}_v00{n}.mov" for n in (3, 2, 1)]]
    return ids


@pytest.fixture
def paused_cleanup(local_stack: LocalStack) -> Iterator[None]:
    yield
    client = local_stack.redis()
    try:
        for folder_id in Pauses(client).ids():
            Pauses(client).resume(folder_id)
    finally:
        client.close()


def test_why_on_a_file_and_on_its_stack_shows_autostacks_decisions(
    local_stack: LocalStack, folder: str, wait_decided: Callable[..., None]
) -> None:
    ids = stacked(local_stack, folder, wait_decided, "why010_comp")
    on_file = last(local_stack.click("autostack.why", ids[2], "file"))
    assert on_file["title"] == "Why? why010_comp_v003.mov"
    assert "added" in on_file["description"] or "stacked" in on_file["description"]
    stack_id = local_stack.tree(folder)["stacks"][0]["id"]
    on_stack = last(local_stack.click("autostack.why", stack_id, "version_stack"))
    assert on_stack["title"].startswith("Why? why010_comp_v00")
    on_folder = last(local_stack.click("autostack.why", folder, "folder"))
    assert on_folder["description"] == "Why? works on a file or version stack."


def test_pause_here_leaves_the_folder_and_below_alone_and_stack_versions_here_catches_up_after_resume(
    local_stack: LocalStack, folder: str, wait_decided: Callable[..., None], paused_cleanup: None
) -> None:
    sub = local_stack.create_folder("below", folder)
    assert last(local_stack.click("autostack.pause", folder, "folder"))["title"] == "Paused"
    top = [local_stack.upload(folder, f"pz010_v00{n}.mov")["id"] for n in (1, 2)]
    below = [local_stack.upload(sub, f"pz020_v00{n}.mov")["id"] for n in (1, 2)]
    wait_decided(*top, *below)
    assert stacks(local_stack.tree(folder)) == [] and stacks(local_stack.tree(sub)) == []
    client = local_stack.redis()
    try:
        assert {d.code for file_id in top + below for d in decisions.for_file(client, file_id)} >= {"paused"}
    finally:
        client.close()
    form = {"where": "tree", "mode": "preview"}
    refused = last(local_stack.click("autostack.stack", folder, "folder", values=[form]))
    assert refused["title"] == "Nothing to stack"

    assert last(local_stack.click("autostack.resume", folder, "folder"))["title"] == "Resumed"
    preview = local_stack.click("autostack.stack", folder, "folder", values=[form])
    assert titles(preview) == [
        "Stack versions here",
        "Stack versions here: preview",
    ]
    assert last(preview)["description"].startswith("2 group(s): 2 stack(s) to create, 0 to add to, 0 skipped.")
    applied = local_stack.click("autostack.stack", folder, "folder", values=[{"where": "tree", "mode": "apply"}])
    assert last(applied)["title"] == "Stack versions here: queued"
    local_stack.wait_idle(60)
    assert stacks(local_stack.tree(folder)) == [["pz010_v002.mov", "pz010_v001.mov"]]
    assert stacks(local_stack.tree(sub)) == [["pz020_v002.mov", "pz020_v001.mov"]]
    for file_id in below:  # every file of the group, not only the one the plan named
        why = last(local_stack.click("autostack.why", file_id, "file"))
        assert "stacked" in why["description"].splitlines()[0]


def test_undo_through_the_action_restores_what_the_cli_undo_restores(
    local_stack: LocalStack, wait_decided: Callable[..., None]
) -> None:
    by_action, by_cli = local_stack.create_folder("undo-action"), local_stack.create_folder("undo-cli")
    action_ids = stacked(local_stack, by_action, wait_decided, "un010_comp")
    cli_ids = stacked(local_stack, by_cli, wait_decided, "un010_comp")
    record = local_stack.click("autostack.undo", action_ids[2], "file", values=[{"confirm": True}], user_id="u-42")
    assert titles(record)[0] == "Undo autostack?"
    env = local_stack.env()
    argv = autostack_argv("undo", "--file", cli_ids[2], "--account", local_stack.state["account_id"])
    subprocess.run(argv, env=env, check=True, capture_output=True, timeout=120)
    local_stack.wait_idle(60)
    action_tree, cli_tree = local_stack.tree(by_action), local_stack.tree(by_cli)
    assert (stacks(action_tree), loose(action_tree)) == (stacks(cli_tree), loose(cli_tree))
    assert loose(action_tree) == ["un010_comp_v003.mov"]
    client = local_stack.redis()
    try:
        [undone] = [d for d in decisions.for_file(client, action_ids[2]) if d.outcome == "undone"]
        assert "asked by frameio-user:u-42" in undone.reason
    finally:
        client.close()


def test_undo_on_a_stack_empties_it_once_confirmed_and_not_before(
    local_stack: LocalStack, folder: str, wait_decided: Callable[..., None]
) -> None:
    stacked(local_stack, folder, wait_decided, "un020_comp")
    stack_id = local_stack.tree(folder)["stacks"][0]["id"]
    cancelled = local_stack.click("autostack.undo", stack_id, "version_stack", values=[{"confirm": False}])
    assert last(cancelled)["title"] == "Undo autostack: cancelled"
    assert len(stacks(local_stack.tree(folder))) == 1
    local_stack.click("autostack.undo", stack_id, "version_stack", values=[{"confirm": True}])
    local_stack.wait_idle(60)
    assert loose(local_stack.tree(folder)) == [f"un020_comp_v00{n}.mov" for n in (1, 2, 3)]


def test_a_repeated_interaction_does_the_work_once_and_shows_the_same_answer(
    local_stack: LocalStack, folder: str, paused_cleanup: None
) -> None:
    first = local_stack.click("autostack.pause", folder, "folder", interaction_id="same-click-1")
    again = local_stack.click("autostack.pause", folder, "folder", interaction_id="same-click-1")
    assert last(first) == last(again) == {**last(first), "title": "Paused"}
    fresh = local_stack.click("autostack.pause", folder, "folder")
    assert last(fresh)["title"] == "Already paused"


def test_an_interaction_taken_over_by_another_user_is_foreign_and_does_nothing(
    local_stack: LocalStack, folder: str, wait_decided: Callable[..., None]
) -> None:
    ids = stacked(local_stack, folder, wait_decided, "fo010_comp")
    local_stack.click("autostack.undo", ids[0], "file", interaction_id="taken-1", user_id="alice")
    record = local_stack.click(
        "autostack.undo", ids[0], "file", interaction_id="taken-1", user_id="bob", values=[{"confirm": True}]
    )
    assert titles(record) == ["This is not your action"]
    local_stack.wait_idle(60)
    assert len(stacks(local_stack.tree(folder))) == 1


def test_an_action_signed_with_a_secret_not_ours_is_refused_every_attempt_and_does_nothing(
    local_stack: LocalStack, folder: str, paused_cleanup: None
) -> None:
    path = f"/v4/accounts/{local_stack.state['account_id']}/workspaces/{local_stack.state['workspace_id']}/actions"
    fields = {"name": "Impostor", "description": "x", "event": "autostack.pause"}
    payload = {"data": {**fields, "url": f"{local_stack.service_url}/actions/frameio"}}
    impostor = local_stack.api("POST", path, json=payload, headers={"api-version": "experimental"})["data"]
    url = f"{local_stack.sandbox_url}/_sandbox/actions/{impostor['id']}/click"
    record = httpx.post(url, json={"resource_id": folder, "resource_type": "folder"}, timeout=120).json()
    [screen] = record["screens"]
    assert screen["shown"] is None and {attempt["status"] for attempt in screen["attempts"]} == {401}
    assert folder not in paused_ids(local_stack)


def test_a_signed_replay_is_refused_and_an_action_not_ours_gets_a_message(
    local_stack: LocalStack, folder: str, paused_cleanup: None
) -> None:
    body = json.dumps(
        {
            "account_id": local_stack.state["account_id"],
            "interaction_id": "replayed-1",
            "resource": {"id": folder, "type": "folder"},
            "type": "autostack.pause",
            "user": {"id": "u"},
        }
    ).encode()
    url = f"{local_stack.service_url}/actions/frameio"
    secret = local_stack.action_secrets[0]
    stale = httpx.post(url, content=body, headers=signed_headers(body, secret, int(time.time()) - 3600))
    assert stale.status_code == 401
    other = body.replace(b"autostack.pause", b"someone.else")
    answer = httpx.post(url, content=other, headers=signed_headers(other, secret))
    assert answer.status_code == 200 and answer.json()["title"] == "Not an autostack action"
    assert folder not in paused_ids(local_stack)


def test_under_a_slow_frameio_and_a_busy_queue_the_preview_still_answers_in_one_attempt_within_the_limit(
    local_stack: LocalStack, folder: str
) -> None:
    local_stack.upload(folder, "slow010_v001.mov")
    httpx.patch(f"{local_stack.sandbox_url}/_sandbox/config", json={"latency_s": 8.0}, timeout=10).raise_for_status()
    try:
        record = local_stack.click("autostack.stack", folder, "folder", values=[{"where": "folder", "mode": "preview"}])
    finally:
        httpx.patch(f"{local_stack.sandbox_url}/_sandbox/config", json={"latency_s": 0.0}, timeout=10)
    form, answer = record["screens"]
    assert "fields" in form["shown"]
    assert [attempt["status"] for attempt in answer["attempts"]] == [200]
    assert answer["shown"]["title"] == "Stack versions here: preview queued"
    local_stack.wait_idle(120)


def test_frameio_retrying_a_step_it_gave_up_waiting_for_gets_the_first_answer_and_the_work_is_queued_once(
    local_stack: LocalStack, folder: str
) -> None:
    local_stack.upload(folder, "rt010_v001.mov")
    local_stack.upload(folder, "rt010_v002.mov")
    local_stack.wait_idle(60, expected_deliveries=2 * len(local_stack.uploaded))
    config = f"{local_stack.sandbox_url}/_sandbox/config"
    knobs = {"latency_s": 2.5, "action_timeout_s": 1.0, "action_retry_s": 1.0}
    httpx.patch(config, json=knobs, timeout=10).raise_for_status()
    try:
        record = local_stack.click("autostack.stack", folder, "folder", values=[{"where": "folder", "mode": "preview"}])
    finally:
        httpx.patch(config, json={"latency_s": 0.0, "action_timeout_s": 10.0}, timeout=10).raise_for_status()
    local_stack.wait_idle(60)
    attempts = record["screens"][1]["attempts"]
    assert attempts[0]["error"] == "ReadTimeout" and attempts[-1]["status"] == 200
    assert last(record)["title"] == "Stack versions here: preview"
    client = local_stack.redis()
    try:
        queue = Queue(local_stack.queue_name, connection=client)
        done = queue.finished_job_registry.get_job_ids() + queue.failed_job_registry.get_job_ids()
    finally:
        client.close()
    assert len([job_id for job_id in done if record["interaction_id"] in job_id]) == 1
