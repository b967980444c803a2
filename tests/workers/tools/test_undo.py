"""Undo and unstack on the in-process sandbox and a real Redis, after a history made by the real
stacker with the real journal; and the pure planner on its own."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
import redis

from tests.workers.conftest import InProcessSandbox
from workers import decisions
from workers.frameio.models import FileAsset, StackAsset
from workers.naming.parser import DEFAULT_RULES
from workers.stacking.holds import Hold, Holds, NoHolds, unheld_files, without_held
from workers.stacking.locks import GroupLocks
from workers.stacking.memory import Memory
from workers.stacking.order import bottom_to_top, learn
from workers.stacking.planner import Policy
from workers.stacking.stacker import Outcome, Stacker
from workers.stacking.writes import JournalEntry, Write
from workers.tools.undo import Asker, Report, StepResult, Undoer
from workers.tools.undo_plan import StackMember, StackState, hand_made, plan_window, take_out

ASKER = Asker("alice", "wrong shot")


@dataclass
class World:
    sandbox: InProcessSandbox
    redis: redis.Redis
    memory: Memory
    folder: str = ""
    ids: dict[str, str] = field(default_factory=dict)
    sleeps: list[float] = field(default_factory=list)

    def upload(self, *names: str, folder: str | None = None) -> None:
        for name in names:
            self.ids[name] = self.sandbox.upload(folder or self.folder, name)

    def stack(self, name: str) -> str:
        """Run the real stacker on one file, as a job would."""
        outcome = self.run_stacker(name)
        assert outcome.status in ("stacked", "added"), outcome.reason
        return outcome.stack_id

    def run_stacker(self, name: str) -> Outcome:
        stacker = Stacker(self.sandbox.client(), DEFAULT_RULES, Policy(), memory=self.memory)
        return stacker.run(self.sandbox.account, self.ids[name], not_before=self.memory.now())

    def undoer(self, wait_s: float = 5.0) -> Undoer:
        locks = GroupLocks(self.redis, timeout_s=10, wait_s=wait_s)
        return Undoer(self.sandbox.client(), self.memory, lock=locks.hold, sleep=self.sleeps.append)

    def undo(self, name: str) -> Report:
        undoer = self.undoer()
        plan = undoer.plan_file(self.sandbox.account, self.ids[name])
        assert not plan.refusals, plan.refusals
        return undoer.apply(plan, ASKER)

    def loose(self, folder: str | None = None) -> list[str]:
        return sorted(file["name"] for file in self.sandbox.tree(folder or self.folder)["files"])

    def stacks(self, folder: str | None = None) -> list[list[str]]:
        return self.sandbox.stacks(folder or self.folder)

    def held(self, name: str) -> bool:
        return Holds(self.redis).is_held(self.ids[name], name)


@pytest.fixture
def world(sandbox: InProcessSandbox, redis_client: redis.Redis) -> World:
    memory = Memory(redis_client)
    return World(sandbox, redis_client, memory, sandbox.folder("shots"))


def statuses(report: Report) -> list[tuple[str, str]]:
    return [(step.move.name, step.status) for step in report.steps]


# -- undo one file ---------------------------------------------------------------------------


def test_undo_of_a_create_leaves_both_files_loose_and_no_stack_of_one(world: World) -> None:
    world.upload("a_v1.mov", "a_v2.mov")
    stack_id = world.stack("a_v1.mov")
    report = world.undo("a_v2.mov")
    assert statuses(report) == [("a_v2.mov", "moved"), ("a_v1.mov", "moved")]
    assert [step.move.why for step in report.steps] == ["asked", "last-of-stack"]
    assert world.stacks() == [] and world.loose() == ["a_v1.mov", "a_v2.mov"]
    assert [(fate.stack_id, fate.fate) for fate in report.fates] == [(stack_id, "gone")]
    assert world.held("a_v2.mov") and not world.held("a_v1.mov")  # the last file was not asked for
    assert world.memory.journal.write_for(world.ids["a_v1.mov"]) is None
    assert world.memory.journal.write_for(world.ids["a_v2.mov"]) is None
    assert not world.memory.is_known_stack(stack_id)
    assert world.sleeps == []


def test_undo_of_an_add_keeps_the_other_versions_in_order(world: World) -> None:
    world.sandbox.configure(children_order="bottom_first")
    world.upload("a_v1.mov", "a_v3.mov")
    world.stack("a_v1.mov")
    for name in ("a_v2.mov", "a_v4.mov"):
        world.upload(name)
        world.stack(name)
    report = world.undo("a_v2.mov")
    assert statuses(report) == [("a_v2.mov", "moved")] and report.fates == ()
    assert world.stacks() == [["a_v4.mov", "a_v3.mov", "a_v1.mov"]]
    assert world.loose() == ["a_v2.mov"]
    assert world.memory.journal.write_for(world.ids["a_v3.mov"]) is not None  # the rest is still autostack's


def test_the_decision_log_says_who_asked_and_why(world: World) -> None:
    world.upload("a_v1.mov", "a_v2.mov")
    world.stack("a_v1.mov")
    world.undo("a_v2.mov")
    asked = decisions.for_file(world.redis, world.ids["a_v2.mov"])[0]
    last = decisions.for_file(world.redis, world.ids["a_v1.mov"])[0]
    assert (asked.outcome, asked.code, asked.account_id) == ("undone", "undo", world.sandbox.account)
    assert "asked by alice: wrong shot" in asked.reason
    assert (last.outcome, last.code) == ("undone", "no-stack-of-one")
    assert "no stacks of one" in last.reason


def test_undo_is_refused_for_a_stack_a_person_made(world: World) -> None:
    world.upload("a_v1.mov", "a_v2.mov")
    client = world.sandbox.client()
    client.create_stack(world.sandbox.account, world.folder, [world.ids["a_v1.mov"], world.ids["a_v2.mov"]])
    plan = world.undoer().plan_file(world.sandbox.account, world.ids["a_v2.mov"])
    assert plan.moves == ()
    assert [refusal.code for refusal in plan.refusals] == ["not-autostack"]
    assert world.stacks() == [["a_v2.mov", "a_v1.mov"]]


def test_undo_is_refused_when_a_person_put_a_file_into_autostacks_stack(world: World) -> None:
    world.upload("a_v1.mov", "a_v2.mov", "a_final.mov")
    stack_id = world.stack("a_v1.mov")
    world.sandbox.client().move_file(world.sandbox.account, world.ids["a_final.mov"], stack_id)
    plan = world.undoer().plan_file(world.sandbox.account, world.ids["a_v2.mov"])
    assert plan.moves == ()
    assert [refusal.code for refusal in plan.refusals] == ["changed-by-hand"]
    assert "a_final.mov" in plan.refusals[0].reason


def test_undo_is_refused_when_the_file_left_its_stack_by_hand(world: World) -> None:
    world.upload("a_v1.mov", "a_v2.mov", "a_v3.mov")
    world.stack("a_v1.mov")
    elsewhere = world.sandbox.folder("elsewhere")
    client, account = world.sandbox.client(), world.sandbox.account
    client.move_file(account, world.ids["a_v3.mov"], elsewhere)
    client.move_file(account, world.ids["a_v2.mov"], world.folder)
    undoer = world.undoer()
    assert [r.code for r in undoer.plan_file(account, world.ids["a_v3.mov"]).refusals] == ["moved-by-hand"]
    assert [r.code for r in undoer.plan_file(account, world.ids["a_v2.mov"]).refusals] == ["not-in-stack"]


def test_a_reorder_by_hand_does_not_block_an_undo(world: World) -> None:
    world.upload("a_v1.mov", "a_v2.mov", "a_v3.mov")
    stack_id = world.stack("a_v1.mov")
    world.sandbox.client().reorder(world.sandbox.account, stack_id, world.ids["a_v1.mov"], {"move_to": "top"})
    assert statuses(world.undo("a_v3.mov")) == [("a_v3.mov", "moved")]
    assert world.stacks() == [["a_v1.mov", "a_v2.mov"]]


# -- undo by time window ---------------------------------------------------------------------


def test_undo_since_reverses_the_window_newest_first_over_a_mixed_history(world: World) -> None:
    world.upload("a_v1.mov", "a_v2.mov", "c_v1.mov", "c_v2.mov")
    world.stack("a_v1.mov")  # before the window: stays
    client, account = world.sandbox.client(), world.sandbox.account
    client.create_stack(account, world.folder, [world.ids["c_v1.mov"], world.ids["c_v2.mov"]])  # a person's
    since = world.memory.now()
    world.upload("b_v1.mov", "b_v2.mov")
    b_stack = world.stack("b_v1.mov")
    for name in ("a_v3.mov", "b_v3.mov"):
        world.upload(name)
        world.stack(name)
    entries = world.memory.journal.since(since)
    assert [entry.write.action for entry in entries] == ["added", "added", "created"]
    undoer = world.undoer()
    plan = undoer.plan_window(entries)
    assert [move.name for move in plan.moves] == ["b_v3.mov", "a_v3.mov", "b_v1.mov", "b_v2.mov"]
    report = undoer.apply(plan, ASKER)
    assert all(step.status == "moved" for step in report.steps) and not report.stopped
    assert sorted(world.stacks()) == [["a_v2.mov", "a_v1.mov"], ["c_v2.mov", "c_v1.mov"]]
    assert world.loose() == ["a_v3.mov", "b_v1.mov", "b_v2.mov", "b_v3.mov"]
    assert [(fate.stack_id, fate.fate) for fate in report.fates] == [(b_stack, "gone")]
    assert all(world.held(name) for name in ("a_v3.mov", "b_v1.mov", "b_v2.mov", "b_v3.mov"))


def test_a_second_undo_of_the_same_window_finds_nothing_left_to_move(world: World) -> None:
    since = world.memory.now()
    world.upload("a_v1.mov", "a_v2.mov")
    world.stack("a_v1.mov")
    world.undoer().apply(world.undoer().plan_window(world.memory.journal.since(since)), ASKER)
    again = world.undoer().plan_window(world.memory.journal.since(since))
    assert again.moves == () and [refusal.code for refusal in again.refusals] == ["stack-gone"]


def test_the_window_can_be_narrowed_to_one_folder(world: World) -> None:
    other = world.sandbox.folder("other")
    since = world.memory.now()
    world.upload("a_v1.mov", "a_v2.mov")
    world.upload("b_v1.mov", "b_v2.mov", folder=other)
    world.stack("a_v1.mov")
    world.stack("b_v1.mov")
    assert len(world.memory.journal.since(since)) == 2
    assert [entry.write.folder_id for entry in world.memory.journal.since(since, other)] == [other]
    assert all(entry.account_id == world.sandbox.account for entry in world.memory.journal.since(since))


# -- unstack ---------------------------------------------------------------------------------


@pytest.mark.parametrize("children_order", ["top_first", "bottom_first"])
def test_unstack_moves_every_file_out_bottom_first(world: World, children_order: str) -> None:
    world.sandbox.configure(children_order=children_order)
    world.upload("a_v1.mov", "a_v2.mov", "a_v3.mov")
    stack_id = world.stack("a_v1.mov")
    seen: list[str] = []

    def progress(done: int, total: int, step: StepResult) -> None:
        seen.append(f"{done}/{total} {step.move.name}")

    undoer = world.undoer()
    report = undoer.apply(undoer.plan_unstack(world.sandbox.account, stack_id), ASKER, progress)
    assert seen == ["1/3 a_v1.mov", "2/3 a_v2.mov", "3/3 a_v3.mov"]
    assert world.stacks() == [] and world.loose() == ["a_v1.mov", "a_v2.mov", "a_v3.mov"]
    assert all(world.held(name) for name in ("a_v1.mov", "a_v2.mov", "a_v3.mov"))
    assert [fate.fate for fate in report.fates] == ["gone"]


def test_unstack_works_on_a_stack_a_person_made(world: World) -> None:
    world.upload("a_v1.mov", "a_v2.mov")
    client, account = world.sandbox.client(), world.sandbox.account
    stack = client.create_stack(account, world.folder, [world.ids["a_v1.mov"], world.ids["a_v2.mov"]])
    undoer = world.undoer()
    report = undoer.apply(undoer.plan_unstack(account, stack.id), ASKER)
    assert statuses(report) == [("a_v1.mov", "moved"), ("a_v2.mov", "moved")]
    assert [code.code for code in decisions.for_file(world.redis, world.ids["a_v1.mov"])] == ["unstack"]


def test_unstack_of_a_missing_stack_is_refused(world: World) -> None:
    plan = world.undoer().plan_unstack(world.sandbox.account, "no-such-stack")
    assert plan.moves == () and [refusal.code for refusal in plan.refusals] == ["stack-gone"]


# -- what Frame.io does with an emptied stack ------------------------------------------------


@pytest.mark.parametrize("single_file_stack", ["survives", "dissolves"])
@pytest.mark.parametrize("emptied_stack", ["gone", "left_empty"])
def test_undo_of_a_create_under_each_emptied_stack_answer(
    world: World, emptied_stack: str, single_file_stack: str
) -> None:
    world.sandbox.configure(emptied_stack=emptied_stack, single_file_stack=single_file_stack)
    world.upload("a_v1.mov", "a_v2.mov")
    stack_id = world.stack("a_v1.mov")
    report = world.undo("a_v2.mov")
    dissolves = single_file_stack == "dissolves"
    assert statuses(report) == [("a_v2.mov", "moved"), ("a_v1.mov", "dissolved" if dissolves else "moved")]
    assert world.loose() == ["a_v1.mov", "a_v2.mov"]
    left_empty = emptied_stack == "left_empty" and not dissolves
    assert world.stacks() == ([[]] if left_empty else [])
    [fate] = report.fates
    assert (fate.stack_id, fate.fate) == (stack_id, "left-empty" if left_empty else "gone")
    if left_empty:
        assert "no endpoint to delete" in fate.detail
    assert not world.memory.is_known_stack(stack_id)


@pytest.mark.parametrize("single_file_stack", ["survives", "dissolves"])
def test_unstack_when_frameio_dissolves_a_stack_of_one(world: World, single_file_stack: str) -> None:
    world.sandbox.configure(single_file_stack=single_file_stack, emptied_stack="left_empty")
    world.upload("a_v1.mov", "a_v2.mov", "a_v3.mov")
    stack_id = world.stack("a_v1.mov")
    undoer = world.undoer()
    report = undoer.apply(undoer.plan_unstack(world.sandbox.account, stack_id), ASKER)
    last = "already-out" if single_file_stack == "dissolves" else "moved"
    assert statuses(report) == [("a_v1.mov", "moved"), ("a_v2.mov", "moved"), ("a_v3.mov", last)]
    assert world.held("a_v3.mov")  # asked for, even though Frame.io moved it
    assert [fate.fate for fate in report.fates] == ["gone" if single_file_stack == "dissolves" else "left-empty"]


# -- failures while applying -----------------------------------------------------------------


def test_a_move_that_happened_behind_a_server_error_is_not_made_twice(world: World) -> None:
    world.upload("a_v1.mov", "a_v2.mov", "a_v3.mov")
    world.stack("a_v1.mov")
    fault = {"endpoint": "move_file", "kind": "status", "status": 503, "phase": "after"}
    world.sandbox.http.post("/_sandbox/faults", json=fault).raise_for_status()
    report = world.undo("a_v3.mov")
    assert statuses(report) == [("a_v3.mov", "already-out")]
    assert len(world.sleeps) == 1 and world.sleeps[0] >= 30  # Frame.io asks for 30 s after a 5xx
    assert world.sandbox.calls("move_file") == 1
    assert world.held("a_v3.mov") and world.stacks() == [["a_v2.mov", "a_v1.mov"]]


def test_a_busy_group_stops_the_undo_before_it_writes(world: World) -> None:
    world.upload("a_v1.mov", "a_v2.mov")
    world.stack("a_v1.mov")
    undoer = world.undoer(wait_s=0.05)
    plan = undoer.plan_file(world.sandbox.account, world.ids["a_v2.mov"])
    locks = GroupLocks(world.redis, timeout_s=10, wait_s=0.05)
    with locks.hold(f"{world.sandbox.account}:{world.folder}:a"):
        report = undoer.apply(plan, ASKER)
    assert report.stopped and statuses(report) == [("a_v2.mov", "failed")]
    assert "being stacked" in report.steps[0].detail
    assert world.sandbox.calls("move_file") == 0 and not world.held("a_v2.mov")


def test_a_permanent_failure_stops_and_reports(world: World) -> None:
    world.upload("a_v1.mov", "a_v2.mov", "a_v3.mov")
    stack_id = world.stack("a_v1.mov")
    world.sandbox.http.post("/_sandbox/faults", json={"endpoint": "move_file", "kind": "status", "status": 403})
    undoer = world.undoer()
    report = undoer.apply(undoer.plan_unstack(world.sandbox.account, stack_id), ASKER)
    assert report.stopped and statuses(report) == [("a_v1.mov", "failed")]
    assert not world.held("a_v1.mov") and world.stacks() == [["a_v3.mov", "a_v2.mov", "a_v1.mov"]]


# -- held back -------------------------------------------------------------------------------


def test_a_hold_follows_the_name_and_is_cleared_by_a_person(redis_client: redis.Redis) -> None:
    holds = Holds(redis_client)
    holds.hold("f1", Hold("a_v2.mov", "alice", "wrong shot", 1.0))
    assert holds.is_held("f1", "a_v2.mov")
    assert not holds.is_held("f1", "a_v2_fixed.mov")  # renamed: cleared
    assert not holds.is_held("f2", "a_v2.mov")
    assert holds.clear("f1") == Hold("a_v2.mov", "alice", "wrong shot", 1.0)
    assert not holds.is_held("f1", "a_v2.mov") and holds.get("f1") is None


def test_held_back_files_are_neither_targets_nor_peers_of_a_folder_listing(redis_client: redis.Redis) -> None:
    holds = Holds(redis_client)
    files = [FileAsset(f"f{n}", f"a_v{n}.mov", "folder", "uploaded", "video/quicktime", "") for n in (1, 2, 3)]
    stack = StackAsset("s1", "b_v2.mov", "folder", None)
    holds.hold("f2", Hold("a_v2.mov", "alice", "", 1.0))
    holds.hold("f3", Hold("an_older_name.mov", "alice", "", 1.0))
    assert without_held(holds, [*files, stack]) == [files[0], files[2], stack]
    assert unheld_files(holds, [*files, stack]) == [files[0], files[2]]
    assert unheld_files(NoHolds(), files) == files


def test_an_undone_file_is_not_stacked_again_on_a_new_event(world: World) -> None:
    world.upload("a_v1.mov", "a_v2.mov")
    world.stack("a_v1.mov")
    world.undo("a_v2.mov")
    client = world.sandbox.client()
    again = Stacker(client, DEFAULT_RULES, Policy(), memory=world.memory).run(
        world.sandbox.account, world.ids["a_v2.mov"]
    )
    assert (again.status, again.code) == ("nothing", "held-back")
    world.upload("a_v3.mov")
    world.stack("a_v3.mov")  # a new upload stacks with a_v1, not with the held-back a_v2
    assert world.stacks() == [["a_v3.mov", "a_v1.mov"]] and world.loose() == ["a_v2.mov"]
    Holds(world.redis).clear(world.ids["a_v2.mov"])
    assert (
        Stacker(client, DEFAULT_RULES, Policy(), memory=world.memory)
        .run(world.sandbox.account, world.ids["a_v2.mov"])
        .status
        == "added"
    )


# -- the pure planner ------------------------------------------------------------------------


def _write(action: str, stack_id: str, *file_ids: str, at: float) -> Write:
    return Write(action, stack_id, "folder", file_ids, at)


def _state(stack_id: str, *members: tuple[str, Write | None], folder: str = "folder") -> StackState:
    return StackState(stack_id, stack_id, folder, tuple(StackMember(fid, fid, write) for fid, write in members), ("a",))


def test_take_out_sends_a_lone_last_file_back_too() -> None:
    create = _write("created", "s", "f1", "f2", "f3", at=1.0)
    state = _state("s", ("f1", create), ("f2", create), ("f3", create))
    moves, after = take_out("acc", state, ["f3", "f1"], "asked", last_too=True)
    assert [(move.file_id, move.why, move.left) for move in moves] == [
        ("f1", "asked", 2),
        ("f3", "asked", 1),
        ("f2", "last-of-stack", 0),
    ]
    assert after.members == () and [move.holds for move in moves] == [True, True, False]


def test_hand_made_changes() -> None:
    create = _write("created", "s", "f1", "f2", at=1.0)
    other = _write("created", "t", "f9", "f8", at=2.0)
    ours = _state("s", ("f1", create), ("f2", create))
    assert hand_made(create, ours, ("f2",)) is None
    assert hand_made(create, _state("s", ("f1", create), ("f2", create), folder="moved"), ()) is not None
    person = _state("s", ("f1", create), ("f2", create), ("f7", None))
    assert hand_made(create, person, ()) is not None
    from_another_stack = _state("s", ("f1", create), ("f2", create), ("f9", other))
    refusal = hand_made(create, from_another_stack, ())
    assert refusal is not None and refusal.code == "changed-by-hand"


def test_the_window_frees_a_lone_file_only_after_the_stacks_oldest_write() -> None:
    create = _write("created", "s", "f1", "f2", at=1.0)
    add = _write("added", "s", "f3", at=2.0)
    # A person took f2 out: after the add is undone, f1 is alone, but it is the create's, in the window.
    state = _state("s", ("f1", create), ("f3", add))
    plan = plan_window([JournalEntry("acc", add), JournalEntry("acc", create)], {"s": state})
    assert [(move.file_id, move.why) for move in plan.moves] == [("f3", "asked"), ("f1", "asked")]
    assert [refusal.code for refusal in plan.refusals] == ["not-in-stack"]  # f2


def test_a_file_stacked_again_since_is_left_to_its_newer_write() -> None:
    old = _write("created", "s", "f1", "f2", at=1.0)
    new = _write("added", "s", "f2", at=3.0)
    plan = plan_window([JournalEntry("acc", old)], {"s": _state("s", ("f1", old), ("f2", new))})
    assert [move.file_id for move in plan.moves] == ["f1", "f2"]
    assert [move.why for move in plan.moves] == ["asked", "last-of-stack"]
    assert [refusal.code for refusal in plan.refusals] == ["superseded"]


def test_bottom_to_top_reads_the_listing_from_the_head() -> None:
    files = [FileAsset(f"f{n}", f"a_v{n}.mov", "s", "uploaded", None, "") for n in (1, 2, 3)]
    assert [f.id for f in bottom_to_top(files, learn(files, "f3"))] == ["f1", "f2", "f3"]
    assert [f.id for f in bottom_to_top(files[::-1], learn(files[::-1], "f3"))] == ["f1", "f2", "f3"]
    assert [f.id for f in bottom_to_top(files, learn(files, None))] == ["f3", "f2", "f1"]
