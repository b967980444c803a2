"""The official SDK (the referee) drives the sandbox: every answer parses into its models."""

from __future__ import annotations

import io

import httpx
import pytest
from frameio import Frameio
from frameio.errors import NotFoundError, TooManyRequestsError, UnauthorizedError, UnprocessableEntityError
from frameio.types import (
    AssetWithIncludes_File,
    AssetWithIncludes_Folder,
    AssetWithIncludes_VersionStack,
    File,
    FileWithIncludes,
    VersionStack,
    VersionStackWithIncludes,
)
from frameio.upload import FrameioUploader

from service.processes import wait_until
from tests.sandbox.conftest import NO_RETRY, Sandbox


def test_create_folder_and_upload_through_local_upload(sandbox: Sandbox) -> None:
    sdk, account = sandbox.sdk, sandbox.account
    folder = sdk.folders.create(account, sandbox.root, data={"name": "shots"}).data
    assert folder.parent_id == sandbox.root and folder.type == "folder" and folder.restricted is False
    created = sdk.files.create_local_upload(account, folder.id, data={"name": "sh010_v001.mov", "file_size": 5000})
    upload = created.data
    assert upload.status == "created" and upload.media_type == "video/quicktime"
    assert upload.upload_urls and upload.upload_urls[0].url.startswith(sandbox.base_url)
    assert sum(part.size for part in upload.upload_urls) == 5000
    FrameioUploader(upload, io.BytesIO(b"\0" * 5000)).upload()
    shown = sdk.files.show(account, upload.id).data
    assert isinstance(shown, FileWithIncludes)
    assert shown.status in ("uploaded", "transcoded") and shown.parent_id == folder.id
    wait_until(lambda: sdk.files.show(account, upload.id).data.status == "transcoded", 5, what="transcoding")
    status = sdk.files.show_file_upload_status(account, upload.id).data
    assert status.upload_complete and not status.upload_failed and status.upload_completed_at is not None


def test_folders_index_pages_by_cursor_with_params_re_added(sandbox: Sandbox) -> None:
    folder = sandbox.folder("many")
    names = {f"clip_{number:03d}.mov" for number in range(7)}
    for name in sorted(names):
        sandbox.upload(name, folder)
    seen: list[str] = []
    after: str | None = None
    pages = 0
    while True:
        pager = sandbox.sdk.folders.index(
            sandbox.account, folder, page_size=3, sort="name_asc", include_total_count=True, after=after
        )
        response = pager.response
        assert response is not None and response.total_count == 7
        seen += [item.name for item in pager.items if isinstance(item, AssetWithIncludes_File)]
        pages += 1
        if not response.links.next:
            break
        assert response.links.next.startswith(f"/v4/accounts/{sandbox.account}/folders/{folder}/children?after=")
        assert "&" not in response.links.next  # only the cursor is carried
        after = response.links.next.split("after=", 1)[1]
    assert pages == 3 and seen == sorted(names)


def test_sdk_pager_drops_page_size_after_the_first_page(sandbox: Sandbox) -> None:
    folder = sandbox.folder("lots")
    for number in range(55):
        sandbox.upload(f"take_{number:03d}.mov", folder)
    pager = sandbox.sdk.folders.index(sandbox.account, folder, page_size=2)
    sizes = [len(page.items) for page in pager.iter_pages()]
    assert sizes == [2, 50, 3]  # pages 2 and 3 came back at the default size of 50


def test_version_stacks_create_show_list_index_and_move(sandbox: Sandbox) -> None:
    sdk, account = sandbox.sdk, sandbox.account
    folder = sandbox.folder("stacks")
    ids = [sandbox.upload(f"sh020_v00{n}.mov", folder)["id"] for n in (1, 2, 3)]
    created = sdk.version_stacks.create(account, folder, data={"file_ids": ids[:2]}).data
    assert isinstance(created, VersionStackWithIncludes) and created.type == "version_stack"
    assert created.parent_id == folder and created.head_version is not None
    assert created.head_version.id == ids[1] and created.name == "sh020_v002.mov"
    shown = sdk.version_stacks.show(account, created.id).data
    assert shown.id == created.id and shown.head_version is not None and shown.head_version.id == ids[1]
    listed = list(sdk.version_stacks.list(account, folder))
    assert [stack.id for stack in listed] == [created.id]
    moved = sdk.files.move(account, ids[2], data={"parent_id": created.id}).data
    assert isinstance(moved, File) and moved.parent_id == created.id
    children = list(sdk.version_stacks.index(account, created.id))
    assert [child.id for child in children] == [ids[1], ids[0], ids[2]]  # top first; moved file at bottom
    listing = list(sdk.folders.index(account, folder))
    assert len(listing) == 1 and isinstance(listing[0], AssetWithIncludes_VersionStack)
    assert listing[0].head_version is not None


