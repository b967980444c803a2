"""More accounts in one sandbox: each its own workspace, project, webhooks, rate-limit buckets and,
when asked, its own latency; by default each its own API user and token, which no other account
accepts (403), or the seeded API user's token when asked for a shared one."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sandbox.config import ConfigError, SandboxConfig, apply_updates
from service.processes import wait_until
from tests.sandbox.conftest import Receiver, Sandbox


def add_account(sandbox: Sandbox, **body: Any) -> dict[str, str]:
    response = sandbox.http.post("/_sandbox/accounts", json=body)
    assert response.status_code == 201, response.text
    found: dict[str, str] = response.json()
    return found


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def call(sandbox: Sandbox, account: dict[str, str], method: str, path: str, **kwargs: Any) -> Any:
    """A call in ``account`` with the token the sandbox answered for it."""
    url = f"/v4/accounts/{account['account_id']}{path}"
    return sandbox.http.request(method, url, headers=bearer(account["token"]), **kwargs)


def listed(sandbox: Sandbox, token: str) -> list[str]:
    return [item["id"] for item in sandbox.http.get("/v4/accounts", headers=bearer(token)).json()["data"]]


def test_an_added_account_has_its_own_token_which_reaches_it_alone(sandbox: Sandbox) -> None:
    other = add_account(sandbox)
    assert other["token"] not in ("", sandbox.state["token"])
    assert listed(sandbox, other["token"]) == [other["account_id"]]
    assert listed(sandbox, sandbox.state["token"]) == [sandbox.account]
    children = f"/folders/{other['root_folder_id']}/children"
    assert call(sandbox, other, "GET", children).status_code == 200
    me = sandbox.http.get("/v4/me", headers=bearer(other["token"])).json()["data"]
    assert me["id"] != sandbox.state["user_id"]


def test_a_token_outside_its_account_gets_403_in_frameios_error_shape(sandbox: Sandbox) -> None:
    other = add_account(sandbox)
    seeded_there = {**other, "token": sandbox.state["token"]}
    refused = call(sandbox, seeded_there, "GET", f"/folders/{other['root_folder_id']}/children")
    assert refused.status_code == 403
    (error,) = refused.json()["errors"]
    assert error["title"] == "Forbidden"
    own_here = {"account_id": sandbox.account, "token": other["token"]}
    assert call(sandbox, own_here, "GET", f"/folders/{sandbox.root}/children").status_code == 403
    assert sandbox.api("GET", f"/folders/{sandbox.root}/children").status_code == 200  # its own still works


def test_a_shared_token_account_is_asked_for_by_body_or_knob(sandbox: Sandbox) -> None:
    by_body = add_account(sandbox, own_token=False)
    sandbox.configure(account_tokens="shared")
    by_knob = add_account(sandbox)
    own_anyway = add_account(sandbox, own_token=True)
    assert by_body["token"] == by_knob["token"] == sandbox.state["token"] != own_anyway["token"]
    assert listed(sandbox, sandbox.state["token"]) == [
        sandbox.account,
        *sorted([by_body["account_id"], by_knob["account_id"]]),
    ]
    for shared in (by_body, by_knob):
        assert call(sandbox, shared, "GET", f"/folders/{shared['root_folder_id']}/children").status_code == 200
    assert sandbox.http.post("/_sandbox/accounts", json={"own_token": "yes"}).status_code == 422


def test_an_added_accounts_uploads_are_delivered_to_its_own_webhooks(sandbox: Sandbox, receiver: Receiver) -> None:
    other = add_account(sandbox)
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
    unknown = {"account_id": "00000000-0000-4000-8000-000000000000", "token": sandbox.state["token"]}
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
