"""The knobs for answers Frame.io's docs leave open: every value, each observable through the API.

Where the SDK can parse the answer it referees (``frameio`` 4.0.0 models and errors).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import itertools
from collections.abc import Callable

import httpx
import pytest
from frameio.errors import BadRequestError, NotFoundError, UnprocessableEntityError
from frameio.types import VersionStackWithIncludes
from frameio.upload import FrameioUploader
from starlette.applications import Starlette

from sandbox.runtime import Sandbox as Runtime
from service.processes import wait_until
from tests.sandbox.conftest import NO_RETRY, Received, Receiver, Sandbox

MakeSandbox = Callable[..., Sandbox]


def _files(sandbox: Sandbox, folder: str, prefix: str, count: int) -> list[str]:
    return [sandbox.upload(f"{prefix}_v{n:03d}.mov", folder)["id"] for n in range(1, count + 1)]


def _runtime(sandbox: Sandbox) -> Runtime:
    """The sandbox object behind the running server (the tests share its process)."""
    app = sandbox.server.config.app
    assert isinstance(app, Starlette)
    runtime: Runtime = app.state.sandbox
    return runtime


def _reorder(sandbox: Sandbox, stack_id: str, target: str, **headers: str) -> httpx.Response:
    body = {"data": {"target_file_id": target, "move_to": "top"}}
    return sandbox.api("PATCH", f"/version_stacks/{stack_id}/versions", json=body, headers=headers)


# --- reorder_requires_experimental ---------------------------------------------------------


def test_reorder_needs_no_header_by_default(sandbox: Sandbox) -> None:
    folder = sandbox.folder("f")
    ids = _files(sandbox, folder, "a", 2)
    stack = sandbox.stack(folder, ids)
    assert _reorder(sandbox, stack["id"], ids[0]).status_code == 200
    assert sandbox.children_names(stack["id"]) == ["a_v001.mov", "a_v002.mov"]


def test_reorder_without_the_experimental_header_is_an_unknown_route(make_sandbox: MakeSandbox) -> None:
    sandbox = make_sandbox(reorder_requires_experimental=True)
    folder = sandbox.folder("f")
    ids = _files(sandbox, folder, "a", 2)
    stack = sandbox.stack(folder, ids)
    refused = _reorder(sandbox, stack["id"], ids[0])
    unknown = sandbox.api("PATCH", f"/version_stacks/{stack['id']}/no_such_route", json={})
    assert (refused.status_code, unknown.status_code) == (404, 404)
    assert refused.json()["errors"][0]["title"] == unknown.json()["errors"][0]["title"] == "Not Found"
    assert sandbox.children_names(stack["id"]) == ["a_v002.mov", "a_v001.mov"]  # nothing moved
    assert _reorder(sandbox, stack["id"], ids[0], **{"api-version": "experimental"}).status_code == 200
    assert sandbox.children_names(stack["id"]) == ["a_v001.mov", "a_v002.mov"]


# --- type_list -------------------------------------------------------------------------------


def _mixed_folder(sandbox: Sandbox) -> str:
    folder = sandbox.folder("mixed")
    sandbox.folder("sub", folder)
    sandbox.stack(folder, _files(sandbox, folder, "s", 2))
    sandbox.upload("loose.mov", folder)
    return folder


def _types(sandbox: Sandbox, folder: str, type_filter: str) -> list[str]:
    pager = sandbox.sdk.folders.index(sandbox.account, folder, type=type_filter, request_options=NO_RETRY)
    return sorted(item.type for item in pager if item is not None)


@pytest.mark.parametrize(
    ("type_list", "expected"),
    [("honoured", ["file", "version_stack"]), ("first_only", ["file"])],
)
def test_type_list_answers(make_sandbox: MakeSandbox, type_list: str, expected: list[str]) -> None:
    sandbox = make_sandbox(type_list=type_list)
    folder = _mixed_folder(sandbox)
    assert _types(sandbox, folder, "file,version_stack") == expected
    assert _types(sandbox, folder, "version_stack") == ["version_stack"]  # one value: always honoured


def test_type_list_refused_with_422(make_sandbox: MakeSandbox) -> None:
    sandbox = make_sandbox(type_list="refused_422")
    folder = _mixed_folder(sandbox)
    with pytest.raises(UnprocessableEntityError):
        _types(sandbox, folder, "file,version_stack")
    answer = sandbox.api("GET", f"/folders/{folder}/children", params={"type": "file,version_stack"})
    assert answer.json()["errors"][0]["source"]["pointer"] == "/type"
    assert _types(sandbox, folder, "folder") == ["folder"]


# --- head_version_in_listings / head_version_in_show_stack -------------------------------------


@pytest.mark.parametrize("present", [True, False])
def test_head_version_in_listings(make_sandbox: MakeSandbox, present: bool) -> None:
    sandbox = make_sandbox(head_version_in_listings=present)
    folder = sandbox.folder("f")
    ids = _files(sandbox, folder, "h", 2)
    stack_id = sandbox.stack(folder, ids)["id"]
    for path in (f"/folders/{folder}/children", f"/folders/{folder}/version_stacks"):
        listed = sandbox.api("GET", path).json()["data"]
        assert [("head_version" in item) for item in listed if item["type"] == "version_stack"] == [present]
    stacks = [s for s in sandbox.sdk.version_stacks.list(sandbox.account, folder) if s is not None]
    heads = [s.head_version.id if s.head_version else None for s in stacks]
    assert heads == [ids[-1] if present else None]
    shown = sandbox.sdk.version_stacks.show(sandbox.account, stack_id).data
    assert shown.head_version is not None and shown.head_version.id == ids[-1]  # show is its own knob


@pytest.mark.parametrize("present", [True, False])
def test_head_version_in_show_stack(make_sandbox: MakeSandbox, present: bool) -> None:
    sandbox = make_sandbox(head_version_in_show_stack=present)
    folder = sandbox.folder("f")
    ids = _files(sandbox, folder, "h", 2)
    created = sandbox.stack(folder, ids)
    assert created["head_version"]["id"] == ids[-1]  # the create answer always has it
    raw = sandbox.api("GET", f"/version_stacks/{created['id']}").json()["data"]
    shown = VersionStackWithIncludes.model_validate(raw)
    assert ("head_version" in raw) is present
    assert (shown.head_version.id if shown.head_version else None) == (ids[-1] if present else None)
    listed = sandbox.api("GET", f"/folders/{folder}/version_stacks").json()["data"]
    assert listed[0]["head_version"]["id"] == ids[-1]  # listings are their own knob


# --- stack_as_folder -------------------------------------------------------------------------

SDK_ERRORS: dict[str, type[Exception]] = {"404": NotFoundError, "400": BadRequestError, "422": UnprocessableEntityError}


@pytest.mark.parametrize("answer", ["404", "400", "422"])
def test_stack_id_used_as_a_folder(make_sandbox: MakeSandbox, answer: str) -> None:
    sandbox = make_sandbox(stack_as_folder=answer)
    folder = sandbox.folder("f")
    stack_id = sandbox.stack(folder, _files(sandbox, folder, "x", 2))["id"]
    assert sandbox.api("GET", f"/folders/{stack_id}/children").status_code == int(answer)
    with pytest.raises(SDK_ERRORS[answer]):
        sandbox.sdk.folders.show(sandbox.account, stack_id, request_options=NO_RETRY)
    missing = "00000000-0000-4000-8000-000000000000"
    assert sandbox.api("GET", f"/folders/{missing}/children").status_code == 404  # unknown ids stay 404


# --- media_type_before_upload ----------------------------------------------------------------


@pytest.mark.parametrize(("knob", "before"), [("set", "video/quicktime"), ("null", None)])
def test_media_type_before_the_upload_completes(make_sandbox: MakeSandbox, knob: str, before: str | None) -> None:
    sandbox = make_sandbox(media_type_before_upload=knob)
    file_id = sandbox.upload("clip.mov", stop_at="created")["id"]
    assert sandbox.sdk.files.show(sandbox.account, file_id).data.media_type == before
    listed = sandbox.api("GET", f"/folders/{sandbox.root}/children").json()["data"]
    assert [item["media_type"] for item in listed if item["id"] == file_id] == [before]
    assert sandbox.http.post(f"/_sandbox/files/{file_id}/advance", json={"to": "uploaded"}).status_code == 200
    assert sandbox.sdk.files.show(sandbox.account, file_id).data.media_type == "video/quicktime"


def test_media_type_null_still_lets_the_sdk_uploader_upload(make_sandbox: MakeSandbox) -> None:
    sandbox = make_sandbox(media_type_before_upload="null")
    created = sandbox.sdk.files.create_local_upload(
        sandbox.account, sandbox.root, data={"name": "clip.mp4", "file_size": 3000}
    ).data
    assert created.media_type == "video/mp4"  # the create answer carries it: the PUTs must send it
    assert sandbox.sdk.files.show(sandbox.account, created.id).data.media_type is None
    FrameioUploader(created, io.BytesIO(b"x" * 3000)).upload()
    assert sandbox.sdk.files.show(sandbox.account, created.id).data.media_type == "video/mp4"


# --- read_lag_ms -------------------------------------------------------------------------------


class SteppedClock:
    """The sandbox's read-lag clock, moved by the test (no sleeping)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _lagging(make_sandbox: MakeSandbox, lag_ms: float) -> tuple[Sandbox, SteppedClock]:
    sandbox = make_sandbox(read_lag_ms=lag_ms)
    clock = SteppedClock()
    _runtime(sandbox).clock = clock  # the next reset puts the real clock back
    return sandbox, clock


