"""The drain on the in-process sandbox and a real Redis: what it stacks, what it costs in calls,
and what it hands to per-file jobs."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
import redis
from rq import Queue

from tests.inprocess_sandbox import InProcessSandbox
from workers import decisions
from workers.frameio.ratelimit import RateLimiter
from workers.ingest.drain import Drain
from workers.ingest.inbox import FLAG_KEY, Inbox
from workers.ingest.queue import DRAIN_PREFIX as JOB_PREFIX
from workers.ingest.queue import enqueue_drain
from workers.naming.rules import rulebook_from_toml
from workers.runtime import Runtime
from workers.settings import load_settings
from workers.stacking.pauses import Pauses

EVENT = "file.upload.completed"


def make_runtime(sandbox: InProcessSandbox, redis_url: str, **env: str) -> Runtime:
    environment = {
        "REDIS_URL": redis_url,
        "FRAMEIO_TOKEN": sandbox.state["token"],
        "FRAMEIO_BASE_URL": "http://sandbox",
        "AUTOSTACK_COALESCE_WINDOW_S": "0",
        **env,
    }
    return Runtime(load_settings(environment), transport=sandbox.transport())


@pytest.fixture
def rt(sandbox: InProcessSandbox, redis_url: str, redis_client: redis.Redis) -> Runtime:
    return make_runtime(sandbox, redis_url)


def deliver(rt: Runtime, sandbox: InProcessSandbox, *file_ids: str) -> Inbox:
    inbox = Inbox(rt.redis(), sandbox.account)
    for file_id in file_ids:
        inbox.accept(file_id, EVENT, 3600)
    return inbox


def drain(rt: Runtime, sandbox: InProcessSandbox) -> str:
    return Drain(rt, sandbox.account, lambda: True).run()


def reset_calls(sandbox: InProcessSandbox) -> None:
    sandbox.http.post("/_sandbox/calls/reset").raise_for_status()


def final(rt: Runtime, file_id: str) -> decisions.Decision:
    found = [decision for decision in decisions.for_file(rt.redis(), file_id) if decision.outcome != "waiting"]
    assert found, f"no final decision for {file_id}"
    return found[-1]


def queued_files(rt: Runtime) -> set[Any]:
    queue = Queue(rt.settings.autostack_queue, connection=rt.redis())
    jobs = [queue.fetch_job(job_id) for job_id in queue.get_job_ids()]
    scheduled = [queue.fetch_job(job_id) for job_id in queue.scheduled_job_registry.get_job_ids()]
    return {job.args[1] for job in jobs + scheduled if job is not None and len(job.args) > 1}


def test_a_burst_in_one_folder_costs_one_read_one_listing_and_one_create_per_group(
    rt: Runtime, sandbox: InProcessSandbox
) -> None:
    folder = sandbox.folder("burst")
    names = [f"sh{shot}_comp_v00{version}.mov" for shot in (10, 20, 30) for version in (3, 1, 2)]
    names += ["A004C010_20230610_R1JL.mov", "notes.mov"]
    ids = {name: sandbox.upload(folder, name) for name in names}
    reset_calls(sandbox)
    inbox = deliver(rt, sandbox, *ids.values())

    assert drain(rt, sandbox) == "drained"

    assert sorted(sandbox.stacks(folder)) == [
        [f"sh{shot}_comp_v00{version}.mov" for version in (3, 2, 1)] for shot in (10, 20, 30)
    ]
    assert sorted(file["name"] for file in sandbox.tree(folder)["files"]) == ["A004C010_20230610_R1JL.mov", "notes.mov"]
    counts = {endpoint: sandbox.calls(endpoint) for endpoint in ("show_file", "list_folder_children", "create_stack")}
    assert counts == {"show_file": 1, "list_folder_children": 1, "create_stack": 3}
    assert sandbox.calls("list_stack_children") == 0  # a create's answer names its head: no read-back
    assert final(rt, ids["notes.mov"]).code == "no-token"
    assert final(rt, ids["A004C010_20230610_R1JL.mov"]).code == "camera-original"
    assert {final(rt, ids[f"sh10_comp_v00{version}.mov"]).outcome for version in (1, 2, 3)} == {"stacked"}
    assert inbox.size() == 0
    assert inbox.accept("later", EVENT, 3600).queue_drain  # the drain let its flag go


def test_a_later_version_is_found_by_reading_the_folder_newest_first(rt: Runtime, sandbox: InProcessSandbox) -> None:
    folder = sandbox.folder("growing")
    for index in range(150):  # older files: a full listing is two pages
        sandbox.upload(folder, f"broll_take{index}.mov")
    first = [sandbox.upload(folder, f"tease_v{version}.mov") for version in (1, 2)]
    inbox = deliver(rt, sandbox, *first)
    worker = Drain(rt, sandbox.account, lambda: True)
    worker.step(inbox.snapshot(100))
    assert sandbox.stacks(folder) == [["tease_v2.mov", "tease_v1.mov"]]

    reset_calls(sandbox)
    later = sandbox.upload(folder, "tease_v3.mov")
    deliver(rt, sandbox, later)
    worker.step(inbox.snapshot(100))

    assert sandbox.stacks(folder) == [["tease_v3.mov", "tease_v2.mov", "tease_v1.mov"]]
    assert sandbox.calls("list_folder_children") == 1  # one page, newest first, held v3 and known files
    assert sandbox.calls("show_file") == 0
    assert final(rt, later).outcome == "added"


def drain_a_file_listed_mid_upload(rt: Runtime, sandbox: InProcessSandbox) -> str:
    """mid_v1.mov is drained while the folder lists mid_v2.mov mid-upload; then v2's upload ends
    and its delivery is drained by the same drain. Returns the folder; the sandbox's call counts
    are those of v2's step alone."""
    folder = sandbox.folder("mid-upload")
    v1 = sandbox.upload(folder, "mid_v1.mov")
    answer = sandbox.http.post(
        "/_sandbox/upload", json={"folder_id": folder, "name": "mid_v2.mov", "stop_at": "created"}
    )
    v2 = answer.json()["data"]["id"]
    inbox = deliver(rt, sandbox, v1)
    worker = Drain(rt, sandbox.account, lambda: True)
    worker.step(inbox.snapshot(100))  # lists the folder: v2 is there, its upload not finished
    sandbox.http.post(f"/_sandbox/files/{v2}/advance", json={"to": "uploaded"}).raise_for_status()
    reset_calls(sandbox)
    deliver(rt, sandbox, v2)
    worker.step(inbox.snapshot(100))
    return folder


