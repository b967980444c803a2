"""Version stack endpoints: create, show, list in a folder, children, move, copy, reorder.

Per the SDK's ``version_stacks/raw_client.py`` and ``docs/frameio.md`` §2: create answers 201
``VersionStackWithIncludes``; show/list answer ``VersionStackWithIncludes``; move and copy answer
200 ``VersionStack``; children are pages of assets in stack order (top first unless the
``children_order`` knob says otherwise; an explicit ``sort`` wins). Reorder
(``PATCH …/versions``, absent from SDK 4.0.0) answers 200 with the children, 422 when impossible;
with ``reorder_requires_experimental`` it answers 404, as an unknown route does, unless the call
carries ``api-version: experimental``. ``head_version`` is left out of listings and show when the
knobs ``head_version_in_listings`` / ``head_version_in_show_stack`` are off. Reads go through the
read lag and writes are recorded for it (``read_lag_ms``).
"""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from sandbox import stacking
from sandbox.errors import ApiProblem, invalid
from sandbox.gateway import Call, api, ok
from sandbox.paging import ASSET_SORT_KEYS, page_params, page_response, parse_bool, parse_includes, sort_items
from sandbox.views import asset_view, file_view, stack_view

A = "/v4/accounts/{account_id}"
TIME_AND_NAME = ("name", "created_at", "updated_at")
LIST_SORTS = tuple(f"{key}_{way}" for key in TIME_AND_NAME for way in ("asc", "desc"))
CHILD_SORTS = tuple(f"{key}_{way}" for key in (*TIME_AND_NAME, "file_size") for way in ("asc", "desc"))


async def create_stack(call: Call) -> Response:
    sandbox = call.sandbox
    folder = sandbox.store.folder(call.request.path_params["folder_id"])
    data = await call.data()
    with sandbox.writing() as store:
        stack = stacking.create_stack(store, sandbox.config, folder, data, call.user.id)
    return ok(stack_view(stack, sandbox.store), status=201)


async def show_stack(call: Call) -> Response:
    store, config = call.sandbox.read_store(), call.sandbox.config
    stack = store.stack(call.request.path_params["version_stack_id"])
    includes = parse_includes(call.request.query_params.get("include"), config.include_lists)
    return ok(stack_view(stack, store, includes, head_version=config.head_version_in_show_stack))


async def list_stacks(call: Call) -> Response:
    store, config = call.sandbox.read_store(), call.sandbox.config
    folder = store.folder(call.request.path_params["folder_id"])
    params = page_params(call.request, LIST_SORTS, config.include_lists)
    stacks = [stack for stack in store.stacks.values() if stack.parent_id == folder.id]
    stacks = sort_items(stacks, params.sort or config.folder_default_sort, ASSET_SORT_KEYS)
    head = config.head_version_in_listings
    return page_response(
        call.request, params, stacks, lambda stack: stack_view(stack, store, params.includes, head_version=head)
    )


async def list_stack_children(call: Call) -> Response:
    sandbox, store = call.sandbox, call.sandbox.read_store()
    stack = store.stack(call.request.path_params["version_stack_id"])
    params = page_params(call.request, CHILD_SORTS, sandbox.config.include_lists)
    files = stacking.ordered_children(stack, store, sandbox.config)
    if params.sort:
        files = sort_items(files, params.sort, ASSET_SORT_KEYS)
    return page_response(call.request, params, files, lambda file: asset_view(file, store, params.includes))


async def move_stack(call: Call) -> Response:
    sandbox = call.sandbox
    stack = sandbox.store.stack(call.request.path_params["version_stack_id"])
    parent_id = (await call.data()).get("parent_id")
    if not isinstance(parent_id, str) or not parent_id:
        raise invalid("parent_id must be a folder id", "/data/parent_id")
    with sandbox.writing() as store:
        moved = stacking.move_stack(store, stack, parent_id)
    return ok(stack_view(moved, sandbox.store))


async def copy_stack(call: Call) -> Response:
    sandbox, store = call.sandbox, call.sandbox.store
    stack = store.stack(call.request.path_params["version_stack_id"])
    parse_bool(call.request.query_params.get("copy_metadata"), "copy_metadata")
    parent_id = (await call.optional_data()).get("parent_id")
    if parent_id is not None and (not isinstance(parent_id, str) or not parent_id):
        raise invalid("parent_id must be a folder id", "/data/parent_id")
    with sandbox.writing():
        copy = stacking.copy_stack(store, sandbox.config, stack, parent_id, call.user.id)
    return ok(stack_view(copy, store))


EXPERIMENTAL = "experimental"


async def reorder_stack(call: Call) -> Response:
    sandbox, store = call.sandbox, call.sandbox.store
    if sandbox.config.reorder_requires_experimental and call.request.headers.get("api-version") != EXPERIMENTAL:
        raise ApiProblem(404, f"No route for {call.request.url.path}")  # the body of an unknown route
    stack = store.stack(call.request.path_params["version_stack_id"])
    data = await call.data()
    with sandbox.writing():
        stacking.reorder(store, sandbox.config, stack, data, call.user.id)
    return ok([file_view(file, store) for file in stacking.ordered_children(stack, store, sandbox.config)])


S = f"{A}/version_stacks/{{version_stack_id}}"
ROUTES = [
    Route(f"{A}/folders/{{folder_id}}/version_stacks", api("create_stack", create_stack), methods=["POST"]),
    Route(f"{A}/folders/{{folder_id}}/version_stacks", api("list_stacks", list_stacks), methods=["GET"]),
    Route(S, api("show_stack", show_stack), methods=["GET"]),
    Route(f"{S}/children", api("list_stack_children", list_stack_children), methods=["GET"]),
    Route(f"{S}/move", api("move_stack", move_stack), methods=["PATCH"]),
    Route(f"{S}/copy", api("copy_stack", copy_stack), methods=["POST"]),
    Route(f"{S}/versions", api("reorder_stack", reorder_stack), methods=["PATCH"]),
]
