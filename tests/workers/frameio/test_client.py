"""The Frame.io client on an httpx.MockTransport: paging, bodies, and the error hierarchy."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from workers.frameio.client import FrameioClient
from workers.frameio.errors import (
    Conflict,
    Forbidden,
    NotFound,
    RateLimited,
    ServerError,
    TransportError,
    Unauthorized,
    Unprocessable,
    is_retryable,
)
from workers.frameio.models import FileAsset, StackAsset

Handler = Callable[[httpx.Request], httpx.Response]


def client_for(handler: Handler) -> FrameioClient:
    return FrameioClient("https://frameio.test", lambda: "tok", transport=httpx.MockTransport(handler))


def file_json(file_id: str) -> dict[str, object]:
    return {"id": file_id, "name": f"{file_id}.mov", "type": "file", "status": "uploaded", "parent_id": "folder"}


def test_folder_paging_follows_the_cursor_and_resends_the_query_on_every_page() -> None:
    seen: list[httpx.URL] = []
    pages = {None: ("c1", ["a", "b"]), "c1": ("c2", ["c"]), "c2": (None, ["d"])}

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        cursor, ids = pages[request.url.params.get("after")]
        links = {"next": f"/v4/accounts/acc/folders/fold/children?after={cursor}" if cursor else None}
        return httpx.Response(200, json={"data": [file_json(i) for i in ids], "links": links})

    assets = client_for(handler).list_folder_children("acc", "fold")

    assert [asset.id for asset in assets] == ["a", "b", "c", "d"]
    assert len(seen) == 3
    for url in seen:
        assert url.params["page_size"] == "100"
        assert url.params["sort"] == "created_at_asc"
        assert "type" not in url.params  # a type list may be cut to its first value: filtered here
    assert [url.params.get("after") for url in seen] == [None, "c1", "c2"]


def test_a_repeating_cursor_is_an_error_not_an_endless_loop() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"data": [], "links": {"next": "/v4/x?after=same"}})

    with pytest.raises(Exception, match="cursor repeats"):
        client_for(handler).list_folder_children("acc", "fold")


def test_listing_types_files_and_stacks_and_skips_unknown_types() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        data = [
            file_json("f"),
            {"id": "s", "name": "s.mov", "type": "version_stack", "head_version": {"id": "f9"}, "parent_id": "p"},
            {"id": "x", "type": "hologram"},
        ]
        return httpx.Response(200, json={"data": data, "links": {}})

    assets = client_for(handler).list_folder_children("acc", "fold")
    assert isinstance(assets[0], FileAsset)
    assert isinstance(assets[1], StackAsset)
    assert assets[1].head_version_id == "f9"
    assert len(assets) == 2


def test_create_stack_sends_the_ids_oldest_first_with_the_token() -> None:
    captured: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        captured.append(request)
        return httpx.Response(201, json={"data": {"id": "s", "name": "b.mov", "head_version": {"id": "b"}}})

    stack = client_for(handler).create_stack("acc", "fold", ["a", "b"])
    request = captured[0]
    assert request.method == "POST"
    assert request.url.path == "/v4/accounts/acc/folders/fold/version_stacks"
    assert json.loads(request.content) == {"data": {"file_ids": ["a", "b"]}}
    assert request.headers["authorization"] == "Bearer tok"
    assert stack.head_version_id == "b"


def test_move_and_reorder_use_the_documented_paths_and_bodies() -> None:
    captured: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        captured.append(request)
        return httpx.Response(200, json={"data": file_json("f") if "move" in request.url.path else []})

    client = client_for(handler)
    client.move_file("acc", "f", "stack")
    client.reorder("acc", "stack", "f", {"move_to": "top"})
    assert (captured[0].method, captured[0].url.path) == ("PATCH", "/v4/accounts/acc/files/f/move")
    assert json.loads(captured[0].content) == {"data": {"parent_id": "stack"}}
    assert (captured[1].method, captured[1].url.path) == ("PATCH", "/v4/accounts/acc/version_stacks/stack/versions")
    assert json.loads(captured[1].content) == {"data": {"target_file_id": "f", "move_to": "top"}}


@pytest.mark.parametrize(
    ("status", "error", "retryable"),
    [
        (400, Unprocessable, False),
        (401, Unauthorized, False),
        (403, Forbidden, False),
        (404, NotFound, False),
        (409, Conflict, False),
        (422, Unprocessable, False),
        (429, RateLimited, True),
        (500, ServerError, True),
        (503, ServerError, True),
    ],
)
def test_error_statuses_map_to_the_hierarchy(status: int, error: type[Exception], retryable: bool) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json={"errors": [{"detail": "nope", "title": "t"}]})

    with pytest.raises(error) as caught:
        client_for(handler).show_file("acc", "f")
    assert is_retryable(caught.value) is retryable
    assert "nope" in str(caught.value)


def test_retry_after_is_kept_on_a_429() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, headers={"retry-after": "7"}, json={"errors": [{"detail": "slow down"}]})

    with pytest.raises(RateLimited) as caught:
        client_for(handler).show_file("acc", "f")
    assert caught.value.retry_after == 7.0


@pytest.mark.parametrize("failure", [httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("dropped")])
def test_no_answer_is_a_retryable_transport_error(failure: Exception) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise failure

    with pytest.raises(TransportError) as caught:
        client_for(handler).create_stack("acc", "fold", ["a", "b"])
    assert is_retryable(caught.value)


def test_errors_never_carry_the_token() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"errors": [{"detail": "bad token"}]})

    client = FrameioClient("https://frameio.test", lambda: "sekrit-token", transport=httpx.MockTransport(handler))
    with pytest.raises(Unauthorized) as caught:
        client.show_file("acc", "f")
    assert "sekrit-token" not in str(caught.value)