def test_move_and_copy_stack_answer_version_stacks(sandbox: Sandbox) -> None:
    sdk, account = sandbox.sdk, sandbox.account
    source, target = sandbox.folder("a"), sandbox.folder("b")
    ids = [sandbox.upload(f"x_v{n}.mov", source)["id"] for n in (1, 2)]
    stack = sandbox.stack(source, ids)
    moved = sdk.version_stacks.move(account, stack["id"], data={"parent_id": target}).data
    assert isinstance(moved, VersionStack) and moved.parent_id == target and moved.head_version.id == ids[1]
    copy = sdk.version_stacks.copy(account, stack["id"], data={"parent_id": source}).data
    assert isinstance(copy, VersionStack) and copy.parent_id == source and copy.id != stack["id"]
    assert copy.head_version.id not in ids
    assert [c["name"] for c in sandbox.tree(source)["stacks"][0]["children"]] == ["x_v2.mov", "x_v1.mov"]


def test_folder_listing_holds_all_three_kinds(sandbox: Sandbox) -> None:
    folder = sandbox.folder("mixed")
    sandbox.folder("sub", folder)
    ids = [sandbox.upload(f"m_v{n}.mov", folder)["id"] for n in (1, 2)]
    sandbox.stack(folder, ids)
    sandbox.upload("loose.wav", folder)
    kinds = {type(item) for item in sandbox.sdk.folders.index(sandbox.account, folder)}
    assert kinds == {AssetWithIncludes_File, AssetWithIncludes_Folder, AssetWithIncludes_VersionStack}
    shown = sandbox.sdk.folders.show(sandbox.account, folder, include="creator").data
    assert shown.creator is not None and shown.creator.id == sandbox.state["user_id"]


def test_webhooks_crud_through_the_sdk(sandbox: Sandbox) -> None:
    sdk, account, workspace = sandbox.sdk, sandbox.account, sandbox.state["workspace_id"]
    data = {"name": "autostack", "url": "http://127.0.0.1:9/hook", "events": ["file.ready"]}
    created = sdk.webhooks.create(account, workspace, data=data).data
    assert created.secret and created.active and created.workspace_id == workspace
    listed = list(sdk.webhooks.index(account, workspace))
    assert [hook.id for hook in listed] == [created.id]
    assert "secret" not in sandbox.api("GET", f"/webhooks/{created.id}").json()["data"]
    updated = sdk.webhooks.update(account, created.id, data={"active": False, "events": ["file.created"]}).data
    assert updated.active is False and updated.events == ["file.created"]
    assert sdk.webhooks.show(account, created.id).data.name == "autostack"
    sdk.webhooks.delete(account, created.id)
    with pytest.raises(NotFoundError):
        sdk.webhooks.show(account, created.id, request_options=NO_RETRY)


def test_me_is_the_user_behind_the_token(sandbox: Sandbox) -> None:
    profile = sandbox.sdk.users.show().data
    assert profile.id == sandbox.state["user_id"] and profile.email and profile.name


def test_errors_raise_the_sdk_typed_errors(sandbox: Sandbox) -> None:
    sdk, account = sandbox.sdk, sandbox.account
    with pytest.raises(NotFoundError) as missing:
        sdk.files.show(account, "00000000-0000-4000-8000-000000000000", request_options=NO_RETRY)
    assert missing.value.body.errors[0].detail
    with pytest.raises(NotFoundError):
        sdk.files.show("00000000-0000-4000-8000-000000000001", sandbox.root, request_options=NO_RETRY)
    file_id = sandbox.upload("lonely.mov")["id"]
    with pytest.raises(UnprocessableEntityError) as bad:
        sdk.version_stacks.create(account, sandbox.root, data={"file_ids": [file_id]}, request_options=NO_RETRY)
    assert bad.value.body["errors"][0]["source"]["pointer"] == "/data/file_ids"
    sandbox.fault(endpoint="me", kind="status", status=429, count=1)
    with pytest.raises(TooManyRequestsError):
        sdk.users.show(request_options=NO_RETRY)


def test_wrong_or_missing_token_is_unauthorized(sandbox: Sandbox) -> None:
    with httpx.Client() as http:
        stranger = Frameio(base_url=sandbox.base_url, token="not-the-token", httpx_client=http)
        with pytest.raises(UnauthorizedError):
            stranger.users.show(request_options=NO_RETRY)
    response = sandbox.http.get("/v4/me")
    assert response.status_code == 401 and response.json()["errors"][0]["detail"]
