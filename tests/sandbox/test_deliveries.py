"""Webhook deliveries: signatures, payloads, events, retries and backoff, duplicates, reorders."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest

from service.processes import wait_until
from tests.sandbox.conftest import Receiver, Sandbox, verify_signature

FILE_EVENTS = ["file.created", "file.upload.completed", "file.ready", "file.updated", "file.deleted", "file.versioned"]


def _settled(sandbox: Sandbox, count: int, **filters: str) -> list[dict[str, Any]]:
    """Wait until ``count`` deliveries (matching ``filters``) are no longer pending."""

    def done() -> bool:
        found = sandbox.deliveries(**filters)
        return len(found) >= count and all(d["state"] != "pending" for d in found)

    wait_until(done, 15, what=f"{count} settled deliveries for {filters}")
    return sandbox.deliveries(**filters)


def test_deliveries_are_signed_and_shaped_as_documented(sandbox: Sandbox, receiver: Receiver) -> None:
    hook = sandbox.webhook(receiver.url, ["file.created", "file.upload.completed", "file.ready"])
    file_id = sandbox.upload("sig_v001.mov")["id"]
    wait_until(lambda: len(receiver.types_for(file_id)) == 3, 10, what="three deliveries")
    assert receiver.types_for(file_id)[-1] == "file.ready"
    for request in receiver.requests:
        assert verify_signature(hook["secret"], request.headers, request.body)
        assert not verify_signature("another-secret", request.headers, request.body)
        assert request.headers["user-agent"] == "Frame.io V4 API"
        assert request.headers["content-type"] == "application/json"
        body = request.json()
        assert set(body) == {"account", "project", "resource", "type", "user", "workspace"}
        assert body["account"] == {"id": sandbox.account}
        assert body["workspace"] == {"id": sandbox.state["workspace_id"]}
        assert body["project"] == {"id": sandbox.state["project_id"]}
        assert body["resource"] == {"id": file_id, "type": "file"}
        assert body["user"] == {"id": sandbox.state["uploader_user_id"]}


def test_file_created_arrives_before_the_upload_completes(sandbox: Sandbox, receiver: Receiver) -> None:
    sandbox.webhook(receiver.url, ["file.created", "file.upload.completed"])
    file_id = sandbox.upload("early.mov", stop_at="created")["id"]
    wait_until(lambda: receiver.types_for(file_id) == ["file.created"], 10, what="file.created")
    assert sandbox.api("GET", f"/files/{file_id}").json()["data"]["status"] == "created"


def test_api_calls_emit_events_as_the_token_user(sandbox: Sandbox, receiver: Receiver) -> None:
    sandbox.webhook(receiver.url, ["file.versioned", "file.updated", "file.deleted"])
    ids = [sandbox.upload(f"ev_v00{n}.mov")["id"] for n in (1, 2, 3)]
    stack = sandbox.stack(sandbox.root, ids[:2])["id"]
    sandbox.api("PATCH", f"/files/{ids[2]}/move", json={"data": {"parent_id": stack}})
    sandbox.api(
        "PATCH", f"/version_stacks/{stack}/versions", json={"data": {"target_file_id": ids[2], "move_to": "top"}}
    )
    sandbox.api("PATCH", f"/files/{ids[0]}", json={"data": {"name": "ev_v001b.mov"}})
    sandbox.api("PATCH", f"/files/{ids[1]}/move", json={"data": {"parent_id": sandbox.root}})
    sandbox.api("DELETE", f"/files/{ids[1]}")
    expected = {
        ids[0]: ["file.versioned", "file.updated"],
        ids[1]: ["file.versioned", "file.versioned", "file.deleted"],
        ids[2]: ["file.versioned", "file.versioned"],
    }
    wait_until(lambda: sum(len(receiver.types_for(i)) for i in ids) == 7, 10, what="seven deliveries")
    for file_id, types in expected.items():
        assert sorted(receiver.types_for(file_id)) == sorted(types)
    assert {r.json()["user"]["id"] for r in receiver.requests} == {sandbox.state["user_id"]}


@pytest.mark.parametrize(("noop_event", "expected"), [(True, 1), (False, 0)])
def test_reorder_event_on_noop_knob(
    make_sandbox: Callable[..., Sandbox], receiver: Receiver, noop_event: bool, expected: int
) -> None:
    sandbox = make_sandbox(reorder_event_on_noop=noop_event)
    sandbox.webhook(receiver.url, ["file.versioned"])
    ids = [sandbox.upload(f"no_v00{n}.mov")["id"] for n in (1, 2)]
    stack = sandbox.stack(sandbox.root, ids)["id"]
    _settled(sandbox, 2)
    body = {"data": {"target_file_id": ids[1], "move_to": "top"}}
    assert sandbox.api("PATCH", f"/version_stacks/{stack}/versions", json=body).status_code == 200
    sandbox.upload("marker.mov")  # a later event that is not subscribed, then settle everything
    assert len(_settled(sandbox, 2 + expected)) == 2 + expected


def test_only_subscribed_events_of_active_hooks_are_delivered(sandbox: Sandbox, receiver: Receiver) -> None:
    sandbox.webhook(receiver.url, ["file.ready"])
    quiet = sandbox.webhook(receiver.url + "/quiet", FILE_EVENTS)
    sandbox.api("PATCH", f"/webhooks/{quiet['id']}", json={"data": {"active": False}})
    file_id = sandbox.upload("only_ready.mov")["id"]
    wait_until(lambda: receiver.types_for(file_id) == ["file.ready"], 10, what="file.ready")
    assert [d["event_type"] for d in _settled(sandbox, 1)] == ["file.ready"]
    assert all(r.path == "/hook" for r in receiver.requests)


def _gaps(delivery: dict[str, Any]) -> list[float]:
    times = [attempt["at"] for attempt in delivery["attempts"]]
    return [later - earlier for earlier, later in itertools.pairwise(times)]


@pytest.mark.parametrize("scale", [0.01, 0.02])
def test_retries_back_off_exponentially_from_15_s_scaled(
    make_sandbox: Callable[..., Sandbox], receiver: Receiver, scale: float
) -> None:
    sandbox = make_sandbox(delivery_time_scale=scale)
    receiver.answer = lambda request, number: (500 if number <= 3 else 204, 0.0)
    sandbox.webhook(receiver.url, ["file.created"])
    sandbox.upload("retry.mov", stop_at="created")
    (delivery,) = _settled(sandbox, 1)
    assert delivery["state"] == "succeeded" and [a["status_code"] for a in delivery["attempts"]] == [500, 500, 500, 204]
    for number, gap in enumerate(_gaps(delivery), start=1):
        base = 15.0 * 2 ** (number - 1) * scale
        assert base * 0.95 <= gap <= base * 1.25 + 0.25, (number, gap, base)  # 25 % jitter + slack
    assert len(receiver.requests) == 4


def test_gives_up_after_five_attempts(sandbox: Sandbox, receiver: Receiver) -> None:
    receiver.answer = lambda request, number: (503, 0.0)
    sandbox.webhook(receiver.url, ["file.created"])
    sandbox.upload("never.mov", stop_at="created")
    (delivery,) = _settled(sandbox, 1)
    assert delivery["state"] == "gave_up" and delivery["gave_up"] and len(delivery["attempts"]) == 5
    assert len(receiver.requests) == 5


def test_a_slow_answer_counts_as_a_failure(sandbox: Sandbox, receiver: Receiver) -> None:
    receiver.answer = lambda request, number: (200, 1.5 if number == 1 else 0.0)
    sandbox.webhook(receiver.url, ["file.created"])
    sandbox.upload("slow.mov", stop_at="created")
    (delivery,) = _settled(sandbox, 1)
    first, second = delivery["attempts"]
    assert first["status_code"] is None and "no answer" in first["error"] and first["elapsed_s"] < 1.0
    assert second["status_code"] == 200 and delivery["state"] == "succeeded"


def test_deliveries_run_concurrently(sandbox: Sandbox, receiver: Receiver) -> None:
    receiver.answer = lambda request, number: (200, 2.0)  # within the 5 s limit at this scale
    sandbox.configure(delivery_time_scale=1.0)
    sandbox.webhook(receiver.url, ["file.created"])
    for number in range(4):
        sandbox.upload(f"together_{number}.mov", stop_at="created")
    wait_until(lambda: len(receiver.requests) == 4, 10, what="four deliveries")
    arrivals = [request.at for request in receiver.requests]
    assert max(arrivals) - min(arrivals) < 2.0  # all four arrived while the first was still waiting


def test_deleting_a_webhook_stops_its_retries(make_sandbox: Callable[..., Sandbox], receiver: Receiver) -> None:
    sandbox = make_sandbox(delivery_time_scale=1.0)  # 15 s until the first retry
    receiver.answer = lambda request, number: (500, 0.0)
    hook = sandbox.webhook(receiver.url, ["file.created"])
    sandbox.upload("orphan.mov", stop_at="created")
    wait_until(lambda: len(receiver.requests) == 1, 10, what="the first attempt")
    assert sandbox.api("DELETE", f"/webhooks/{hook['id']}").status_code == 204
    (delivery,) = _settled(sandbox, 1)
    assert delivery["state"] == "cancelled" and len(delivery["attempts"]) == 1


@pytest.mark.parametrize(("rate", "copies"), [(1.0, 2), (0.0, 1)])
def test_duplicate_deliveries_knob(
    make_sandbox: Callable[..., Sandbox], receiver: Receiver, rate: float, copies: int
) -> None:
    sandbox = make_sandbox(duplicate_delivery_rate=rate)
    sandbox.webhook(receiver.url, ["file.created"])
    file_id = sandbox.upload("twice.mov", stop_at="created")["id"]
    settled = _settled(sandbox, copies)
    assert len(settled) == copies and [d["duplicate"] for d in settled] == [False, True][:copies]
    assert receiver.types_for(file_id) == ["file.created"] * copies


def test_reorder_deliveries_knob_lets_a_later_event_overtake(sandbox: Sandbox, receiver: Receiver) -> None:
    sandbox.webhook(receiver.url, ["file.created"])
    sandbox.configure(reorder_delivery_rate=1.0, delivery_time_scale=1.0)  # held up to 15 s
    first = sandbox.upload("first.mov", stop_at="created")["id"]
    sandbox.configure(reorder_delivery_rate=0.0)
    second = sandbox.upload("second.mov", stop_at="created")["id"]
    wait_until(lambda: len(receiver.requests) == 2, 10, what="both deliveries")
    order = [request.json()["resource"]["id"] for request in receiver.requests]
    assert order == [second, first]
    assert [d["held"] for d in sandbox.deliveries()] == [True, False]


def test_without_reordering_deliveries_keep_their_order(sandbox: Sandbox, receiver: Receiver) -> None:
    sandbox.webhook(receiver.url, ["file.created"])
    first = sandbox.upload("first.mov", stop_at="created")["id"]
    wait_until(lambda: len(receiver.requests) == 1, 10, what="the first delivery")
    second = sandbox.upload("second.mov", stop_at="created")["id"]
    wait_until(lambda: len(receiver.requests) == 2, 10, what="the second delivery")
    assert [r.json()["resource"]["id"] for r in receiver.requests] == [first, second]


def test_dropping_every_delivery_for_a_file(sandbox: Sandbox, receiver: Receiver) -> None:
    sandbox.webhook(receiver.url, ["file.created", "file.updated"])
    lost = sandbox.upload("lost.mov", stop_at="created")["id"]
    kept = sandbox.upload("kept.mov", stop_at="created")["id"]
    _settled(sandbox, 2)
    assert sandbox.http.post("/_sandbox/deliveries/drop", json={"resource_id": lost}).status_code == 200
    for file_id in (lost, kept):
        sandbox.api("PATCH", f"/files/{file_id}", json={"data": {"name": f"{file_id}.mov"}})
    updates = _settled(sandbox, 2, event_type="file.updated")
    assert {d["resource_id"]: d["state"] for d in updates} == {lost: "dropped", kept: "succeeded"}
    assert receiver.types_for(lost) == ["file.created"]
    wait_until(lambda: receiver.types_for(kept) == ["file.created", "file.updated"], 5, what="kept events")
    assert sandbox.http.delete("/_sandbox/deliveries/drop").status_code == 204


def test_folder_moves_dissolving_stacks_and_new_folders_emit_events(
    make_sandbox: Callable[..., Sandbox], receiver: Receiver
) -> None:
    sandbox = make_sandbox(single_file_stack="dissolves")
    sandbox.webhook(receiver.url, ["file.updated", "file.versioned", "folder.created"])
    folder = sandbox.folder("elsewhere")
    loose = sandbox.upload("loose.mov")["id"]
    sandbox.api("PATCH", f"/files/{loose}/move", json={"data": {"parent_id": folder}})
    ids = [sandbox.upload(f"dv_v{n}.mov")["id"] for n in (1, 2)]
    stack = sandbox.stack(sandbox.root, ids)["id"]
    sandbox.api("PATCH", f"/files/{ids[1]}/move", json={"data": {"parent_id": sandbox.root}})
    wait_until(lambda: len(receiver.requests) == 6, 10, what="six deliveries")
    assert receiver.types_for(loose) == ["file.updated"]
    assert receiver.types_for(ids[0]) == ["file.versioned", "file.versioned"]  # stacked, then left behind
    (created,) = receiver.of_type("folder.created")
    assert created.json()["resource"] == {"id": folder, "type": "folder"}
    assert sandbox.api("GET", f"/version_stacks/{stack}").status_code == 404


def test_delivery_attempts_knob(make_sandbox: Callable[..., Sandbox], receiver: Receiver) -> None:
    sandbox = make_sandbox(delivery_attempts=2)
    receiver.answer = lambda request, number: (500, 0.0)
    sandbox.webhook(receiver.url, ["file.created"])
    sandbox.upload("twice_only.mov", stop_at="created")
    (delivery,) = _settled(sandbox, 1)
    assert delivery["state"] == "gave_up" and len(delivery["attempts"]) == 2


@pytest.mark.parametrize(("scale", "state"), [(0.005, "gave_up"), (0.2, "succeeded")])
def test_answer_limit_scales_but_never_below_half_a_second(
    make_sandbox: Callable[..., Sandbox], receiver: Receiver, scale: float, state: str
) -> None:
    sandbox = make_sandbox(delivery_time_scale=scale, delivery_attempts=1)
    receiver.answer = lambda request, number: (200, 0.7)  # over 0.5 s, under 5 s * 0.2 = 1 s
    sandbox.webhook(receiver.url, ["file.created"])
    sandbox.upload("limit.mov", stop_at="created")
    (delivery,) = _settled(sandbox, 1)
    assert delivery["state"] == state
