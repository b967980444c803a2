"""Custom Actions (experimental API) and the control that clicks one as a person would.

Per Frame.io's API reference (``docs/frameio.md`` §11): create ``POST …/workspaces/{w}/actions``
-> 201 with the ``secret``; list ``GET …/workspaces/{w}/actions`` (cursor pages); show, update
(``name``, ``description``, ``event``, ``url``) and delete under ``…/actions/{id}``. Every one needs
``api-version: experimental``; without it the sandbox answers 404 (the least convenient reading).

``POST /_sandbox/actions/{id}/click`` ``{"resource_id", "resource_type", "user_id"?, "values"?,
"interaction_id"?}`` runs a click to its end (:mod:`sandbox.clicks`) and returns what the user
was shown; ``GET /_sandbox/clicks`` lists every click so far.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox import clicks
from sandbox.errors import ApiProblem, invalid
from sandbox.gateway import Call, api, ok
from sandbox.model import Asset, CustomAction, now
from sandbox.paging import page_params, page_response, sort_items, time_key
from sandbox.routes_control import _guarded, _json
from sandbox.routes_webhooks import _check, _workspace
from sandbox.runtime import Sandbox
from sandbox.views import action_view

A = "/v4/accounts/{account_id}"
FIELDS = ("name", "description", "event", "url")
SORTS = ("name_asc", "created_at_asc", "name_desc", "created_at_desc")
SORT_KEYS = {"name": lambda action: str(action.name).lower(), "created_at": time_key("created_at")}


def _experimental(call: Call) -> None:
    if call.request.headers.get("api-version") != "experimental":
        raise ApiProblem(404, f"No route for {call.request.url.path} (Custom Actions need api-version: experimental)")


async def actions_create(call: Call) -> Response:
    _experimental(call)
    store = call.sandbox.store
    workspace_id = _workspace(call)
    data = await call.data()
    name, description, event, url = (_check(data, key, required=True) for key in FIELDS)
    action = CustomAction(store.new_id(), name, description, event, url, store.new_secret(), workspace_id, call.user.id)
    store.actions[action.id] = action
    return ok(action_view(action, secret=True), status=201)


async def actions_list(call: Call) -> Response:
    _experimental(call)
    workspace_id = _workspace(call)
    params = page_params(call.request, SORTS, allow_include_lists=False)
    found = [action for action in call.sandbox.store.actions.values() if action.workspace_id == workspace_id]
    return page_response(
        call.request, params, sort_items(found, params.sort or "created_at_asc", SORT_KEYS), action_view
    )


async def actions_show(call: Call) -> Response:
    _experimental(call)
    return ok(action_view(call.sandbox.store.action(call.request.path_params["action_id"])))


async def actions_update(call: Call) -> Response:
    _experimental(call)
    action = call.sandbox.store.action(call.request.path_params["action_id"])
    data = await call.data()
    for key in FIELDS:
        value = _check(data, key, required=False)
        if value is not None:
            setattr(action, key, value)
    action.updated_at = now()
    return ok(action_view(action))


async def actions_delete(call: Call) -> Response:
    _experimental(call)
    store = call.sandbox.store
    del store.actions[store.action(call.request.path_params["action_id"]).id]
    return Response(status_code=204)


# -- the control: click an action ----------------------------------------------------------------


def _resource(sandbox: Sandbox, resource_id: str, resource_type: str) -> Asset:
    store = sandbox.store
    table: dict[str, dict[str, Any]] = {"file": store.files, "folder": store.folders, "version_stack": store.stacks}
    if resource_type not in table:
        raise invalid("resource_type must be file, folder or version_stack", "/resource_type")
    found = table[resource_type].get(resource_id)
    if found is None:
        raise ApiProblem(404, f"No {resource_type} {resource_id}")
    asset: Asset = found
    return asset


async def click(request: Request, sandbox: Sandbox) -> Response:
    action = sandbox.store.action(request.path_params["action_id"])
    body = await _json(request)
    if not isinstance(body, dict):
        raise invalid("the body must be an object")
    resource_type = str(body.get("resource_type", ""))
    asset = _resource(sandbox, str(body.get("resource_id", "")), resource_type)
    values = body.get("values") or []
    if not isinstance(values, list) or not all(isinstance(value, dict) for value in values):
        raise invalid("values must be a list of objects (one per form)", "/values")
    user_id = str(body.get("user_id") or sandbox.store.uploader_user_id)
    base = clicks.payload(
        action,
        sandbox.store.account_id,
        asset.project_id,
        {"id": asset.id, "type": resource_type},
        user_id,
        str(body.get("interaction_id") or ""),
    )
    record = await clicks.click(sandbox.config, action, base, values)
    sandbox.store.clicks.append(record)
    return JSONResponse(record)


async def list_clicks(request: Request, sandbox: Sandbox) -> Response:
    return JSONResponse({"clicks": sandbox.store.clicks})


ACT = f"{A}/actions/{{action_id}}"
ROUTES = [
    Route(f"{A}/workspaces/{{workspace_id}}/actions", api("actions_create", actions_create), methods=["POST"]),
    Route(f"{A}/workspaces/{{workspace_id}}/actions", api("actions_list", actions_list), methods=["GET"]),
    Route(ACT, api("actions_show", actions_show), methods=["GET"]),
    Route(ACT, api("actions_update", actions_update), methods=["PATCH"]),
    Route(ACT, api("actions_delete", actions_delete), methods=["DELETE"]),
    Route("/_sandbox/actions/{action_id}/click", _guarded(click), methods=["POST"]),
    Route("/_sandbox/clicks", _guarded(list_clicks), methods=["GET"]),
]
