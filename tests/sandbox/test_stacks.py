"""Version stack rules and the stack knobs (each test fails if its knob does nothing)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.sandbox.conftest import Sandbox


def _files(sandbox: Sandbox, folder: str, prefix: str, count: int) -> list[str]:
    return [sandbox.upload(f"{prefix}_v{n:03d}.mov", folder)["id"] for n in range(1, count + 1)]


def _create(sandbox: Sandbox, folder: str, file_ids: Any) -> tuple[int, dict[str, Any]]:
    response = sandbox.api("POST", f"/folders/{folder}/version_stacks", json={"data": {"file_ids": file_ids}})
    return response.status_code, response.json()


def test_create_orders_oldest_at_bottom_and_newest_as_head(sandbox: Sandbox) -> None:
    folder = sandbox.folder("f")
    ids = _files(sandbox, folder, "a", 3)
    stack = sandbox.stack(folder, ids)
    assert stack["head_version"]["id"] == ids[-1] and stack["name"] == "a_v003.mov"
    assert sandbox.children_names(stack["id"]) == ["a_v003.mov", "a_v002.mov", "a_v001.mov"]
    for file_id in ids:
        assert sandbox.api("GET", f"/files/{file_id}").json()["data"]["parent_id"] == stack["id"]
    tree = sandbox.tree(folder)
    assert tree["files"] == [] and [s["id"] for s in tree["stacks"]] == [stack["id"]]


@pytest.mark.parametrize(
    ("shape", "pointer"),
    [
        (lambda ids: ids[:1], "/data/file_ids"),
        (lambda ids: ids[:1] * 2, "/data/file_ids"),
        (lambda ids: "not a list", "/data/file_ids"),
        (lambda ids: [*ids[:1], "00000000-0000-4000-8000-000000000000"], "/data/file_ids/1"),
    ],
)
def test_create_rejects_bad_file_lists(sandbox: Sandbox, shape: Callable[[list[str]], Any], pointer: str) -> None:
    folder = sandbox.folder("f")
    ids = _files(sandbox, folder, "b", 2)
    status, body = _create(sandbox, folder, shape(ids))
    assert status == 422 and body["errors"][0]["source"]["pointer"] == pointer


def test_create_takes_at_most_ten_files(sandbox: Sandbox) -> None:
    folder = sandbox.folder("f")
    ids = _files(sandbox, folder, "c", 11)
    assert _create(sandbox, folder, ids)[0] == 422
    assert _create(sandbox, folder, ids[:10])[0] == 201


def test_create_needs_every_file_directly_in_the_folder_and_unstacked(sandbox: Sandbox) -> None:
    folder, other = sandbox.folder("f"), sandbox.folder("g")
    ids = _files(sandbox, folder, "d", 3)
    elsewhere = sandbox.upload("d_v009.mov", other)["id"]
    assert _create(sandbox, folder, [ids[0], elsewhere])[0] == 422
    sandbox.stack(folder, ids[:2])
    status, body = _create(sandbox, folder, [ids[1], ids[2]])
    assert status == 422 and "version stack" in body["errors"][0]["detail"]
    assert _create(sandbox, "00000000-0000-4000-8000-000000000000", ids[2:])[0] == 404


def test_create_requires_uploaded_knob(make_sandbox: Callable[..., Sandbox]) -> None:
    for required, expected in ((True, 422), (False, 201)):
        sandbox = make_sandbox(create_requires_uploaded=required)
        ready = sandbox.upload("e_v001.mov")["id"]
        placeholder = sandbox.upload("e_v002.mov", stop_at="created")["id"]
        assert _create(sandbox, sandbox.root, [ready, placeholder])[0] == expected


@pytest.mark.parametrize(
    ("lands", "expected"), [("bottom", ["v002", "v001", "v003"]), ("top", ["v003", "v002", "v001"])]
)
def test_move_lands_knob(make_sandbox: Callable[..., Sandbox], lands: str, expected: list[str]) -> None:
    sandbox = make_sandbox(move_lands=lands)
    ids = _files(sandbox, sandbox.root, "f", 3)
    stack = sandbox.stack(sandbox.root, ids[:2])
    moved = sandbox.api("PATCH", f"/files/{ids[2]}/move", json={"data": {"parent_id": stack["id"]}})
    assert moved.status_code == 200 and moved.json()["data"]["parent_id"] == stack["id"]
    assert [name[2:6] for name in sandbox.children_names(stack["id"])] == expected
    head = sandbox.api("GET", f"/version_stacks/{stack['id']}").json()["data"]["head_version"]["id"]
    assert head == (ids[2] if lands == "top" else ids[1])


@pytest.mark.parametrize(("order", "expected"), [("top_first", ["v002", "v001"]), ("bottom_first", ["v001", "v002"])])
def test_children_order_knob(make_sandbox: Callable[..., Sandbox], order: str, expected: list[str]) -> None:
    sandbox = make_sandbox(children_order=order)
    stack = sandbox.stack(sandbox.root, _files(sandbox, sandbox.root, "g", 2))
    assert [name[2:6] for name in sandbox.children_names(stack["id"])] == expected
    by_name = sandbox.api("GET", f"/version_stacks/{stack['id']}/children", params={"sort": "name_desc"})
    assert [c["name"][2:6] for c in by_name.json()["data"]] == ["v002", "v001"]


def test_move_requires_uploaded_knob(make_sandbox: Callable[..., Sandbox]) -> None:
    for required, expected in ((True, 422), (False, 200)):
        sandbox = make_sandbox(move_requires_uploaded=required)
        stack = sandbox.stack(sandbox.root, _files(sandbox, sandbox.root, "h", 2))
        placeholder = sandbox.upload("h_v003.mov", stop_at="created")["id"]
        response = sandbox.api("PATCH", f"/files/{placeholder}/move", json={"data": {"parent_id": stack["id"]}})
        assert response.status_code == expected


def test_move_to_the_current_parent_is_a_quiet_no_op(sandbox: Sandbox) -> None:
    ids = _files(sandbox, sandbox.root, "i", 2)
    stack = sandbox.stack(sandbox.root, ids)
    before = sandbox.api("GET", f"/files/{ids[0]}").json()["data"]
    again = sandbox.api("PATCH", f"/files/{ids[0]}/move", json={"data": {"parent_id": stack["id"]}})
    assert again.status_code == 200 and again.json()["data"] == before
    assert sandbox.children_names(stack["id"]) == ["i_v002.mov", "i_v001.mov"]


def test_move_rejects_unknown_parents_and_bad_bodies(sandbox: Sandbox) -> None:
    file_id = sandbox.upload("j.mov")["id"]
    unknown = {"data": {"parent_id": "00000000-0000-4000-8000-000000000000"}}
    assert sandbox.api("PATCH", f"/files/{file_id}/move", json=unknown).status_code == 404
    assert sandbox.api("PATCH", f"/files/{file_id}/move", json={"data": {}}).status_code == 422
    assert sandbox.api("PATCH", f"/files/{file_id}/move", json={"nodata": 1}).status_code == 422
    json_type = {"content-type": "application/json"}
    assert sandbox.api("PATCH", f"/files/{file_id}/move", content=b"{", headers=json_type).status_code == 400
    assert sandbox.api("PATCH", f"/files/{file_id}/move", content=b'{"data":{}}').status_code == 400
    other_root = sandbox.state["other_root_folder_id"]
    assert sandbox.api("PATCH", f"/files/{file_id}/move", json={"data": {"parent_id": other_root}}).status_code == 422


def _move_out(sandbox: Sandbox, file_id: str) -> None:
    response = sandbox.api("PATCH", f"/files/{file_id}/move", json={"data": {"parent_id": sandbox.root}})
    assert response.status_code == 200 and response.json()["data"]["parent_id"] == sandbox.root


@pytest.mark.parametrize(("knob", "survives"), [("survives", True), ("dissolves", False)])
def test_single_file_stack_knob(make_sandbox: Callable[..., Sandbox], knob: str, survives: bool) -> None:
    sandbox = make_sandbox(single_file_stack=knob)
    ids = _files(sandbox, sandbox.root, "k", 2)
    stack = sandbox.stack(sandbox.root, ids)
    _move_out(sandbox, ids[1])
    found = sandbox.api("GET", f"/version_stacks/{stack['id']}")
    assert found.status_code == (200 if survives else 404)
    parent = sandbox.api("GET", f"/files/{ids[0]}").json()["data"]["parent_id"]
    assert parent == (stack["id"] if survives else sandbox.root)


@pytest.mark.parametrize(("knob", "status"), [("gone", 404), ("left_empty", 200)])
def test_emptied_stack_knob(make_sandbox: Callable[..., Sandbox], knob: str, status: int) -> None:
    sandbox = make_sandbox(emptied_stack=knob)
    ids = _files(sandbox, sandbox.root, "l", 2)
    stack = sandbox.stack(sandbox.root, ids)
    _move_out(sandbox, ids[1])
    _move_out(sandbox, ids[0])
    found = sandbox.api("GET", f"/version_stacks/{stack['id']}")
    assert found.status_code == status
    if status == 200:
        assert found.json()["data"]["head_version"] is None
        assert sandbox.children_names(stack["id"]) == []


@pytest.mark.parametrize(("knob", "name"), [("frozen", "m_v002.mov"), ("follows_head", "m_v001.mov")])
def test_stack_name_knob(make_sandbox: Callable[..., Sandbox], knob: str, name: str) -> None:
    sandbox = make_sandbox(stack_name=knob)
    ids = _files(sandbox, sandbox.root, "m", 2)
    stack = sandbox.stack(sandbox.root, ids)
    body = {"data": {"target_file_id": ids[0], "move_to": "top"}}
    assert sandbox.api("PATCH", f"/version_stacks/{stack['id']}/versions", json=body).status_code == 200
    assert sandbox.api("GET", f"/version_stacks/{stack['id']}").json()["data"]["name"] == name


def _reorder(sandbox: Sandbox, stack_id: str, **data: Any) -> Any:
    return sandbox.api("PATCH", f"/version_stacks/{stack_id}/versions", json={"data": data})


def test_reorder_placements(sandbox: Sandbox) -> None:
    ids = _files(sandbox, sandbox.root, "n", 4)
    stack = sandbox.stack(sandbox.root, ids)["id"]
    response = _reorder(sandbox, stack, target_file_id=ids[3], move_to="bottom")
    assert response.status_code == 200
    assert [c["name"][2:6] for c in response.json()["data"]] == ["v003", "v002", "v001", "v004"]
    assert _reorder(sandbox, stack, target_file_id=ids[3], move_above_file_id=ids[0]).status_code == 200
    assert [n[2:6] for n in sandbox.children_names(stack)] == ["v003", "v002", "v004", "v001"]
    assert _reorder(sandbox, stack, target_file_id=ids[3], move_below_file_id=ids[2]).status_code == 200
    assert [n[2:6] for n in sandbox.children_names(stack)] == ["v003", "v004", "v002", "v001"]
    assert _reorder(sandbox, stack, target_file_id=ids[3], move_to="top").status_code == 200
    head = sandbox.api("GET", f"/version_stacks/{stack}").json()["data"]["head_version"]["id"]
    assert head == ids[3]


def test_reorder_rejects_what_it_cannot_apply(sandbox: Sandbox) -> None:
    ids = _files(sandbox, sandbox.root, "o", 3)
    stack = sandbox.stack(sandbox.root, ids[:2])["id"]
    outsider = ids[2]
    cases: list[dict[str, Any]] = [
        {"target_file_id": outsider, "move_to": "top"},
        {"target_file_id": ids[0], "move_above_file_id": outsider},
        {"target_file_id": ids[0], "move_below_file_id": ids[0]},
        {"target_file_id": ids[0]},
        {"target_file_id": ids[0], "move_to": "top", "move_above_file_id": ids[1]},
        {"target_file_id": ids[0], "move_to": "middle"},
    ]
    for case in cases:
        response = _reorder(sandbox, stack, **case)
        assert response.status_code == 422, case
        assert response.json()["errors"][0]["detail"]
    assert _reorder(sandbox, "00000000-0000-4000-8000-000000000000", **cases[0]).status_code == 404


def test_stacks_never_go_into_stacks(sandbox: Sandbox) -> None:
    first = sandbox.stack(sandbox.root, _files(sandbox, sandbox.root, "p", 2))["id"]
    second = sandbox.stack(sandbox.root, _files(sandbox, sandbox.root, "q", 2))["id"]
    response = sandbox.api("PATCH", f"/version_stacks/{second}/move", json={"data": {"parent_id": first}})
    assert response.status_code == 422


def test_delete_and_rename_files(sandbox: Sandbox) -> None:
    ids = _files(sandbox, sandbox.root, "r", 3)
    stack = sandbox.stack(sandbox.root, ids)["id"]
    renamed = sandbox.api("PATCH", f"/files/{ids[0]}", json={"data": {"name": "r_v001_fixed.mov"}})
    assert renamed.status_code == 200 and renamed.json()["data"]["name"] == "r_v001_fixed.mov"
    assert sandbox.api("PATCH", f"/files/{ids[0]}", json={"data": {"name": ""}}).status_code == 422
    deleted = sandbox.api("DELETE", f"/files/{ids[2]}")
    assert deleted.status_code == 204 and deleted.content == b""
    assert sandbox.api("GET", f"/files/{ids[2]}").status_code == 404
    assert sandbox.children_names(stack) == ["r_v002.mov", "r_v001_fixed.mov"]