def test_a_file_listed_mid_upload_is_taken_as_uploaded_once_its_upload_event_comes(
    rt: Runtime, sandbox: InProcessSandbox
) -> None:
    folder = drain_a_file_listed_mid_upload(rt, sandbox)

    assert sandbox.stacks(folder) == [["mid_v2.mov", "mid_v1.mov"]]
    assert sandbox.calls("show_file") == 0
    assert sandbox.calls("list_folder_children") == 0


def test_a_file_whose_upload_has_not_finished_is_handed_to_a_job_of_its_own(
    rt: Runtime, sandbox: InProcessSandbox
) -> None:
    folder = sandbox.folder("unfinished")
    answer = sandbox.http.post("/_sandbox/upload", json={"folder_id": folder, "name": "x_v1.mov", "stop_at": "created"})
    placeholder = answer.json()["data"]["id"]
    inbox = deliver(rt, sandbox, placeholder)

    assert drain(rt, sandbox) == "drained"

    assert queued_files(rt) == {placeholder}
    assert inbox.size() == 0


def test_a_read_that_fails_hands_that_file_to_its_own_job_and_the_drain_goes_on(
    rt: Runtime, sandbox: InProcessSandbox
) -> None:
    folder = sandbox.folder("flaky")
    ids = [sandbox.upload(folder, f"flaky_v{version}.mov") for version in (1, 2)]
    inbox = deliver(rt, sandbox, *ids)
    fault = {"endpoint": "list_folder_children", "kind": "status", "status": 503}
    sandbox.http.post("/_sandbox/faults", json=fault).raise_for_status()

    assert drain(rt, sandbox) == "drained"

    assert queued_files(rt) == {ids[0]}  # its folder's listing failed: its own job reads it again later
    assert sandbox.stacks(folder) == [["flaky_v2.mov", "flaky_v1.mov"]]  # v2's read listed the folder
    assert inbox.size() == 0


def test_a_429_makes_the_whole_drain_wait_and_keeps_every_entry(rt: Runtime, sandbox: InProcessSandbox) -> None:
    folder = sandbox.folder("limited")
    ids = [sandbox.upload(folder, f"limited_v{version}.mov") for version in (1, 2)]
    inbox = deliver(rt, sandbox, *ids)
    fault = {"endpoint": "show_file", "kind": "status", "status": 429}
    sandbox.http.post("/_sandbox/faults", json=fault).raise_for_status()

    assert drain(rt, sandbox) == "again"

    assert inbox.size() == 2
    queue = Queue(rt.settings.autostack_queue, connection=rt.redis())
    assert [job_id for job_id in queue.scheduled_job_registry.get_job_ids() if job_id.startswith(JOB_PREFIX)]
    assert queued_files(rt) == set()


