"""Folder endpoints: show, children (cursor pages), create a sub-folder.

Folder children list folders, version stacks (with ``head_version``) and files that sit directly
in the folder; stacked files are children of their stack, not of the folder. ``type`` filters by a
comma list of ``file``, ``folder``, ``version_stack``.
"""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from sandbox import uploads
from sandbox.errors import invalid
from sandbox.gateway import Call, api, ok
from sandbox.model import Asset, File, Stack
from sandbox.paging import ASSET_SORT_KEYS, page_params, page_response, parse_includes, sort_items
from sandbox.views import asset_view, folder_view

A = "/v4/accounts/{account_id}"
FOLDER_SORTS = tuple(f"{key}_{way}" for key in ("name", "created_at", "updated_at") for way in ("asc", "desc"))
FOLDER_INCLUDES = frozenset({"creator", "project", "metadata"})
ASSET_TYPES = {"file": File, "version_stack": Stack}


async def show_folder(call: Call) -> Response:
    store = call.sandbox.store
    folder = store.folder(call.request.path_params["folder_id"])
    includes = parse_includes(
        call.request.query_params.get("include"), call.sandbox.config.include_lists, FOLDER_INCLUDES
    )
    return ok(folder_view(folder, store, includes))


def _type_filter(value: str | None) -> set[str]:
    if not value:
        return {"file", "folder", "version_stack"}
    wanted = {item.strip() for item in value.split(",") if item.strip()}
    bad = wanted - {"file", "folder", "version_stack"}
    if bad or not wanted:
        raise invalid(f"Invalid type filter: {value}", "/type")
    return wanted


def _kind(asset: Asset) -> str:
    if isinstance(asset, File):
        return "file"
    return "version_stack" if isinstance(asset, Stack) else "folder"


async def list_folder_children(call: Call) -> Response:
    sandbox, store = call.sandbox, call.sandbox.store
    folder = store.folder(call.request.path_params["folder_id"])
    params = page_params(call.request, FOLDER_SORTS, sandbox.config.include_lists)
    wanted = _type_filter(call.request.query_params.get("type"))
    items = [asset for asset in store.children(folder.id) if _kind(asset) in wanted]
    items = sort_items(items, params.sort or sandbox.config.folder_default_sort, ASSET_SORT_KEYS)
    return page_response(call.request, params, items, lambda asset: asset_view(asset, store, params.includes))


async def create_folder(call: Call) -> Response:
    store = call.sandbox.store
    parent = store.folder(call.request.path_params["folder_id"])
    data = await call.data()
    name = uploads.check_name(data.get("name"))
    folder = store.add_folder(parent, name, call.user.id)
    store.emit("folder.created", folder, call.user.id, resource_type="folder")
    return ok(folder_view(folder, store), status=201)


ROUTES = [
    Route(f"{A}/folders/{{folder_id}}", api("show_folder", show_folder), methods=["GET"]),
    Route(f"{A}/folders/{{folder_id}}/children", api("list_folder_children", list_folder_children), methods=["GET"]),
    Route(f"{A}/folders/{{folder_id}}/folders", api("create_folder", create_folder), methods=["POST"]),
]
