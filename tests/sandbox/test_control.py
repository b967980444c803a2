"""The /_sandbox control endpoints, auth and account checks, latency, tokens and seeds."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import pytest

from sandbox.app import create_app
from sandbox.config import SandboxConfig
from tests.sandbox.conftest import Sandbox


def test_state_holds_seeded_uuids_and_the_token(sandbox: Sandbox) -> None:
    state = sandbox.state
    for key in ("account_id", "workspace_id", "project_id", "root_folder_id"):
        assert uuid.UUID(state[key]).version == 4
    assert state["token"] == "sandbox-token"
    folder = sandbox.api("GET", f"/folders/{state['root_folder_id']}").json()["data"]
    assert folder["parent_id"] is None and folder["project_id"] == state["project_id"]


def test_seed_knob_makes_ids_repeatable() -> None:
    def ids(seed: int | None) -> dict[str, str]:
        state: dict[str, str] = create_app(SandboxConfig(seed=seed)).state.sandbox.state_view()
        return state

    assert ids(1) == ids(1)
    assert ids(1)["account_id"] != ids(2)["account_id"]
    assert ids(None)["account_id"] != ids(None)["account_id"]


def test_tree_shows_folders_stacks_top_first_and_files(sandbox: Sandbox) -> None:
    outer = sandbox.folder("outer")
    inner = sandbox.folder("inner", outer)
    ids = [sandbox.upload(f"t_v{n}.mov", inner)["id"] for n in (1, 2)]
    stack = sandbox.stack(inner, ids)
    loose = sandbox.upload("loose.mov", outer)
    tree = sandbox.tree()
    (outer_tree,) = tree["folders"]
    assert outer_tree["id"] == outer and outer_tree["files"] == [{"id": loose["id"], "name": "loose.mov"}]
    (inner_tree,) = outer_tree["folders"]
    assert inner_tree["files"] == [] and inner_tree["stacks"][0]["id"] == stack["id"]
    assert [child["id"] for child in inner_tree["stacks"][0]["children"]] == ids[::-1]


def test_calls_are_counted_by_endpoint_and_status_and_can_be_reset(sandbox: Sandbox) -> None:
    sandbox.api("GET", f"/folders/{sandbox.root}")
    sandbox.api("GET", "/files/00000000-0000-4000-8000-000000000000")
    assert sandbox.calls() == {("show_folder", 200): 1, ("show_file", 404): 1}
    assert sandbox.http.post("/_sandbox/calls/reset").status_code == 204
    assert sandbox.calls() == {}


def test_config_patch_validates_and_applies(sandbox: Sandbox) -> None:
    answer = sandbox.http.patch("/_sandbox/config", json={"move_lands": "top", "latency_s": 0})
    assert answer.status_code == 200 and answer.json()["move_lands"] == "top"
    assert sandbox.http.get("/_sandbox/config").json()["move_lands"] == "top"
    for bad in (
        {"move_lands": "middle"},
        {"no_such_knob": 1},
        {"duplicate_delivery_rate": 1.5},
        {"rate_limits": "yes"},
    ):
        response = sandbox.http.patch("/_sandbox/config", json=bad)
        assert response.status_code == 422 and response.json()["errors"][0]["detail"], bad
    assert sandbox.http.get("/_sandbox/config").json()["move_lands"] == "top"


def test_latency_knob(sandbox: Sandbox) -> None:
    started = time.monotonic()
    sandbox.http.get("/v4/me", headers=sandbox.auth)
    assert time.monotonic() - started < 0.3
    sandbox.configure(latency_s=0.3)
    started = time.monotonic()
    assert sandbox.http.get("/v4/me", headers=sandbox.auth).status_code == 200
    assert time.monotonic() - started >= 0.3


def test_registered_tokens_are_users_of_their_own(sandbox: Sandbox) -> None:
    assert sandbox.http.get("/v4/me", headers={"Authorization": "Bearer late"}).status_code == 401
    added = sandbox.http.post("/_sandbox/tokens", json={"token": "late", "name": "Late User"}).json()
    me = sandbox.http.get("/v4/me", headers={"Authorization": "Bearer late"}).json()["data"]
    assert me["id"] == added["user_id"] != sandbox.state["user_id"] and me["name"] == "Late User"


def test_token_knob_replaces_the_accepted_token(sandbox: Sandbox) -> None:
    sandbox.configure(token="rotated")
    assert sandbox.http.get("/v4/me", headers=sandbox.auth).status_code == 401
    assert sandbox.http.get("/v4/me", headers={"Authorization": "Bearer rotated"}).status_code == 200


@pytest.mark.parametrize("header", ["", "Bearer", "Basic sandbox-token", "Bearer sandbox-token-x"])
def test_bad_authorization_headers_are_401(sandbox: Sandbox, header: str) -> None:
    response = sandbox.http.get(
        f"/v4/accounts/{sandbox.account}/folders/{sandbox.root}", headers={"Authorization": header}
    )
    assert response.status_code == 401 and response.json()["errors"][0]["title"] == "Unauthorized"


def test_other_accounts_workspaces_and_routes_are_404(sandbox: Sandbox) -> None:
    stranger = "00000000-0000-4000-8000-000000000000"
    response = sandbox.http.get(f"/v4/accounts/{stranger}/folders/{sandbox.root}", headers=sandbox.auth)
    assert response.status_code == 404
    assert sandbox.api("GET", f"/workspaces/{stranger}/webhooks").status_code == 404
    missing = sandbox.http.get("/v4/nothing/here", headers=sandbox.auth)
    assert missing.status_code == 404 and missing.json()["errors"][0]["detail"]


def test_other_project_exists_for_filtering_tests(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox()
    other_root = sandbox.state["other_root_folder_id"]
    file_id = sandbox.upload("elsewhere.mov", other_root)["id"]
    shown = sandbox.api("GET", f"/files/{file_id}").json()["data"]
    assert shown["project_id"] == sandbox.state["other_project_id"] != sandbox.state["project_id"]