def test_a_5xx_on_create_hands_the_group_to_its_own_jobs_and_nothing_is_stacked_twice(
    rt: Runtime, sandbox: InProcessSandbox
) -> None:
    folder = sandbox.folder("create-fails")
    ids = [sandbox.upload(folder, f"boom_v{version}.mov") for version in (1, 2)]
    inbox = deliver(rt, sandbox, *ids)
    fault = {"endpoint": "create_stack", "kind": "status", "status": 503, "phase": "after"}
    sandbox.http.post("/_sandbox/faults", json=fault).raise_for_status()

    assert drain(rt, sandbox) == "drained"

    assert len(sandbox.stacks(folder)) == 1  # the create happened; its answer was lost
    assert queued_files(rt) == set(ids)  # their own jobs re-read before they write
    assert inbox.size() == 0


def test_a_folder_outside_the_scope_is_left_alone_with_its_reason(
    sandbox: InProcessSandbox, redis_url: str, redis_client: redis.Redis
) -> None:
    inside, outside = sandbox.folder("Dailies"), sandbox.folder("Archive")
    rt = make_runtime(sandbox, redis_url, AUTOSTACK_FOLDERS="/Dailies")
    kept = [sandbox.upload(inside, f"in_v{version}.mov") for version in (1, 2)]
    left = [sandbox.upload(outside, f"out_v{version}.mov") for version in (1, 2)]
    deliver(rt, sandbox, *kept, *left)

    assert drain(rt, sandbox) == "drained"

    assert len(sandbox.stacks(inside)) == 1
    assert sandbox.stacks(outside) == []
    assert {final(rt, file_id).code for file_id in left} == {"out-of-scope"}


def test_a_dry_run_writes_nothing_and_says_what_it_would_do(
    sandbox: InProcessSandbox, redis_url: str, redis_client: redis.Redis
) -> None:
    folder = sandbox.folder("dry")
    rt = make_runtime(sandbox, redis_url, AUTOSTACK_DRY_RUN="true")
    ids = [sandbox.upload(folder, f"dry_v{version}.mov") for version in (1, 2, 3)]
    deliver(rt, sandbox, *ids)

    assert drain(rt, sandbox) == "drained"

    assert sandbox.stacks(folder) == []
    assert sandbox.calls("create_stack") == 0
    assert {final(rt, file_id).code for file_id in ids} == {"dry-run"}


def pair_in_a_long_window(
    sandbox: InProcessSandbox, redis_url: str, name: str
) -> tuple[Runtime, str, list[str], Inbox]:
    """Two versions delivered to a runtime whose coalescing window is 30 s."""
    folder = sandbox.folder(name)
    rt = make_runtime(sandbox, redis_url, AUTOSTACK_COALESCE_WINDOW_S="30")
    ids = [sandbox.upload(folder, f"{name}_v{version}.mov") for version in (1, 2)]
    return rt, folder, ids, deliver(rt, sandbox, *ids)


def test_a_group_still_arriving_waits_its_window(
    sandbox: InProcessSandbox, redis_url: str, redis_client: redis.Redis
) -> None:
    rt, folder, _, inbox = pair_in_a_long_window(sandbox, redis_url, "win")

    assert drain(rt, sandbox) == "again"  # handed back to RQ's scheduler, not slept on

    assert sandbox.stacks(folder) == []
    assert inbox.size() == 2


def test_a_drain_past_its_budget_hands_over_to_a_fresh_job_behind_other_accounts(
    rt: Runtime, sandbox: InProcessSandbox
) -> None:
    folder = sandbox.folder("f")
    deliver(rt, sandbox, *[sandbox.upload(folder, f"sh{n:03d}_v001.mov") for n in range(3)])
    queue = Queue(rt.settings.autostack_queue, connection=rt.redis())
    enqueue_drain(queue, "another-account", rt.settings)  # its webhooks came while this drain ran
    assert Drain(rt, sandbox.account, lambda: True, budget_s=0.0).run() == "again"
    jobs = [queue.fetch_job(job_id) for job_id in queue.get_job_ids()]
    assert [job.args[0] for job in jobs if job is not None] == ["another-account", sandbox.account]
    assert rt.redis().exists(FLAG_KEY.format(account=sandbox.account))  # the web tier queues no second drain