def _listing(sandbox: Sandbox, folder: str) -> list[str]:
    answer = sandbox.api("GET", f"/folders/{folder}/children", params={"sort": "name_asc"})
    assert answer.status_code == 200, answer.text
    return [item["type"] + ":" + item["name"] for item in answer.json()["data"]]


def test_without_lag_a_read_sees_the_write_at_once(make_sandbox: MakeSandbox) -> None:
    sandbox, _ = _lagging(make_sandbox, 0.0)  # the clock never moves
    folder = sandbox.folder("f")
    stack = sandbox.stack(folder, _files(sandbox, folder, "a", 2))
    assert _listing(sandbox, folder) == ["version_stack:a_v002.mov"]
    assert sandbox.api("GET", f"/version_stacks/{stack['id']}").status_code == 200


def test_a_new_stack_is_invisible_until_the_lag_has_passed(make_sandbox: MakeSandbox) -> None:
    sandbox, clock = _lagging(make_sandbox, 1000.0)
    folder = sandbox.folder("f")
    ids = _files(sandbox, folder, "a", 2)
    stack = sandbox.stack(folder, ids)
    clock.now += 0.999
    assert _listing(sandbox, folder) == ["file:a_v001.mov", "file:a_v002.mov"]
    assert sandbox.api("GET", f"/version_stacks/{stack['id']}").status_code == 404
    assert sandbox.api("GET", f"/files/{ids[0]}").json()["data"]["parent_id"] == folder
    clock.now += 0.001
    assert _listing(sandbox, folder) == ["version_stack:a_v002.mov"]
    assert sandbox.api("GET", f"/files/{ids[0]}").json()["data"]["parent_id"] == stack["id"]


