"""Backfill of a nested tree of 2,000 files on the sandbox: the dry-run plan is what gets applied,
and an interrupted run resumes where it stopped."""

from __future__ import annotations

import argparse
import io
import random
from collections.abc import Callable
from typing import Any

import pytest
import redis

from service import backfill as backfill_command
from tests.workers.conftest import InProcessSandbox
from workers.runtime import Runtime
from workers.stacking.pauses import Pauses
from workers.stacking.stacker import Outcome, Stacker
from workers.tools.backfill import DoneGroups, GroupPlan, apply_plans

Report = Callable[[int, int, GroupPlan, Outcome | None], None]
GROUPS_PER_FOLDER = 58
FOLDERS = 10  # 10 folders x (58 groups x ~4 versions + decoys) = about 2,000 files


def build_tree(sandbox: InProcessSandbox, rng: random.Random) -> tuple[str, dict[str, list[list[str]]]]:
    """A root with nested folders; returns the root id and, per folder id, the expected stacks."""
    root = sandbox.folder("backfill-root")
    expected: dict[str, list[list[str]]] = {}
    parents = [root]
    for index in range(FOLDERS):
        parent = rng.choice(parents)
        path = f"/v4/accounts/{sandbox.account}/folders/{parent}/folders"
        answer = sandbox.http.post(path, json={"data": {"name": f"reel{index}"}}, headers=sandbox.auth())
        folder = answer.json()["data"]["id"]
        parents.append(folder)
        expected[folder] = fill(sandbox, folder, index, rng)
    return root, expected


def fill(sandbox: InProcessSandbox, folder: str, index: int, rng: random.Random) -> list[list[str]]:
    stacks, names = [], []
    for group in range(GROUPS_PER_FOLDER):
        versions = sorted(rng.sample(range(1, 9), rng.choice([1, 3, 4, 4, 5])))
        group_names = [f"r{index}_sh{group:03d}_comp_v{v:03d}.mov" for v in versions]
        names += group_names
        if len(group_names) > 1:
            stacks.append(list(reversed(group_names)))
    names += [f"A{index:03d}C{n:03d}_230610_R1JL.mov" for n in range(8)] + [f"notes {index}-{n}.mov" for n in range(4)]
    rng.shuffle(names)
    for name in names:
        sandbox.upload(folder, name)
    return stacks


def stacks_in(sandbox: InProcessSandbox, folder: str) -> list[list[str]]:
    return sorted(sandbox.stacks(folder))


def arguments(root: str, account: str, **extra: Any) -> argparse.Namespace:
    options = {"folder": root, "account": account, "recursive": True, "dry_run": False, "restart": False, **extra}
    return argparse.Namespace(**options)


