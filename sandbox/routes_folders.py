"""Folder endpoints: show, children (cursor pages), create a sub-folder.

Folder children list folders, version stacks (with ``head_version`` unless the knob
``head_version_in_listings`` is off) and files that sit directly in the folder; stacked files are
children of their stack, not of the folder. ``type`` filters by ``file``, ``folder``,
``version_stack``; a comma list of them is honoured, refused (422) or cut to its first value, as
the knob ``type_list`` says. A version stack's id used as a folder id answers ``stack_as_folder``
(404, 400 or 422). Reads go through the read lag (``read_lag_ms``). Delete takes the folder and
everything in it (sub-folders, stacks, files) and answers 204; a project's root folder is 422.
"""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from sandbox import uploads
from sandbox.config import SandboxConfig
from sandbox.errors import ApiProblem, invalid
from sandbox.gateway import Call, api, ok
from sandbox.model import Asset, File, Folder, Stack
from sandbox.paging import ASSET_SORT_KEYS, page_params, page_response, parse_includes, sort_items
from sandbox.state import Store
from sandbox.views import asset_view, folder_view

A = "/v4/accounts/{account_id}"
FOLDER_SORTS = tuple(f"{key}_{way}" for key in ("name", "created_at", "updated_at") for way in ("asc", "desc"))
FOLDER_INCLUDES = frozenset({"creator", "project", "metadata"})
ASSET_TYPES = {"file": File, "version_stack": Stack}


def folder_to_read(store: Store, config: SandboxConfig, folder_id: str) -> Folder:
    """The folder, or the ``stack_as_folder`` answer when the id is a version stack's."""
    if folder_id in store.stacks and config.stack_as_folder != "404":
        raise ApiProblem(int(config.stack_as_folder), f"{folder_id} is a version stack, not a folder")
    return store.folder(folder_id)


async def show_folder(call: Call) -> Response:
    store = call.sandbox.read_store()
    folder = folder_to_read(store, call.sandbox.config, call.request.path_params["folder_id"])
    includes = parse_includes(
        call.request.query_params.get("include"), call.sandbox.config.include_lists, FOLDER_INCLUDES
    )
    return ok(folder_view(folder, store, includes))


def _type_filter(value: str | None, type_list: str) -> set[str]:
    if not value:
        return {"file", "folder", "version_stack"}
    wanted = [item.strip() for item in value.split(",") if item.strip()]
    if set(wanted) - {"file", "folder", "version_stack"} or not wanted:
        raise invalid(f"Invalid type filter: {value}", "/type")
    if len(wanted) > 1 and type_list == "refused_422":
        raise invalid("type takes a single value", "/type")
    if len(wanted) > 1 and type_list == "first_only":
        return {wanted[0]}
    return set(wanted)


def _kind(asset: Asset) -> str:
    if isinstance(asset, File):
        return "file"
    return "version_stack" if isinstance(asset, Stack) else "folder"


async def list_folder_children(call: Call) -> Response:
    store, config = call.sandbox.read_store(), call.sandbox.config
    folder = folder_to_read(store, config, call.request.path_params["folder_id"])
    params = page_params(call.request, FOLDER_SORTS, config.include_lists)
    wanted = _type_filter(call.request.query_params.get("type"), config.type_list)
    items = [asset for asset in store.children(folder.id) if _kind(asset) in wanted]
    items = sort_items(items, params.sort or config.folder_default_sort, ASSET_SORT_KEYS)
    head = config.head_version_in_listings
    return page_response(
        call.request, params, items, lambda asset: asset_view(asset, store, params.includes, head_version=head)
    )


async def create_folder(call: Call) -> Response:
    store = call.sandbox.store
    parent = store.folder(call.request.path_params["folder_id"])
    data = await call.data()
    name = uploads.check_name(data.get("name"))
    folder = store.add_folder(parent, name, call.user.id)
    store.emit("folder.created", folder, call.user.id, resource_type="folder")
    return ok(folder_view(folder, store), status=201)


async def delete_folder(call: Call) -> Response:
    sandbox = call.sandbox
    folder = sandbox.store.folder(call.request.path_params["folder_id"])
    if folder.parent_id is None:
        raise invalid("a project's root folder cannot be deleted", "/folder_id")
    with sandbox.writing() as store:
        store.remove_folder(folder)
    store.emit("folder.deleted", folder, call.user.id, resource_type="folder")
    return Response(status_code=204)


ROUTES = [
    Route(f"{A}/folders/{{folder_id}}", api("show_folder", show_folder), methods=["GET"]),
    Route(f"{A}/folders/{{folder_id}}/children", api("list_folder_children", list_folder_children), methods=["GET"]),
    Route(f"{A}/folders/{{folder_id}}", api("delete_folder", delete_folder), methods=["DELETE"]),
    Route(f"{A}/folders/{{folder_id}}/folders", api("create_folder", create_folder), methods=["POST"]),
]
