"""Folder scope: by id or by path from the project's root, read up the tree once and cached."""

from __future__ import annotations

import pytest
import redis

from tests.inprocess_sandbox import InProcessSandbox
from workers.naming.parser import DEFAULT_RULES
from workers.stacking.memory import Memory
from workers.stacking.pauses import Pauses, paused_ancestor
from workers.stacking.planner import Policy
from workers.stacking.scope import Ancestry, FolderScope, in_scope
from workers.stacking.stacker import Stacker

SHOT = Ancestry(("f3", "f2", "f1", "root"), "/VFX/Shots/sh010")


@pytest.mark.parametrize(
    ("entries", "inside"),
    [
        ((), True),
        (("/VFX",), True),
        (("/vfx/shots/",), True),
        (("/VFX/Shots/sh010",), True),
        (("/VFX/Sho",), False),  # a prefix of a name is not a parent
        (("/Dailies",), False),
        (("f2",), True),
        (("elsewhere",), False),
        (("/Dailies", "f1"), True),
        (("/",), True),
    ],
)
def test_scope_by_path_or_id(entries: tuple[str, ...], inside: bool) -> None:
    assert in_scope(SHOT, entries) is inside


def nested(sandbox: InProcessSandbox, *names: str, under: str = "") -> str:
    parent = under or sandbox.state["root_folder_id"]
    for name in names:
        path = f"/v4/accounts/{sandbox.account}/folders/{parent}/folders"
        parent = sandbox.http.post(path, json={"data": {"name": name}}, headers=sandbox.auth()).json()["data"]["id"]
    return parent


def test_the_path_is_read_up_the_tree_once(sandbox: InProcessSandbox, redis_client: redis.Redis) -> None:
    shots = nested(sandbox, "VFX", "Shots")
    scope = FolderScope(sandbox.client(), redis_client, ("/VFX",))
    assert scope.ancestry(sandbox.account, shots).path == "/VFX/Shots"
    reads = sandbox.calls("show_folder")
    assert scope.allows(sandbox.account, shots)
    assert sandbox.calls("show_folder") == reads  # cached


def test_files_outside_the_scope_are_left_alone(sandbox: InProcessSandbox, redis_client: redis.Redis) -> None:
    dailies, vfx = nested(sandbox, "Dailies"), nested(sandbox, "VFX")
    scope = FolderScope(sandbox.client(), redis_client, ("/VFX",))
    stacker = Stacker(sandbox.client(), DEFAULT_RULES, Policy(), memory=Memory(redis_client), scope=scope)
    outside = [sandbox.upload(dailies, name) for name in ("a_v1.mov", "a_v2.mov")]
    inside = [sandbox.upload(vfx, name) for name in ("a_v1.mov", "a_v2.mov")]
    assert stacker.run(sandbox.account, outside[0]).code == "out-of-scope"
    assert stacker.run(sandbox.account, inside[0]).status == "stacked"
    assert sandbox.stacks(dailies) == []
    assert sandbox.stacks(vfx) == [["a_v2.mov", "a_v1.mov"]]


def test_the_nearest_paused_folder_up_the_ancestry_is_named() -> None:
    assert paused_ancestor(SHOT.ids, {"f2", "root"}) == "f2"
    assert paused_ancestor(SHOT.ids, set()) is None


def test_a_paused_folder_and_every_folder_below_it_are_left_alone_until_resumed(
    sandbox: InProcessSandbox, redis_client: redis.Redis
) -> None:
    vfx = nested(sandbox, "VFX")
    shots = nested(sandbox, "Shots", under=vfx)
    elsewhere = nested(sandbox, "Dailies")
    scope = FolderScope(sandbox.client(), redis_client, ())
    stacker = Stacker(sandbox.client(), DEFAULT_RULES, Policy(), memory=Memory(redis_client), scope=scope)
    below = [sandbox.upload(shots, name) for name in ("a_v1.mov", "a_v2.mov")]
    beside = [sandbox.upload(elsewhere, name) for name in ("a_v1.mov", "a_v2.mov")]
    assert Pauses(redis_client).pause(vfx, "frameio-user:u1", 0.0)
    refusal = scope.refusal(sandbox.account, shots)
    assert refusal is not None and refusal.code == "paused" and vfx in refusal.reason
    assert stacker.run(sandbox.account, below[0]).code == "paused"
    assert stacker.run(sandbox.account, beside[0]).status == "stacked"
    assert sandbox.stacks(shots) == []
    assert Pauses(redis_client).resume(vfx)
    assert stacker.run(sandbox.account, below[0]).status == "stacked"
    assert sandbox.stacks(shots) == [["a_v2.mov", "a_v1.mov"]]


def test_with_nothing_paused_and_no_scope_no_folder_is_read(
    sandbox: InProcessSandbox, redis_client: redis.Redis
) -> None:
    shots = nested(sandbox, "VFX", "Shots")
    reads = sandbox.calls("show_folder")
    assert FolderScope(sandbox.client(), redis_client, ()).refusal(sandbox.account, shots) is None
    assert sandbox.calls("show_folder") == reads
