"""Delete folder (with everything in it), show project and show workspace."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from sandbox.app import create_app
from sandbox.config import SandboxConfig
from tests.inprocess_sandbox import InProcessSandbox


@pytest.fixture
def inproc() -> Iterator[InProcessSandbox]:
    """The sandbox in-process (this directory's ``sandbox`` fixture is a real server)."""
    with TestClient(create_app(SandboxConfig(seed=7, transcode_delay_s=0.0, rate_limits=False))) as http:
        yield InProcessSandbox(http, http.get("/_sandbox/state").json())


def test_deleting_a_folder_takes_its_files_stacks_and_sub_folders(inproc: InProcessSandbox) -> None:
    folder = inproc.folder("scratch")
    kept = inproc.upload(inproc.state["root_folder_id"], "kept.mov")
    files = [inproc.upload(folder, f"a_v{n:03}.mov") for n in (1, 2, 3)]
    client = inproc.client()
    stack = client.create_stack(inproc.account, folder, files[:2])
    a = f"/v4/accounts/{inproc.account}"
    sub = inproc.http.post(f"{a}/folders/{folder}/folders", json={"data": {"name": "sub"}}, headers=inproc.auth())
    assert sub.status_code == 201

    answer = inproc.http.delete(f"{a}/folders/{folder}", headers=inproc.auth())

    assert answer.status_code == 204
    for path in (f"folders/{folder}", f"folders/{sub.json()['data']['id']}", f"version_stacks/{stack.id}"):
        assert inproc.http.get(f"{a}/{path}", headers=inproc.auth()).status_code == 404
    for file_id in files:
        assert inproc.http.get(f"{a}/files/{file_id}", headers=inproc.auth()).status_code == 404
    assert inproc.http.get(f"{a}/files/{kept}", headers=inproc.auth()).status_code == 200
    assert inproc.calls("delete_folder") == 1


def test_a_root_folder_cannot_be_deleted_and_an_unknown_one_is_404(inproc: InProcessSandbox) -> None:
    a = f"/v4/accounts/{inproc.account}"
    root = inproc.http.delete(f"{a}/folders/{inproc.state['root_folder_id']}", headers=inproc.auth())
    unknown = inproc.http.delete(f"{a}/folders/00000000-0000-4000-8000-000000000000", headers=inproc.auth())
    assert (root.status_code, unknown.status_code) == (422, 404)


def test_show_project_names_its_root_folder_and_workspace(inproc: InProcessSandbox) -> None:
    a = f"/v4/accounts/{inproc.account}"
    project = inproc.http.get(f"{a}/projects/{inproc.state['project_id']}", headers=inproc.auth()).json()["data"]
    workspace = inproc.http.get(f"{a}/workspaces/{inproc.state['workspace_id']}", headers=inproc.auth())
    assert project["root_folder_id"] == inproc.state["root_folder_id"]
    assert project["workspace_id"] == inproc.state["workspace_id"]
    assert workspace.status_code == 200
    for path in ("projects", "workspaces"):
        missing = inproc.http.get(f"{a}/{path}/00000000-0000-4000-8000-000000000000", headers=inproc.auth())
        assert missing.status_code == 404


def test_the_accounts_list_holds_the_seeded_account(inproc: InProcessSandbox) -> None:
    answer = inproc.http.get("/v4/accounts", headers=inproc.auth())
    assert [account["id"] for account in answer.json()["data"]] == [inproc.account]
