"""JSON views of the records, field for field as the SDK's models name them.

``File``/``FileWithIncludes``, ``Folder``, ``VersionStack`` (with ``head_version``), ``Webhook``,
``Project``, ``User`` and ``Profile`` (``frameio/types``). Optional includes (``creator``,
``project``, ``metadata``, ``media_links.*``) appear only when asked for; transcode links stay null
until the file is ``transcoded``.
"""

from __future__ import annotations

from typing import Any

from sandbox.model import Asset, CustomAction, File, Folder, Project, Stack, User, Webhook, iso
from sandbox.state import Store

MEDIA_LINKS = (
    "original", "thumbnail", "thumbnail_high_quality", "video_h264_180", "high_quality", "efficient",
    "scrub_sheet",
)  # fmt: skip
INCLUDES = frozenset({"creator", "project", "metadata", *(f"media_links.{name}" for name in MEDIA_LINKS)})
ASSET_HOST = "https://assets.sandbox.invalid"


def view_url(project_id: str, asset_id: str) -> str:
    return f"https://next.frame.io/project/{project_id}/view/{asset_id}"


def user_view(user: User) -> dict[str, Any]:
    return {"id": user.id, "name": user.name, "email": user.email, "active": True, "avatar_url": None}


def project_view(project: Project, store: Store) -> dict[str, Any]:
    return {
        "id": project.id,
        "name": project.name,
        "workspace_id": project.workspace_id,
        "root_folder_id": project.root_folder_id,
        "status": "active",
        "storage": 0,
        "restricted": False,
        "created_at": iso(project.created_at),
        "updated_at": iso(project.updated_at),
        "view_url": f"https://next.frame.io/project/{project.id}",
        "owner": user_view(store.users[store.api_user_id]),
    }


def _common(asset: Asset, kind: str, store: Store, includes: frozenset[str]) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": asset.id,
        "name": asset.name,
        "parent_id": asset.parent_id,
        "project_id": asset.project_id,
        "type": kind,
        "created_at": iso(asset.created_at),
        "updated_at": iso(asset.updated_at),
        "view_url": view_url(asset.project_id, asset.id),
    }
    if "creator" in includes and asset.creator_id in store.users:
        view["creator"] = user_view(store.users[asset.creator_id])
    if "project" in includes:
        view["project"] = project_view(store.projects[asset.project_id], store)
    if "metadata" in includes:
        view["metadata"] = []
    return view


def _media_link(file: File, name: str) -> dict[str, Any] | None:
    if name == "original":
        if file.status == "created":
            return None
        url = f"{ASSET_HOST}/{file.id}/original"
        return {"download_url": url, "inline_url": url}
    if file.status != "transcoded":
        return None
    return {"url": f"{ASSET_HOST}/{file.id}/{name}"}


def file_view(file: File, store: Store, includes: frozenset[str] = frozenset()) -> dict[str, Any]:
    view = _common(file, "file", store, includes)
    media_type = file.media_type if file.media_type_known else None
    view.update(file_size=file.file_size, media_type=media_type, status=file.status)
    asked = [name for name in MEDIA_LINKS if f"media_links.{name}" in includes]
    if asked:
        view["media_links"] = {name: _media_link(file, name) for name in asked}
    return view


def folder_view(folder: Folder, store: Store, includes: frozenset[str] = frozenset()) -> dict[str, Any]:
    view = _common(folder, "folder", store, includes)
    view.update(cover_file_id=None, restricted=False)
    return view


def stack_view(
    stack: Stack, store: Store, includes: frozenset[str] = frozenset(), *, head_version: bool = True
) -> dict[str, Any]:
    """A ``VersionStackWithIncludes``; ``head_version=False`` leaves that (optional) field out."""
    view = _common(stack, "version_stack", store, includes)
    head = stack.head_id
    if head_version:
        view["head_version"] = file_view(store.files[head], store, includes) if head else None
    return view


def asset_view(
    asset: Asset, store: Store, includes: frozenset[str] = frozenset(), *, head_version: bool = True
) -> dict[str, Any]:
    if isinstance(asset, File):
        return file_view(asset, store, includes)
    if isinstance(asset, Stack):
        return stack_view(asset, store, includes, head_version=head_version)
    assert isinstance(asset, Folder)
    return folder_view(asset, store, includes)


def webhook_view(webhook: Webhook, store: Store, *, secret: bool = False, creator: bool = False) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": webhook.id,
        "name": webhook.name,
        "url": webhook.url,
        "events": list(webhook.events),
        "active": webhook.active,
        "workspace_id": webhook.workspace_id,
        "created_at": iso(webhook.created_at),
        "updated_at": iso(webhook.updated_at),
    }
    if secret:
        view["secret"] = webhook.secret
    if creator and webhook.creator_id in store.users:
        view["creator"] = user_view(store.users[webhook.creator_id])
    return view


def action_view(action: CustomAction, *, secret: bool = False) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": action.id,
        "name": action.name,
        "description": action.description,
        "event": action.event,
        "url": action.url,
        "workspace_id": action.workspace_id,
        "created_at": iso(action.created_at),
        "updated_at": iso(action.updated_at),
    }
    if secret:
        view["secret"] = action.secret
    return view
