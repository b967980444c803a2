"""List accounts, show a project and show a workspace: what a client reads to check where it is.

Per the SDK's ``accounts``, ``projects`` and ``workspaces`` raw clients: ``GET /v4/accounts`` ->
200, a page of the caller's accounts (those its user is a member of); ``GET …/projects/{id}`` -> 200
``Project`` (with ``root_folder_id`` and ``workspace_id``); ``GET …/workspaces/{id}`` -> 200
``Workspace``; an unknown id is 404.
"""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from sandbox.errors import not_found
from sandbox.gateway import Call, api, ok
from sandbox.model import iso
from sandbox.paging import page_params, page_response
from sandbox.views import project_view

A = "/v4/accounts/{account_id}"


async def accounts_list(call: Call) -> Response:
    store = call.sandbox.store
    created = iso(store.projects[store.project_id].created_at)
    ids = store.accounts_of(call.user.id)
    accounts = [{"id": account_id, "display_name": "Sandbox Account", "created_at": created} for account_id in ids]
    params = page_params(call.request, (), allow_include_lists=False)
    return page_response(call.request, params, accounts, lambda item: item)


async def show_project(call: Call) -> Response:
    store = call.sandbox.store
    project = store.projects.get(call.request.path_params["project_id"])
    if project is None:
        raise not_found("Project", call.request.path_params["project_id"])
    return ok(project_view(project, store))


async def show_workspace(call: Call) -> Response:
    store = call.sandbox.store
    workspace_id = call.request.path_params["workspace_id"]
    if workspace_id not in store.workspaces:
        raise not_found("Workspace", workspace_id)
    first = store.projects[store.project_id]
    return ok(
        {
            "id": workspace_id,
            "name": "Sandbox Workspace",
            "account_id": store.workspaces[workspace_id],
            "created_at": iso(first.created_at),
            "updated_at": iso(first.updated_at),
        }
    )


ROUTES = [
    Route("/v4/accounts", api("accounts_list", accounts_list), methods=["GET"]),
    Route(f"{A}/projects/{{project_id}}", api("show_project", show_project), methods=["GET"]),
    Route(f"{A}/workspaces/{{workspace_id}}", api("show_workspace", show_workspace), methods=["GET"]),
]
