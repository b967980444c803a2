"""Folder scope: by id or by path from the project's root, read up the tree once and cached."""

from __future__ import annotations

import pytest
import redis

from tests.inprocess_sandbox import InProcessSandbox
from workers.frameio.models import StackAsset
from workers.naming.parser import DEFAULT_RULES
from workers.naming.rules import rulebook_from_toml
from workers.naming.scopes import RuleBook
from workers.stacking.memory import Memory
from workers.stacking.pauses import PAUSE_TTL_S, PAUSED_KEY, Pauses, paused_ancestor
from workers.stacking.planner import Policy
from workers.stacking.scope import Ancestry, FolderRules, FolderScope, in_scope
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


# Rules per show: the rules file's [[scope]] for a folder, found through the same cached folder reads.
def book(other_project: str) -> RuleBook:
    return rulebook_from_toml(
        f"""
[[scope]]
name = "german spots"
folders = ["/Werbung/**"]
version_words = ["Fassung"]

[[scope]]
name = "other show"
projects = ["{other_project}"]
version_words = ["Take"]
"""
    )


def folder_in(sandbox: InProcessSandbox, parent: str, name: str) -> str:
    path = f"/v4/accounts/{sandbox.account}/folders/{parent}/folders"
    answer = sandbox.http.post(path, json={"data": {"name": name}}, headers=sandbox.auth())
    return str(answer.json()["data"]["id"])


def test_each_folder_is_read_with_the_rules_of_its_scope(sandbox: InProcessSandbox, redis_client: redis.Redis) -> None:
    rules = book(sandbox.state["other_project_id"])
    spots, promos = nested(sandbox, "Werbung", "Spots"), nested(sandbox, "Promos")
    other = folder_in(sandbox, sandbox.state["other_root_folder_id"], "Selects")
    naming = FolderRules(rules, FolderScope(sandbox.client(), redis_client, ()))
    stacker = Stacker(sandbox.client(), naming, Policy(), memory=Memory(redis_client))
    german = [sandbox.upload(spots, name) for name in ("spot_Fassung_1.mov", "spot_Fassung_2.mov")]
    elsewhere = [sandbox.upload(promos, name) for name in ("spot_Fassung_1.mov", "spot_Fassung_2.mov")]
    takes = [sandbox.upload(other, name) for name in ("spot_Take_1.mov", "spot_Take_2.mov")]

    stacked = stacker.run(sandbox.account, german[1])
    assert (stacked.status, stacked.scope) == ("stacked", "german spots")
    declined = stacker.run(sandbox.account, elsewhere[1])
    assert (declined.status, declined.code, declined.scope) == ("declined", "no-token", "global")
    by_project = stacker.run(sandbox.account, takes[1])
    assert (by_project.status, by_project.scope) == ("stacked", "other show")
    assert sandbox.stacks(spots) == [["spot_Fassung_2.mov", "spot_Fassung_1.mov"]]
    assert sandbox.stacks(promos) == []
    assert sandbox.stacks(other) == [["spot_Take_2.mov", "spot_Take_1.mov"]]


def test_rules_without_scopes_cost_no_folder_reads(sandbox: InProcessSandbox, redis_client: redis.Redis) -> None:
    folder = nested(sandbox, "Werbung")
    naming = FolderRules(RuleBook(DEFAULT_RULES), FolderScope(sandbox.client(), redis_client, ()))
    reads = sandbox.calls("show_folder")
    assert naming.resolve(sandbox.account, folder).scope == "global"
    assert sandbox.calls("show_folder") == reads


def test_project_scopes_read_the_folder_once_and_path_scopes_its_path_once_a_day(
    sandbox: InProcessSandbox, redis_client: redis.Redis
) -> None:
    deep = nested(sandbox, "Werbung", "Spots", "Week 2")
    projects_only = rulebook_from_toml(f"[[scope]]\nname = 'p'\nprojects = ['{sandbox.state['project_id']}']\n")
    reads = sandbox.calls("show_folder")
    assert FolderRules(projects_only, FolderScope(sandbox.client(), redis_client, ())).resolve(
        sandbox.account, deep
    ) == projects_only.resolve(sandbox.state["project_id"], None)
    assert sandbox.calls("show_folder") == reads + 1  # the folder's own record, which names its project

    with_paths = book(sandbox.state["other_project_id"])
    first = FolderRules(with_paths, FolderScope(sandbox.client(), redis_client, ()))
    assert first.resolve(sandbox.account, deep).scope == "german spots"
    assert sandbox.calls("show_folder") == reads + 4  # up the tree: Spots, Werbung and the root (Week 2 cached)
    again = FolderRules(with_paths, FolderScope(sandbox.client(), redis_client, ()))  # the next job
    assert again.resolve(sandbox.account, deep).scope == "german spots"
    assert sandbox.calls("show_folder") == reads + 4  # every folder cached in Redis for a day


def test_a_file_already_in_a_stack_is_read_with_the_global_rules(
    sandbox: InProcessSandbox, redis_client: redis.Redis
) -> None:
    spots = nested(sandbox, "Werbung")
    naming = FolderRules(book("none"), FolderScope(sandbox.client(), redis_client, ()))
    first = sandbox.upload(spots, "a_v1.mov")
    sandbox.upload(spots, "a_v2.mov")
    Stacker(sandbox.client(), naming, Policy(), memory=Memory(redis_client)).run(sandbox.account, first)
    (stack,) = [a for a in sandbox.client().list_folder_children(sandbox.account, spots) if isinstance(a, StackAsset)]
    assert naming.resolve(sandbox.account, stack.id).scope == "global"


def test_the_paused_folders_are_forgotten_a_year_after_the_last_pause(redis_client: redis.Redis) -> None:
    pauses = Pauses(redis_client)
    assert pauses.pause("f1", "someone", 0.0)
    assert not pauses.pause("f1", "someone else", 1.0)
    assert 0 < redis_client.ttl(PAUSED_KEY) <= PAUSE_TTL_S
    assert pauses.ids() == {"f1"}
