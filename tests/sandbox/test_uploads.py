"""The upload flow: local_upload, part PUTs (S3 rules), status changes, media types, includes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from service.processes import wait_until
from tests.sandbox.conftest import Sandbox

ACL = {"x-amz-acl": "private"}


def _local_upload(sandbox: Sandbox, name: str, size: int, folder: str | None = None) -> dict[str, Any]:
    body = {"data": {"name": name, "file_size": size}}
    response = sandbox.api("POST", f"/folders/{folder or sandbox.root}/files/local_upload", json=body)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def _put(sandbox: Sandbox, url: str, content_type: str, **headers: str) -> int:
    return sandbox.http.put(url, content=b"bytes", headers={"content-type": content_type, **headers}).status_code


def _status(sandbox: Sandbox, file_id: str) -> str:
    status: str = sandbox.api("GET", f"/files/{file_id}").json()["data"]["status"]
    return status


def test_parts_complete_the_upload_only_when_all_are_in(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox(upload_part_size=1000, transcode_delay_s=60)
    created = _local_upload(sandbox, "multi.mp4", 2500)
    urls = created["upload_urls"]
    assert [part["size"] for part in urls] == [834, 834, 832] and created["media_type"] == "video/mp4"
    for url in (urls[2]["url"], urls[0]["url"]):
        assert _put(sandbox, url, "video/mp4", **ACL) == 200
    assert _status(sandbox, created["id"]) == "created"
    status = sandbox.api("GET", f"/files/{created['id']}/status").json()["data"]
    assert status["upload_complete"] is False and status["filetype"] == "video/mp4"
    assert _put(sandbox, urls[1]["url"], "video/mp4", **ACL) == 200
    assert _status(sandbox, created["id"]) == "uploaded"
    assert sandbox.api("GET", f"/files/{created['id']}/status").json()["data"]["upload_complete"] is True


def test_default_part_size_gives_one_url_for_a_small_file(sandbox: Sandbox) -> None:
    assert len(_local_upload(sandbox, "small.mov", 10_000)["upload_urls"]) == 1


def test_put_must_match_the_media_type_and_signature(sandbox: Sandbox) -> None:
    created = _local_upload(sandbox, "plate.exr", 100)
    url = created["upload_urls"][0]["url"]
    assert created["media_type"] == "image/x-exr"
    assert _put(sandbox, url, "application/octet-stream", **ACL) == 403
    assert _put(sandbox, url.replace("signature=", "signature=x"), "image/x-exr", **ACL) == 403
    assert _put(sandbox, url.replace("/0?", "/7?"), "image/x-exr", **ACL) == 404
    assert _status(sandbox, created["id"]) == "created"
    assert _put(sandbox, url, "image/x-exr", **ACL) == 200


@pytest.mark.parametrize(("required", "status"), [(True, 403), (False, 200)])
def test_upload_requires_acl_knob(make_sandbox: Callable[..., Sandbox], required: bool, status: int) -> None:
    sandbox = make_sandbox(upload_requires_acl=required)
    created = _local_upload(sandbox, "mix.wav", 100)
    assert _put(sandbox, created["upload_urls"][0]["url"], "audio/wav") == status


def test_transcode_delay_knob(sandbox: Sandbox) -> None:
    sandbox.configure(transcode_delay_s=60)
    slow = sandbox.upload("slow.mov")["id"]
    sandbox.configure(transcode_delay_s=0.05)
    fast = sandbox.upload("fast.mov")["id"]
    wait_until(lambda: _status(sandbox, fast) == "transcoded", 5, what="the fast transcode")
    assert _status(sandbox, slow) == "uploaded"


def test_stop_at_leaves_a_file_where_asked(sandbox: Sandbox) -> None:
    placeholder = sandbox.upload("p.mov", stop_at="created")
    assert placeholder["status"] == "created"
    uploaded = sandbox.upload("u.mov", stop_at="uploaded")
    done = sandbox.upload("d.mov")
    wait_until(lambda: _status(sandbox, done["id"]) == "transcoded", 5, what="transcoding")
    assert _status(sandbox, uploaded["id"]) == "uploaded"


@pytest.mark.parametrize(
    ("name", "media_type"),
    [
        ("a.mov", "video/quicktime"),
        ("a.MP4", "video/mp4"),
        ("a.exr", "image/x-exr"),
        ("a.wav", "audio/wav"),
        ("a.unknownext", "application/octet-stream"),
    ],
)
def test_media_type_is_guessed_from_the_name(sandbox: Sandbox, name: str, media_type: str) -> None:
    assert sandbox.upload(name)["media_type"] == media_type


def test_explicit_media_type_and_user_win(sandbox: Sandbox) -> None:
    uploaded = sandbox.upload("x.bin", media_type="video/x-custom", user_id="person-1")
    assert uploaded["media_type"] == "video/x-custom"
    shown = sandbox.api("GET", f"/files/{uploaded['id']}", params={"include": "creator"}).json()["data"]
    assert shown["creator"]["id"] == "person-1"


@pytest.mark.parametrize(
    "data",
    [
        {"name": "x.mov", "file_size": 0},
        {"name": "", "file_size": 5},
        {"file_size": 5},
        {"name": "a/b", "file_size": 5},
    ],
)
def test_local_upload_validates_its_body(sandbox: Sandbox, data: dict[str, Any]) -> None:
    response = sandbox.api("POST", f"/folders/{sandbox.root}/files/local_upload", json={"data": data})
    assert response.status_code == 422 and response.json()["errors"][0]["source"]["pointer"].startswith("/data/")


def test_local_upload_into_an_unknown_folder_is_404(sandbox: Sandbox) -> None:
    body = {"data": {"name": "x.mov", "file_size": 5}}
    path = "/folders/00000000-0000-4000-8000-000000000000/files/local_upload"
    assert sandbox.api("POST", path, json=body).status_code == 404


def test_media_links_stay_null_until_transcoded(sandbox: Sandbox) -> None:
    sandbox.configure(transcode_delay_s=60)
    file_id = sandbox.upload("links.mov")["id"]
    params = {"include": "media_links.high_quality"}
    shown = sandbox.api("GET", f"/files/{file_id}", params=params).json()["data"]
    assert shown["media_links"] == {"high_quality": None}
    assert "media_links" not in sandbox.api("GET", f"/files/{file_id}").json()["data"]
    original = sandbox.api("GET", f"/files/{file_id}", params={"include": "media_links.original"}).json()["data"]
    assert original["media_links"]["original"]["download_url"]


def test_a_file_stopped_early_can_be_advanced(sandbox: Sandbox) -> None:
    sandbox.configure(transcode_delay_s=60)
    placeholder = sandbox.upload("later.mov", stop_at="created")
    assert placeholder["upload_urls"]
    advanced = sandbox.http.post(f"/_sandbox/files/{placeholder['id']}/advance", json={"to": "uploaded"})
    assert advanced.status_code == 200 and advanced.json()["data"]["status"] == "uploaded"
    done = sandbox.http.post(f"/_sandbox/files/{placeholder['id']}/advance", json={"to": "transcoded"})
    assert done.json()["data"]["status"] == "transcoded"
    assert sandbox.http.post(f"/_sandbox/files/{placeholder['id']}/advance", json={"to": "x"}).status_code == 422


def test_a_placeholder_completes_through_its_upload_urls(sandbox: Sandbox) -> None:
    placeholder = sandbox.upload("put_later.mov", stop_at="created")
    (part,) = placeholder["upload_urls"]
    assert _put(sandbox, part["url"], "video/quicktime", **ACL) == 200
    assert _status(sandbox, placeholder["id"]) in ("uploaded", "transcoded")