def test_reorder_and_move_show_late_and_in_order(make_sandbox: MakeSandbox) -> None:
    sandbox, clock = _lagging(make_sandbox, 1000.0)
    folder = sandbox.folder("f")
    ids = _files(sandbox, folder, "a", 3)
    stack_id = sandbox.stack(folder, ids[:2])["id"]
    clock.now += 5
    assert _reorder(sandbox, stack_id, ids[0]).status_code == 200
    clock.now += 0.5
    moved = sandbox.api("PATCH", f"/files/{ids[2]}/move", json={"data": {"parent_id": stack_id}})
    assert moved.status_code == 200 and moved.json()["data"]["parent_id"] == stack_id  # the writer sees it
    clock.now += 0.2  # both writes are younger than the lag: the world before the reorder
    assert sandbox.children_names(stack_id) == ["a_v002.mov", "a_v001.mov"]
    head = sandbox.sdk.version_stacks.show(sandbox.account, stack_id).data.head_version
    assert head is not None and head.id == ids[1]
    clock.now += 0.5  # the reorder is visible, the move is not yet
    assert sandbox.children_names(stack_id) == ["a_v001.mov", "a_v002.mov"]
    assert "file:a_v003.mov" in _listing(sandbox, folder)
    clock.now += 0.5
    assert sandbox.children_names(stack_id) == ["a_v001.mov", "a_v002.mov", "a_v003.mov"]  # move_lands bottom
    assert "file:a_v003.mov" not in _listing(sandbox, folder)