@pytest.mark.slow
def test_the_dry_run_plan_is_what_an_interrupted_and_resumed_backfill_applies(
    sandbox: InProcessSandbox, runtime_for: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, expected = build_tree(sandbox, random.Random(11))
    files = sum(len(f["files"]) + sum(len(s["children"]) for s in f["stacks"]) for f in map(sandbox.tree, expected))
    assert files >= 2000

    dry = io.StringIO()
    assert (
        backfill_command.backfill_main(
            arguments(root, sandbox.account, dry_run=True), runtime_for.settings, dry, runtime_for
        )
        == 0
    )
    planned_creates = dry.getvalue().count("  create  ")
    assert planned_creates == sum(len(stacks) for stacks in expected.values())
    assert all(stacks_in(sandbox, folder) == [] for folder in expected)  # the dry run wrote nothing

    calls = {"groups": 0}

    def interrupted(
        stacker: Stacker, account_id: str, plans: list[GroupPlan], progress: DoneGroups, report: Report
    ) -> list[Outcome]:
        def stop_midway(index: int, total: int, plan: GroupPlan, outcome: Outcome | None) -> None:
            report(index, total, plan, outcome)
            calls["groups"] += 1
            if calls["groups"] == total // 2:
                raise KeyboardInterrupt

        return apply_plans(stacker, account_id, plans, progress, stop_midway)

    monkeypatch.setattr(backfill_command, "apply_plans", interrupted)
    first = io.StringIO()
    assert (
        backfill_command.backfill_main(arguments(root, sandbox.account), runtime_for.settings, first, runtime_for)
        == 130
    )
    assert "run the same command again to resume" in first.getvalue()
    half = sum(len(stacks_in(sandbox, folder)) for folder in expected)
    assert 0 < half < planned_creates

    monkeypatch.setattr(backfill_command, "apply_plans", apply_plans)
    creates_before_resume = sandbox.calls("create_stack")
    resumed = io.StringIO()
    assert (
        backfill_command.backfill_main(arguments(root, sandbox.account), runtime_for.settings, resumed, runtime_for)
        == 0
    )
    assert sandbox.calls("create_stack") - creates_before_resume == planned_creates - half
    for folder, stacks in expected.items():
        assert stacks_in(sandbox, folder) == sorted(stacks)


def test_a_second_backfill_finds_nothing_to_do(sandbox: InProcessSandbox, runtime_for: Runtime) -> None:
    folder = sandbox.folder("small")
    for name in ("a_v1.mov", "a_v2.mov", "b_v1.mov", "b_v3.mov", "b_v2.mov", "A001C002_230610_R1JL.mov"):
        sandbox.upload(folder, name)
    out = io.StringIO()
    assert (
        backfill_command.backfill_main(arguments(folder, sandbox.account), runtime_for.settings, out, runtime_for) == 0
    )
    assert stacks_in(sandbox, folder) == [["a_v2.mov", "a_v1.mov"], ["b_v3.mov", "b_v2.mov", "b_v1.mov"]]
    progress = [line.split(" UTC ", 1)[1] for line in out.getvalue().splitlines() if " UTC " in line]
    assert progress[0] == "listing 1 /: 6 file(s), 2 group(s) so far"  # off a terminal: a line per step
    assert progress[1].startswith("backfill 1/2 ") and progress[-1].startswith("backfill 2/2 ")
    again = io.StringIO()
    assert (
        backfill_command.backfill_main(
            arguments(folder, sandbox.account, restart=True), runtime_for.settings, again, runtime_for
        )
        == 0
    )
    assert "nothing to stack" in again.getvalue()


def test_a_new_version_beside_an_existing_stack_is_planned_as_an_add(
    sandbox: InProcessSandbox, runtime_for: Runtime
) -> None:
    folder = sandbox.folder("add")
    ids = [sandbox.upload(folder, name) for name in ("a_v1.mov", "a_v2.mov")]
    path = f"/v4/accounts/{sandbox.account}/folders/{folder}/version_stacks"
    sandbox.http.post(path, json={"data": {"file_ids": ids}}, headers=sandbox.auth()).raise_for_status()
    sandbox.upload(folder, "a_v3.mov")
    out = io.StringIO()
    assert (
        backfill_command.backfill_main(arguments(folder, sandbox.account), runtime_for.settings, out, runtime_for) == 0
    )
    assert "add 1 version(s) to the existing stack" in out.getvalue()
    assert stacks_in(sandbox, folder) == [["a_v3.mov", "a_v2.mov", "a_v1.mov"]]


def test_backfill_leaves_a_paused_subfolder_out_and_a_paused_root_alone(
    sandbox: InProcessSandbox, runtime_for: Runtime, redis_client: redis.Redis
) -> None:
    root = sandbox.folder("paused-root")
    path = f"/v4/accounts/{sandbox.account}/folders/{root}/folders"
    sub = sandbox.http.post(path, json={"data": {"name": "sub"}}, headers=sandbox.auth()).json()["data"]["id"]
    for folder in (root, sub):
        for name in ("a_v1.mov", "a_v2.mov"):
            sandbox.upload(folder, name)
    Pauses(redis_client).pause(root, "someone", 0.0)
    out = io.StringIO()
    assert backfill_command.backfill_main(arguments(root, sandbox.account), runtime_for.settings, out, runtime_for) == 0
    assert out.getvalue().startswith("nothing to stack: autostack is paused in this folder by someone")
    Pauses(redis_client).resume(root)
    Pauses(redis_client).pause(sub, "someone", 0.0)
    assert backfill_command.backfill_main(arguments(root, sandbox.account), runtime_for.settings, out, runtime_for) == 0
    assert stacks_in(sandbox, root) == [["a_v2.mov", "a_v1.mov"]]
    assert stacks_in(sandbox, sub) == []
