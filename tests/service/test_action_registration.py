"""``autostack actions register`` on the sandbox: creates autostack's actions once, prints their
secrets once, and a second run updates them in place."""

from __future__ import annotations

import argparse
import io
import re

from service.action_menu import ACTIONS
from service.action_registration import register_actions_main
from tests.inprocess_sandbox import InProcessSandbox
from workers.runtime import Runtime
from workers.settings import load_settings


def register(sandbox: InProcessSandbox, redis_url: str, url: str) -> str:
    settings = load_settings({"REDIS_URL": redis_url, "FRAMEIO_TOKEN": sandbox.state["token"]})
    runtime = Runtime(settings, transport=sandbox.transport(), foreground=True)
    args = argparse.Namespace(workspace=sandbox.state["workspace_id"], url=url, account=sandbox.account)
    out = io.StringIO()
    assert register_actions_main(args, settings, out, runtime) == 0
    return out.getvalue()


def listed(sandbox: InProcessSandbox) -> list[dict[str, str]]:
    path = f"/v4/accounts/{sandbox.account}/workspaces/{sandbox.state['workspace_id']}/actions"
    headers = {**sandbox.auth(), "api-version": "experimental"}
    items: list[dict[str, str]] = sandbox.http.get(path, headers=headers).json()["data"]
    return items


def test_register_creates_every_action_and_prints_their_secrets_once(sandbox: InProcessSandbox, redis_url: str) -> None:
    text = register(sandbox, redis_url, "https://autostack.example/actions/frameio")
    actions = listed(sandbox)
    assert sorted(item["event"] for item in actions) == sorted(spec.event for spec in ACTIONS)
    assert {item["url"] for item in actions} == {"https://autostack.example/actions/frameio"}
    printed = re.search(r"^    (\S+)$", text, re.MULTILINE)
    assert printed is not None and len(printed[1].split(",")) == len(ACTIONS)
    assert "FRAMEIO_ACTION_SECRETS" in text


def test_a_second_run_updates_the_actions_in_place_and_prints_no_secret(
    sandbox: InProcessSandbox, redis_url: str
) -> None:
    register(sandbox, redis_url, "https://old.example/actions/frameio")
    before = {item["event"]: item["id"] for item in listed(sandbox)}
    text = register(sandbox, redis_url, "https://new.example/actions/frameio")
    after = listed(sandbox)
    assert {item["event"]: item["id"] for item in after} == before
    assert {item["url"] for item in after} == {"https://new.example/actions/frameio"}
    assert "secret is unchanged" in text and "FRAMEIO_ACTION_SECRETS" not in text