def test_a_refused_write_hides_nothing(make_sandbox: MakeSandbox) -> None:
    sandbox, clock = _lagging(make_sandbox, 1000.0)
    folder = sandbox.folder("f")
    ids = _files(sandbox, folder, "a", 2)
    clock.now += 5
    refused = sandbox.api("POST", f"/folders/{folder}/version_stacks", json={"data": {"file_ids": ids[:1]}})
    assert refused.status_code == 422
    sandbox.upload("late.mov", folder)
    assert "file:late.mov" in _listing(sandbox, folder)


# --- retry_reuses_timestamp --------------------------------------------------------------------


def _two_attempts(make_sandbox: MakeSandbox, receiver: Receiver, reuse: bool) -> tuple[list[Received], str]:
    """A delivery whose first attempt fails; the sandbox's wall clock moves 400 s per reading."""
    sandbox = make_sandbox(retry_reuses_timestamp=reuse)
    readings = itertools.count(1_700_000_000, 400)
    _runtime(sandbox).deliveries.clock = lambda: float(next(readings))  # the next reset restores it
    receiver.answer = lambda request, number: (500 if number == 1 else 200, 0.0)
    secret = sandbox.webhook(receiver.url, ["file.created"])["secret"]
    sandbox.upload("clip.mov", stop_at="created")
    wait_until(lambda: len(receiver.of_type("file.created")) >= 2, 5, interval=0.01, what="the retry")
    return receiver.of_type("file.created")[:2], secret


@pytest.mark.parametrize(("reuse", "step"), [(False, 400), (True, 0)])
def test_retry_timestamps(make_sandbox: MakeSandbox, receiver: Receiver, reuse: bool, step: int) -> None:
    first, retry = (attempt.headers for attempt in _two_attempts(make_sandbox, receiver, reuse)[0])
    stamps = [int(headers["x-frameio-request-timestamp"]) for headers in (first, retry)]
    assert stamps[1] - stamps[0] == step
    assert (first["x-frameio-signature"] == retry["x-frameio-signature"]) is reuse


def test_a_reused_timestamp_still_signs_the_body(make_sandbox: MakeSandbox, receiver: Receiver) -> None:
    attempts, secret = _two_attempts(make_sandbox, receiver, True)
    for attempt in attempts:
        timestamp = attempt.headers["x-frameio-request-timestamp"]
        expected = hmac.new(secret.encode(), f"v0:{timestamp}:".encode() + attempt.body, hashlib.sha256).hexdigest()
        assert attempt.headers["x-frameio-signature"] == f"v0={expected}"
