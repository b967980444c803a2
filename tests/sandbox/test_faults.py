"""Injected faults: status answers, timeouts, dropped connections, slowness; before and after the write."""

from __future__ import annotations

import time

import httpx
import pytest
from frameio.core.api_error import ApiError

from tests.sandbox.conftest import NO_RETRY, Sandbox


def test_status_fault_hits_the_next_n_calls_only(sandbox: Sandbox) -> None:
    file_id = sandbox.upload("f.mov")["id"]
    sandbox.fault(endpoint="show_file", kind="status", status=503, count=2)
    for _ in range(2):
        with pytest.raises(ApiError) as failed:
            sandbox.sdk.files.show(sandbox.account, file_id, request_options=NO_RETRY)
        assert failed.value.status_code == 503
    assert sandbox.sdk.files.show(sandbox.account, file_id).data.id == file_id
    calls = sandbox.calls()
    assert calls[("show_file", 503)] == 2 and calls[("show_file", 200)] == 1
    assert sandbox.http.get("/_sandbox/faults").json()["faults"] == []


def test_faults_on_one_endpoint_leave_others_alone_and_star_hits_all(sandbox: Sandbox) -> None:
    sandbox.fault(endpoint="create_stack", kind="status", status=500, count=1)
    assert sandbox.api("GET", "/folders/" + sandbox.root).status_code == 200
    sandbox.fault(endpoint="*", kind="status", status=502, count=2)
    assert sandbox.api("GET", "/folders/" + sandbox.root).status_code == 502
    assert sandbox.http.get("/v4/me", headers=sandbox.auth).status_code == 502
    assert sandbox.http.get("/v4/me", headers=sandbox.auth).status_code == 200
    pending = sandbox.http.get("/_sandbox/faults").json()["faults"]
    assert [(f["endpoint"], f["count"]) for f in pending] == [("create_stack", 1)]
    assert sandbox.http.delete("/_sandbox/faults").status_code == 204
    assert sandbox.http.get("/_sandbox/faults").json()["faults"] == []


def test_drop_closes_the_connection_without_an_answer(sandbox: Sandbox) -> None:
    sandbox.fault(endpoint="me", kind="drop", count=1)
    with pytest.raises(httpx.RemoteProtocolError):
        sandbox.http.get("/v4/me", headers=sandbox.auth)
    assert sandbox.http.get("/v4/me", headers=sandbox.auth).status_code == 200
    assert sandbox.calls()[("me", "dropped")] == 1


def _move(sandbox: Sandbox, file_id: str, parent_id: str, timeout: float = 10.0) -> httpx.Response:
    return sandbox.api("PATCH", f"/files/{file_id}/move", json={"data": {"parent_id": parent_id}}, timeout=timeout)


def _parent(sandbox: Sandbox, file_id: str) -> str:
    parent: str = sandbox.api("GET", f"/files/{file_id}").json()["data"]["parent_id"]
    return parent


@pytest.mark.parametrize(("phase", "moved"), [("before", False), ("after", True)])
def test_timeout_fault_outlasts_the_client(sandbox: Sandbox, phase: str, moved: bool) -> None:
    folder = sandbox.folder("dest")
    file_id = sandbox.upload("t.mov")["id"]
    sandbox.fault(endpoint="move_file", kind="timeout", delay_s=30, phase=phase)
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        _move(sandbox, file_id, folder, timeout=0.5)
    assert time.monotonic() - started < 5
    assert (_parent(sandbox, file_id) == folder) is moved


@pytest.mark.parametrize(("phase", "moved"), [("before", False), ("after", True)])
def test_status_and_drop_after_the_write_hide_a_done_write(sandbox: Sandbox, phase: str, moved: bool) -> None:
    folder = sandbox.folder("dest")
    first, second = sandbox.upload("a.mov")["id"], sandbox.upload("b.mov")["id"]
    sandbox.fault(endpoint="move_file", kind="status", status=504, phase=phase)
    assert _move(sandbox, first, folder).status_code == 504
    assert (_parent(sandbox, first) == folder) is moved
    sandbox.fault(endpoint="move_file", kind="drop", phase=phase)
    with pytest.raises(httpx.RemoteProtocolError):
        _move(sandbox, second, folder)
    assert (_parent(sandbox, second) == folder) is moved


def test_slow_fault_delays_but_answers(sandbox: Sandbox) -> None:
    sandbox.fault(endpoint="me", kind="slow", delay_s=0.4)
    started = time.monotonic()
    assert sandbox.http.get("/v4/me", headers=sandbox.auth).status_code == 200
    assert time.monotonic() - started >= 0.4
    started = time.monotonic()
    assert sandbox.http.get("/v4/me", headers=sandbox.auth).status_code == 200
    assert time.monotonic() - started < 0.4


@pytest.mark.parametrize(
    "spec",
    [
        {"endpoint": "no_such_endpoint", "kind": "status"},
        {"endpoint": "me", "kind": "explode"},
        {"endpoint": "me", "kind": "status", "count": 0},
        {"endpoint": "me", "kind": "status", "status": 200},
        {"endpoint": "me", "kind": "slow", "delay_s": -1},
        {"endpoint": "me", "kind": "drop", "phase": "during"},
    ],
)
def test_bad_fault_specs_are_refused(sandbox: Sandbox, spec: dict[str, object]) -> None:
    response = sandbox.http.post("/_sandbox/faults", json=spec)
    assert response.status_code == 422 and response.json()["errors"][0]["detail"]
