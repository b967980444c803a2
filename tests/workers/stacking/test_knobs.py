"""The stacker under every value of the sandbox's knobs for answers Frame.io's docs leave open
(README "Undocumented answers"): each test fails if autostack relies on the kind answer."""

from __future__ import annotations

import contextlib

import pytest
import redis

from tests.workers.conftest import InProcessSandbox
from workers.frameio.errors import NotFound, StaleRead
from workers.frameio.models import StackAsset
from workers.frameio.platform import Platform
from workers.naming.parser import DEFAULT_RULES
from workers.stacking.memory import Memory
from workers.stacking.planner import Policy
from workers.stacking.stacker import Stacker


def stacker(sandbox: InProcessSandbox, **options: object) -> Stacker:
    return Stacker(sandbox.client(), DEFAULT_RULES, Policy(), **options)  # type: ignore[arg-type]


class SteppedClock:
    """The sandbox's read-lag clock, moved by the test (no sleeping)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def lagging(sandbox: InProcessSandbox, lag_ms: float = 2000.0) -> SteppedClock:
    sandbox.configure(read_lag_ms=lag_ms)
    clock = SteppedClock()
    sandbox.http.app.state.sandbox.clock = clock  # type: ignore[attr-defined]
    return clock


def stack_of_two_then_a_late_version(sandbox: InProcessSandbox, make: Stacker | None = None) -> str:
    """a_v1 and a_v3 stacked, then a_v2 (which needs a reorder when it lands at the bottom)."""
    folder = sandbox.folder("f")
    first = sandbox.upload(folder, "a_v1.mov")
    sandbox.upload(folder, "a_v3.mov")
    assert (make or stacker(sandbox)).run(sandbox.account, first).status == "stacked"
    outcome = (make or stacker(sandbox)).run(sandbox.account, sandbox.upload(folder, "a_v2.mov"))
    assert outcome.status == "added", outcome.reason
    return folder


@pytest.mark.parametrize("required", [False, True])
def test_reorder_works_whether_or_not_frameio_wants_the_experimental_header(
    sandbox: InProcessSandbox, required: bool
) -> None:
    sandbox.configure(reorder_requires_experimental=required, move_lands="bottom")
    folder = stack_of_two_then_a_late_version(sandbox)
    assert sandbox.calls("reorder_stack") == 1
    assert sandbox.stacks(folder) == [["a_v3.mov", "a_v2.mov", "a_v1.mov"]]


def test_a_platform_known_not_to_need_the_header_omits_it(sandbox: InProcessSandbox) -> None:
    sandbox.configure(reorder_requires_experimental=True, move_lands="bottom")
    client = sandbox.client()
    client.platform = Platform(reorder_needs_experimental=False)  # wrong on purpose: the header is left out
    with pytest.raises(NotFound):
        stack_of_two_then_a_late_version(sandbox, Stacker(client, DEFAULT_RULES, Policy()))


@pytest.mark.parametrize("type_list", ["honoured", "refused_422", "first_only"])
def test_a_later_version_joins_its_stack_whatever_frameio_does_with_a_type_list(
    sandbox: InProcessSandbox, type_list: str
) -> None:
    sandbox.configure(type_list=type_list)
    folder = stack_of_two_then_a_late_version(sandbox)
    assert sandbox.calls("create_stack") == 1
    assert sandbox.stacks(folder) == [["a_v3.mov", "a_v2.mov", "a_v1.mov"]]


@pytest.mark.parametrize("type_list", ["honoured", "refused_422", "first_only"])
def test_a_listing_of_several_types_holds_each_of_them(sandbox: InProcessSandbox, type_list: str) -> None:
    sandbox.configure(type_list=type_list)
    folder = sandbox.folder("f")
    sandbox.upload(folder, "loose_v1.mov")
    first = sandbox.upload(folder, "a_v1.mov")
    sandbox.upload(folder, "a_v2.mov")
    stacker(sandbox).run(sandbox.account, first)
    sandbox.http.post(
        f"/v4/accounts/{sandbox.account}/folders/{folder}/folders",
        json={"data": {"name": "sub"}},
        headers=sandbox.auth(),
    ).raise_for_status()
    client = sandbox.client()
    kinds = sorted(type(asset).__name__ for asset in client.list_folder_children(sandbox.account, folder))
    assert kinds == ["FileAsset", "StackAsset"]
    every = client.list_folder_children(sandbox.account, folder, types="file,version_stack,folder")
    assert sorted(type(asset).__name__ for asset in every) == ["FileAsset", "FolderAsset", "StackAsset"]
    assert [type(a).__name__ for a in client.list_folder_children(sandbox.account, folder, types="folder")] == [
        "FolderAsset"
    ]


@pytest.mark.parametrize("children_order", ["top_first", "bottom_first"])
@pytest.mark.parametrize("move_lands", ["bottom", "top"])
def test_without_any_head_version_the_order_is_learned_from_a_stack_autostack_created(
    sandbox: InProcessSandbox, redis_client: redis.Redis, children_order: str, move_lands: str
) -> None:
    sandbox.configure(
        head_version_in_listings=False,
        head_version_in_show_stack=False,
        children_order=children_order,
        move_lands=move_lands,
    )
    memory = Memory(redis_client)  # each run is a job of its own, as in production
    folder = sandbox.folder("f")
    ids = {name: sandbox.upload(folder, name) for name in ("a_v1.mov", "a_v3.mov")}
    assert stacker(sandbox, memory=memory).run(sandbox.account, ids["a_v1.mov"]).status == "stacked"
    for name in ("a_v4.mov", "a_v2.mov", "a_v5.mov"):
        outcome = stacker(sandbox, memory=memory).run(sandbox.account, sandbox.upload(folder, name))
        assert outcome.status == "added", outcome.reason
    sandbox.configure(children_order="top_first")
    assert sandbox.stacks(folder) == [["a_v5.mov", "a_v4.mov", "a_v3.mov", "a_v2.mov", "a_v1.mov"]]
    assert memory.children_order() == children_order


def test_a_children_order_the_platform_knows_is_used_without_learning(sandbox: InProcessSandbox) -> None:
    sandbox.configure(head_version_in_listings=False, head_version_in_show_stack=False, children_order="bottom_first")
    folder = sandbox.folder("f")
    ids = [sandbox.upload(folder, name) for name in ("a_v1.mov", "a_v3.mov")]
    sandbox.client().create_stack(sandbox.account, folder, ids)  # a person's stack: nothing to learn from
    known = Platform(children_order="bottom_first")
    outcome = stacker(sandbox, platform=known).run(sandbox.account, sandbox.upload(folder, "a_v2.mov"))
    assert outcome.status == "added", outcome.reason
    sandbox.configure(children_order="top_first")
    assert sandbox.stacks(folder) == [["a_v3.mov", "a_v2.mov", "a_v1.mov"]]


@pytest.mark.parametrize("status", ["404", "400", "422"])
def test_a_file_whose_parent_is_a_stack_is_already_stacked_whatever_a_folder_call_answers(
    sandbox: InProcessSandbox, status: str
) -> None:
    sandbox.configure(stack_as_folder=status)
    folder = sandbox.folder("f")
    ids = [sandbox.upload(folder, name) for name in ("a_v1.mov", "a_v2.mov")]
    sandbox.client().create_stack(sandbox.account, folder, ids)  # a person's stack
    outcome = stacker(sandbox).run(sandbox.account, ids[0])
    assert (outcome.status, outcome.code) == ("nothing", "already-stacked")


def test_a_file_newer_than_what_lagging_reads_show_is_read_again_not_given_up(sandbox: InProcessSandbox) -> None:
    lagging(sandbox)
    folder = sandbox.folder("f")
    other = [sandbox.upload(folder, name) for name in ("b_v1.mov", "b_v2.mov")]
    sandbox.client().create_stack(sandbox.account, folder, other)  # a write: reads lag for 2 s
    late = sandbox.upload(folder, "a_v1.mov")
    with pytest.raises(StaleRead) as lagged:
        stacker(sandbox).run(sandbox.account, late)
    assert lagged.value.status == 404
    with pytest.raises(NotFound):  # where reads are known not to lag, not found is final
        stacker(sandbox, platform=Platform(read_lag_ms=0)).run(sandbox.account, late)


def test_under_lagging_reads_a_group_converges_to_one_stack_in_order_with_one_create(
    sandbox: InProcessSandbox, redis_client: redis.Redis
) -> None:
    clock = lagging(sandbox)
    memory = Memory(redis_client, listing_ttl_s=0)
    folder = sandbox.folder("f")
    v1, v2 = (sandbox.upload(folder, name) for name in ("a_v1.mov", "a_v2.mov"))
    other = [sandbox.upload(folder, name) for name in ("b_v1.mov", "b_v2.mov")]
    sandbox.client().create_stack(sandbox.account, folder, other)  # reads now show the world before it
    v3 = sandbox.upload(folder, "a_v3.mov")
    clock.now += 1.0
    assert stacker(sandbox, memory=memory).run(sandbox.account, v1).status == "stacked"  # v1 and v2: v3 unseen
    clock.now += 1.5  # the first write is old enough to show; the create is not
    with pytest.raises(StaleRead):  # the listing shows v1, v2, v3 loose: Frame.io refuses that create
        stacker(sandbox, memory=memory).run(sandbox.account, v3)
    clock.now += 2.0
    with pytest.raises(StaleRead):  # v3 moved in; its read-back is too early to show it
        stacker(sandbox, memory=memory).run(sandbox.account, v3)
    clock.now += 2.0
    with pytest.raises(StaleRead):  # v3 shows, at the bottom: reordered, but the new order cannot show yet
        stacker(sandbox, memory=memory).run(sandbox.account, v3)
    clock.now += 2.0
    settled = stacker(sandbox, memory=memory).run(sandbox.account, v3)  # the order shows: settled
    assert (settled.status, settled.code) == ("nothing", "settled")
    assert sorted(sandbox.stacks(folder)) == [["a_v3.mov", "a_v2.mov", "a_v1.mov"], ["b_v2.mov", "b_v1.mov"]]
    assert v2 not in {file["id"] for file in sandbox.tree(folder)["files"]}


def test_a_stack_a_listing_shows_but_a_lagging_read_does_not_is_read_again_not_a_failure(
    sandbox: InProcessSandbox, redis_client: redis.Redis
) -> None:
    folder = sandbox.folder("f")
    ids = [sandbox.upload(folder, name) for name in ("a_v1.mov", "a_v2.mov", "a_v3.mov")]
    files = {asset.id: asset for asset in sandbox.client().list_folder_children(sandbox.account, folder)}
    clock = lagging(sandbox)
    stack = sandbox.client().create_stack(sandbox.account, folder, ids[:2])  # reads now lag this create
    view = [files[ids[2]], StackAsset(stack.id, "a_v2.mov", folder, None)]  # as the drain's own listing has it
    with pytest.raises(StaleRead):  # the stack's children answer 404 in a read that lags its creation
        stacker(sandbox).stack_listed(sandbox.account, files[ids[2]], view)  # type: ignore[arg-type]
    memory = Memory(redis_client, listing_ttl_s=0)
    for _ in range(6):  # the file's own job, as RQ runs it again: each write is followed by a lagging read
        clock.now += 2.5
        try:
            stacker(sandbox, memory=memory).run(sandbox.account, ids[2])
        except StaleRead:
            continue
    assert sandbox.stacks(folder) == [["a_v3.mov", "a_v2.mov", "a_v1.mov"]]


def test_when_reads_are_known_not_to_lag_a_missing_stack_is_a_permanent_answer(sandbox: InProcessSandbox) -> None:
    folder = sandbox.folder("f")
    file = sandbox.upload(folder, "a_v2.mov")
    ghost = StackAsset("no-such-stack", "a_v1.mov", folder, None)
    listed = [*sandbox.client().list_folder_children(sandbox.account, folder), ghost]
    target = next(asset for asset in listed if asset.id == file)
    with pytest.raises(NotFound):
        stacker(sandbox, platform=Platform(read_lag_ms=0)).stack_listed(sandbox.account, target, listed)  # type: ignore[arg-type]


def test_a_file_autostack_moved_is_not_moved_again_by_a_job_whose_reads_lag_the_move(
    sandbox: InProcessSandbox, redis_client: redis.Redis
) -> None:
    """A second delivery of the same upload, while reads still show the file loose beside its stack."""
    clock = lagging(sandbox)
    memory = Memory(redis_client, listing_ttl_s=0)
    folder = sandbox.folder("f")
    first = sandbox.upload(folder, "a_v1.mov")
    sandbox.upload(folder, "a_v2.mov")
    assert stacker(sandbox, memory=memory).run(sandbox.account, first).status == "stacked"
    clock.now += 3.0  # the create shows
    v3 = sandbox.upload(folder, "a_v3.mov")
    with pytest.raises(StaleRead):  # moved in; the read-back cannot show it yet
        stacker(sandbox, memory=memory).run(sandbox.account, v3)
    with pytest.raises(StaleRead):  # reads still show v3 loose: it waits for them, and does not move again
        stacker(sandbox, memory=memory).run(sandbox.account, v3)
    assert sandbox.calls("move_file") == 1
    for _ in range(3):  # the file's own job, as RQ runs it again until the order shows
        clock.now += 3.0
        with contextlib.suppress(StaleRead):
            stacker(sandbox, memory=memory).run(sandbox.account, v3)
    assert sandbox.stacks(folder) == [["a_v3.mov", "a_v2.mov", "a_v1.mov"]]
    assert sandbox.calls("move_file") == 1
