"""More accounts in one sandbox: each its own workspace, project, webhooks, rate-limit buckets and,
when asked, its own latency; the API user reaches all of them with its one token."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sandbox.config import ConfigError, SandboxConfig, apply_updates
from service.processes import wait_until
from tests.sandbox.conftest import Receiver, Sandbox


def add_account(sandbox: Sandbox) -> dict[str, str]:
    response = sandbox.http.post("/_sandbox/accounts")
    assert response.status_code == 201, response.text
    found: dict[str, str] = response.json()
    return found


def call(sandbox: Sandbox, account: dict[str, str], method: str, path: str, **kwargs: Any) -> Any:
    url = f"/v4/accounts/{account['account_id']}{path}"
    return sandbox.http.request(method, url, headers=sandbox.auth, **kwargs)


def test_an_added_account_is_listed_and_its_uploads_are_delivered_to_its_own_webhooks(
    sandbox: Sandbox, receiver: Receiver
) -> None:
    other = add_account(sandbox)
    listed = [item["id"] for item in sandbox.http.get("/v4/accounts", headers=sandbox.auth).json()["data"]]
    assert listed == [sandbox.account, other["account_id"]]
    body = {"data": {"name": "hook", "url": receiver.url, "events": ["file.upload.completed"]}}
    assert call(sandbox, other, "POST", f"/workspaces/{other['workspace_id']}/webhooks", json=body).status_code == 201
    sandbox.upload("main_v1.mov")  # the first account's upload: no webhook of its workspace
    file_id = sandbox.upload("other_v1.mov", folder_id=other["root_folder_id"])["id"]
    wait_until(lambda: receiver.types_for(file_id) == ["file.upload.completed"], 10, what="the delivery")
    (request,) = receiver.requests
    assert request.json()["account"]["id"] == other["account_id"]


def test_each_account_has_its_own_rate_limit_buckets(sandbox: Sandbox) -> None:
    other = add_account(sandbox)
    path = f"/folders/{sandbox.root}/folders"
    answers = [sandbox.api("POST", path, json={"data": {"name": f"f{n}"}}).status_code for n in range(4)]
    assert answers == [201, 201, 201, 429]  # create_folder: 3 a second
    created = call(sandbox, other, "POST", f"/folders/{other['root_folder_id']}/folders", json={"data": {"name": "x"}})
    assert created.status_code == 201


def test_an_unknown_account_is_not_found(sandbox: Sandbox) -> None:
    unknown = {"account_id": "00000000-0000-4000-8000-000000000000"}
    assert call(sandbox, unknown, "GET", f"/folders/{sandbox.root}/children").status_code == 404


def test_one_account_can_be_made_slow_without_slowing_the_others(sandbox: Sandbox) -> None:
    other = add_account(sandbox)
    sandbox.configure(account_latency_s=[f"{other['account_id']}=30"])
    assert sandbox.api("GET", f"/folders/{sandbox.root}/children", timeout=10).status_code == 200
    with pytest.raises(httpx.ReadTimeout):  # held for 30 s: the client gives up first
        call(sandbox, other, "GET", f"/folders/{other['root_folder_id']}/children", timeout=1)
    assert SandboxConfig(account_latency_s=["a=0.25"]).latency_of("a") == 0.25
    assert SandboxConfig(account_latency_s=["a=0.25"]).latency_of("b") == 0.0


@pytest.mark.parametrize("entry", ["no-equals", "=1", "acct=slow", "acct=-1"])
def test_a_malformed_account_latency_is_refused(entry: str) -> None:
    with pytest.raises(ConfigError, match="account_latency_s"):
        apply_updates(SandboxConfig(), {"account_latency_s": [entry]})
