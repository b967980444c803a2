"""Rate limits: documented numbers, leaky buckets, headers, 429s, and the rate knobs."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from frameio.accounts.raw_client import RawAccountsClient
from frameio.errors import TooManyRequestsError
from frameio.files.raw_client import RawFilesClient
from frameio.folders.raw_client import RawFoldersClient
from frameio.projects.raw_client import RawProjectsClient
from frameio.users.raw_client import RawUsersClient
from frameio.version_stacks.raw_client import RawVersionStacksClient
from frameio.webhooks.raw_client import RawWebhooksClient
from frameio.workspaces.raw_client import RawWorkspacesClient

from sandbox.ratelimit import LIMITS, LeakyBucket
from service.processes import wait_until
from tests.sandbox.conftest import NO_RETRY, Sandbox

SDK_METHODS = {
    "show_file": RawFilesClient.show,
    "file_status": RawFilesClient.show_file_upload_status,
    "local_upload": RawFilesClient.create_local_upload,
    "move_file": RawFilesClient.move,
    "update_file": RawFilesClient.update,
    "delete_file": RawFilesClient.delete,
    "list_folder_children": RawFoldersClient.index,
    "show_folder": RawFoldersClient.show,
    "create_folder": RawFoldersClient.create,
    "delete_folder": RawFoldersClient.delete,
    "show_project": RawProjectsClient.show,
    "show_workspace": RawWorkspacesClient.show,
    "create_stack": RawVersionStacksClient.create,
    "show_stack": RawVersionStacksClient.show,
    "list_stacks": RawVersionStacksClient.list,
    "list_stack_children": RawVersionStacksClient.index,
    "move_stack": RawVersionStacksClient.move,
    "copy_stack": RawVersionStacksClient.copy,
    "webhooks_create": RawWebhooksClient.create,
    "webhooks_list": RawWebhooksClient.index,
    "webhooks_show": RawWebhooksClient.show,
    "webhooks_update": RawWebhooksClient.update,
    "webhooks_delete": RawWebhooksClient.delete,
    "me": RawUsersClient.show,
    "accounts_list": RawAccountsClient.index,
}
DOC_LIMIT = re.compile(r"Rate Limits: (\d+) calls per ([\d.]+) (second|minute)")


@pytest.mark.parametrize("endpoint", sorted(SDK_METHODS))
def test_limits_match_the_sdk_docstrings(endpoint: str) -> None:
    found = DOC_LIMIT.search(inspect.getdoc(SDK_METHODS[endpoint]) or "")
    assert found is not None
    window = float(found.group(2)) * (60.0 if found.group(3) == "minute" else 1.0)
    assert LIMITS[endpoint] == (int(found.group(1)), window)


def test_reorder_limit_is_the_documented_ten_per_minute() -> None:
    assert LIMITS["reorder_stack"] == (10, 60.0)


def test_leaky_bucket_refills_continuously() -> None:
    bucket = LeakyBucket(10, stamp=0.0)
    verdicts = [bucket.offer(60.0, 0.0, enforce=True) for _ in range(11)]
    assert [v.allowed for v in verdicts] == [True] * 10 + [False]
    assert [v.remaining for v in verdicts] == [*range(9, -1, -1), 0]
    assert verdicts[-1].retry_after_s == pytest.approx(6.0)
    assert not bucket.offer(60.0, 5.9, enforce=True).allowed
    assert bucket.offer(60.0, 6.0, enforce=True).allowed  # one call leaked out after 6 s
    assert not bucket.offer(60.0, 6.0, enforce=True).allowed


def _create(sandbox: Sandbox, token: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body: dict[str, Any] = {"data": {"file_ids": []}}  # invalid (422), but it still costs a call
    return sandbox.api("POST", f"/folders/{sandbox.root}/version_stacks", json=body, headers=headers)


def test_create_stack_allows_ten_a_minute_with_headers_on_every_answer(sandbox: Sandbox) -> None:
    answers = [_create(sandbox) for _ in range(11)]
    assert [a.status_code for a in answers] == [422] * 10 + [429]
    assert [a.headers["x-ratelimit-remaining"] for a in answers] == [str(n) for n in range(9, -1, -1)] + ["0"]
    assert {a.headers["x-ratelimit-limit"] for a in answers} == {"10"}
    assert {a.headers["x-ratelimit-window"] for a in answers} == {"60000"}
    assert answers[-1].json()["errors"][0]["detail"] and "retry-after" not in answers[-1].headers
    with pytest.raises(TooManyRequestsError) as limited:
        sandbox.sdk.version_stacks.create(
            sandbox.account, sandbox.root, data={"file_ids": []}, request_options=NO_RETRY
        )
    assert limited.value.headers is not None
    assert limited.value.headers["x-ratelimit-remaining"] == "0"
    assert sandbox.calls()[("create_stack", 429)] == 2


def test_other_endpoints_have_their_own_buckets(sandbox: Sandbox) -> None:
    for _ in range(11):
        _create(sandbox)
    shown = sandbox.api("GET", f"/folders/{sandbox.root}")
    assert shown.status_code == 200 and shown.headers["x-ratelimit-limit"] == "100"


def test_rate_window_scale_knob(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox(rate_window_scale=0.0333)
    answers = [_create(sandbox) for _ in range(11)]
    assert answers[-1].status_code == 429 and answers[-1].headers["x-ratelimit-window"] == "1998"
    wait_until(lambda: _create(sandbox).status_code == 422, 2, what="a call to leak out (0.2 s)")


def test_rate_limits_knob_turns_429s_off(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox(rate_limits=False)
    answers = [_create(sandbox) for _ in range(15)]
    assert {a.status_code for a in answers} == {422}
    assert answers[-1].headers["x-ratelimit-limit"] == "10"


def test_retry_after_knob(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox(retry_after_on_429=True)
    answers = [_create(sandbox) for _ in range(11)]
    assert answers[-1].status_code == 429 and answers[-1].headers["retry-after"] == "6"


@pytest.mark.parametrize(("scope", "second_status"), [("account", 429), ("account_user", 422)])
def test_rate_limit_scope_knob(make_sandbox: Callable[..., Sandbox], scope: str, second_status: int) -> None:
    sandbox = make_sandbox(rate_limit_scope=scope, extra_tokens=["second-token"])
    for _ in range(10):
        assert _create(sandbox).status_code == 422
    assert _create(sandbox).status_code == 429
    assert _create(sandbox, "second-token").status_code == second_status