def test_the_next_drain_of_the_account_starts_from_the_listing_the_last_one_left(
    sandbox: InProcessSandbox, redis_url: str, redis_client: redis.Redis
) -> None:
    folder = sandbox.folder("long-waits")
    for index in range(150):  # a full listing is two pages
        sandbox.upload(folder, f"broll_take{index}.mov")
    rt = make_runtime(sandbox, redis_url, AUTOSTACK_COALESCE_WINDOW_S="30")
    inbox = deliver(rt, sandbox, *[sandbox.upload(folder, f"wait_v{version}.mov") for version in (1, 2)])
    assert drain(rt, sandbox) == "again"  # the window: handed back, its listing left behind
    reset_calls(sandbox)

    deliver(rt, sandbox, sandbox.upload(folder, "wait_v3.mov"))
    assert drain(rt, sandbox) == "again"

    # the newest page only (it holds v3 and files already known): no file read, no whole listing
    assert (sandbox.calls("list_folder_children"), sandbox.calls("show_file")) == (1, 0)
    rt = make_runtime(sandbox, redis_url)  # the window closes
    assert drain(rt, sandbox) == "drained"
    assert sandbox.stacks(folder) == [["wait_v3.mov", "wait_v2.mov", "wait_v1.mov"]]
    assert inbox.size() == 0


def test_a_folder_paused_between_two_drains_is_left_alone_by_the_next_one(
    sandbox: InProcessSandbox, redis_url: str, redis_client: redis.Redis
) -> None:
    rt, folder, ids, _ = pair_in_a_long_window(sandbox, redis_url, "held")
    assert drain(rt, sandbox) == "again"
    Pauses(rt.redis()).pause(folder, "frameio-user:u1", 0.0)

    assert drain(make_runtime(sandbox, redis_url), sandbox) == "drained"

    assert sandbox.stacks(folder) == []
    assert {final(rt, file_id).code for file_id in ids} == {"paused"}


def test_a_drain_does_not_sleep_on_a_window_while_another_accounts_drain_waits_for_a_worker(
    sandbox: InProcessSandbox, redis_url: str, redis_client: redis.Redis
) -> None:
    folder = sandbox.folder("shared-worker")
    rt = make_runtime(sandbox, redis_url, AUTOSTACK_COALESCE_WINDOW_S="1")
    inbox = deliver(rt, sandbox, *[sandbox.upload(folder, f"turn_v{version}.mov") for version in (1, 2)])
    queue = Queue(rt.settings.autostack_queue, connection=rt.redis())
    enqueue_drain(queue, "another-account", rt.settings)

    assert drain(rt, sandbox) == "again"  # the worker goes to the other account; this one comes back

    assert [job.args[0] for job in map(queue.fetch_job, queue.get_job_ids()) if job] == ["another-account"]
    assert queue.scheduled_job_registry.count == 1  # this account's drain, when its window closes
    assert sandbox.stacks(folder) == [] and inbox.size() == 2


def test_a_drain_does_not_sleep_on_the_limiter_while_another_accounts_drain_waits_for_a_worker(
    sandbox: InProcessSandbox, redis_url: str, redis_client: redis.Redis
) -> None:
    scale = 1 / 6  # a create every second once the bucket's burst is spent: short of an inline wait
    sandbox.configure(rate_window_scale=scale)
    folder = sandbox.folder("no-inline-wait")
    rt = make_runtime(sandbox, redis_url, AUTOSTACK_RATE_WINDOW_SCALE=repr(scale))
    limiter = RateLimiter(rt.redis(), window_scale=scale)
    while limiter.take(sandbox.account, "create_stack") == 0.0:
        pass  # another worker spent the account's burst
    ids = [sandbox.upload(folder, f"sh{shot}_v{version}.mov") for shot in (10, 20) for version in (1, 2)]
    inbox = deliver(rt, sandbox, *ids)
    queue = Queue(rt.settings.autostack_queue, connection=rt.redis())
    enqueue_drain(queue, "another-account", rt.settings)

    assert drain(rt, sandbox) == "again"  # the bucket's wait: handed back to RQ, not slept on

    assert sandbox.calls("create_stack") == 0 and inbox.size() == 4
    assert queue.scheduled_job_registry.count == 1  # this account's drain, when the bucket allows


def test_each_folder_is_decided_with_its_scope_and_the_decision_names_it(
    sandbox: InProcessSandbox, redis_url: str, redis_client: redis.Redis
) -> None:
    rules = rulebook_from_toml("[[scope]]\nname = 'german'\nfolders = ['/Werbung']\nversion_words = ['Fassung']\n")
    rt = replace(make_runtime(sandbox, redis_url), rules=rules)
    german, other = sandbox.folder("Werbung"), sandbox.folder("Promos")
    ids = [
        sandbox.upload(folder, name) for folder in (german, other) for name in ("a_Fassung_1.mov", "a_Fassung_2.mov")
    ]
    deliver(rt, sandbox, *ids)

    assert drain(rt, sandbox) == "drained"

    assert sandbox.stacks(german) == [["a_Fassung_2.mov", "a_Fassung_1.mov"]]
    assert sandbox.stacks(other) == []
    assert [(final(rt, i).outcome, final(rt, i).scope) for i in ids] == [
        ("stacked", "german"),
        ("stacked", "german"),
        ("declined", "global"),
        ("declined", "global"),
    ]
