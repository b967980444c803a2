"""Listings: page sizes, cursors, links.next, total_count, type filters, sorts, includes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.sandbox.conftest import Sandbox


def _children(sandbox: Sandbox, folder: str, **params: Any) -> Any:
    return sandbox.api("GET", f"/folders/{folder}/children", params=params)


@pytest.mark.parametrize("size", ["0", "101", "x", "-1"])
def test_page_size_out_of_range_is_422(sandbox: Sandbox, size: str) -> None:
    response = _children(sandbox, sandbox.root, page_size=size)
    assert response.status_code == 422 and response.json()["errors"][0]["source"]["pointer"] == "/page_size"


def test_default_page_size_is_50_and_100_is_allowed(sandbox: Sandbox) -> None:
    folder = sandbox.folder("big")
    for number in range(51):
        sandbox.upload(f"{number:03d}.wav", folder)
    assert len(_children(sandbox, folder).json()["data"]) == 50
    assert len(_children(sandbox, folder, page_size=100).json()["data"]) == 51


def test_a_malformed_cursor_is_400(sandbox: Sandbox) -> None:
    assert _children(sandbox, sandbox.root, after="!!not-a-cursor!!").status_code == 400


def test_next_link_carries_only_the_cursor_and_total_count_only_when_asked(sandbox: Sandbox) -> None:
    folder = sandbox.folder("f")
    for name in ("a.mov", "b.mov", "c.mov"):
        sandbox.upload(name, folder)
    first = _children(sandbox, folder, page_size=2, sort="name_asc").json()
    assert "total_count" not in first
    link = first["links"]["next"]
    assert link.startswith("/v4/") and "page_size" not in link and "sort" not in link
    second = sandbox.http.get(link, headers=sandbox.auth).json()
    assert len(second["data"]) == 1 and second["links"]["next"] is None
    counted = _children(sandbox, folder, page_size=2, include_total_count="true").json()
    assert counted["total_count"] == 3


def test_type_filter(sandbox: Sandbox) -> None:
    folder = sandbox.folder("f")
    sandbox.folder("sub", folder)
    ids = [sandbox.upload(f"s_v{n}.mov", folder)["id"] for n in (1, 2)]
    sandbox.stack(folder, ids)
    sandbox.upload("loose.mov", folder)

    def kinds(value: str) -> list[str]:
        return sorted(item["type"] for item in _children(sandbox, folder, type=value).json()["data"])

    assert kinds("file") == ["file"]
    assert kinds("folder,version_stack") == ["folder", "version_stack"]
    assert kinds("file,folder,version_stack") == ["file", "folder", "version_stack"]
    assert _children(sandbox, folder, type="stack").status_code == 422


def test_sort_values(sandbox: Sandbox) -> None:
    folder = sandbox.folder("f")
    for name in ("b.mov", "a.mov", "c.mov"):
        sandbox.upload(name, folder)

    def names(sort: str) -> list[str]:
        return [item["name"] for item in _children(sandbox, folder, sort=sort).json()["data"]]

    assert names("name_asc") == ["a.mov", "b.mov", "c.mov"]
    assert names("name_desc") == ["c.mov", "b.mov", "a.mov"]
    assert names("created_at_asc") == ["b.mov", "a.mov", "c.mov"]
    assert _children(sandbox, folder, sort="file_size_asc").status_code == 422


@pytest.mark.parametrize(("default", "expected"), [("updated_at_desc", ["c", "a", "b"]), ("name_asc", ["a", "b", "c"])])
def test_folder_default_sort_knob(make_sandbox: Callable[..., Sandbox], default: str, expected: list[str]) -> None:
    sandbox = make_sandbox(folder_default_sort=default)
    folder = sandbox.folder("f")
    for name in ("b", "a", "c"):
        sandbox.upload(f"{name}.mov", folder)
    assert [item["name"][0] for item in _children(sandbox, folder).json()["data"]] == expected


def test_stack_children_page_through(sandbox: Sandbox) -> None:
    ids = [sandbox.upload(f"p_v{n}.mov")["id"] for n in (1, 2, 3)]
    stack = sandbox.stack(sandbox.root, ids)["id"]
    seen: list[str] = []
    path: str | None = f"/v4/accounts/{sandbox.account}/version_stacks/{stack}/children?x=1"
    pages = 0
    while path:
        body = sandbox.http.get(f"{path}&page_size=1", headers=sandbox.auth).json()  # params re-added
        seen += [item["id"] for item in body["data"]]
        path = body["links"]["next"]
        pages += 1
    assert seen == ids[::-1] and pages == 3


def test_webhooks_list_pages(sandbox: Sandbox) -> None:
    for number in range(3):
        sandbox.webhook(f"http://127.0.0.1:9/{number}", ["file.ready"])
    path = f"/workspaces/{sandbox.state['workspace_id']}/webhooks"
    first = sandbox.api("GET", path, params={"page_size": 2}).json()
    assert len(first["data"]) == 2 and first["links"]["next"]
    assert all("secret" not in hook for hook in first["data"])


@pytest.mark.parametrize(("allowed", "status"), [(False, 422), (True, 200)])
def test_include_lists_knob(make_sandbox: Callable[..., Sandbox], allowed: bool, status: int) -> None:
    sandbox = make_sandbox(include_lists=allowed)
    file_id = sandbox.upload("i.mov")["id"]
    response = sandbox.api("GET", f"/files/{file_id}", params={"include": "creator,project"})
    assert response.status_code == status
    if allowed:
        data = response.json()["data"]
        assert data["creator"]["id"] and data["project"]["root_folder_id"] == sandbox.root
    assert sandbox.api("GET", f"/files/{file_id}", params={"include": "nonsense"}).status_code == 422
