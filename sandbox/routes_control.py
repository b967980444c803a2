"""Control endpoints under ``/_sandbox`` (not Frame.io's; no auth, no rate limits, no faults).

- ``GET /_sandbox/state``: the seeded ids and the token.
- ``POST /_sandbox/upload``: the whole upload flow in one call (``stop_at`` may halt it early);
  ``POST /_sandbox/files/{id}/advance`` ``{"to": "uploaded"|"transcoded"}`` moves it on later.
- ``GET /_sandbox/tree?folder_id=``: folders, stacks (children top first) and files.
- ``GET /_sandbox/deliveries`` (``resource_id``, ``event_type`` filters), ``DELETE`` clears finished
  ones; ``POST /_sandbox/deliveries/drop`` ``{"resource_id"}`` drops every delivery for a resource,
  ``DELETE /_sandbox/deliveries/drop`` forgets those rules.
- ``GET /_sandbox/calls``, ``POST /_sandbox/calls/reset``.
- ``GET``/``PATCH /_sandbox/config``; ``POST /_sandbox/tokens`` ``{"token", "name"?}``.
- ``POST /_sandbox/reset`` ``{knob: value, ...}``: a fresh world with the start-up knobs plus these.
- ``GET``/``POST``/``DELETE /_sandbox/faults``; ``POST /_sandbox/ratelimits/reset``.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox import uploads
from sandbox.config import ConfigError, as_dict
from sandbox.errors import ApiProblem, error_response
from sandbox.faults import parse_fault
from sandbox.gateway import sandbox_of
from sandbox.ratelimit import LIMITS
from sandbox.runtime import Sandbox
from sandbox.views import file_view

ENDPOINTS = frozenset({*LIMITS, "upload_part"})
STOPS = ("created", "uploaded", "transcoded")


async def _json(request: Request) -> Any:
    raw = await request.body()
    try:
        return json.loads(raw) if raw.strip() else {}
    except ValueError:
        raise ApiProblem(400, "Malformed JSON body") from None


def _guarded(handler: Any) -> Any:
    async def run(request: Request) -> Response:
        try:
            response: Response = await handler(request, sandbox_of(request))
            return response
        except ApiProblem as problem:
            return error_response(problem.status, problem.detail, problem.pointer)
        except ConfigError as exc:
            return error_response(422, str(exc))

    return run


async def state(request: Request, sandbox: Sandbox) -> Response:
    return JSONResponse(sandbox.state_view())


def _upload_args(body: Any, sandbox: Sandbox) -> tuple[str, int, str, str | None, str]:
    if not isinstance(body, dict):
        raise ApiProblem(422, "body must be a JSON object")
    name = uploads.check_name(body.get("name"), "/name")
    size = body.get("file_size", 1024 * 1024)
    if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
        raise ApiProblem(422, "file_size must be a positive integer", "/file_size")
    user_id = body.get("user_id") or sandbox.store.uploader_user_id
    if not isinstance(user_id, str):
        raise ApiProblem(422, "user_id must be a string", "/user_id")
    if user_id not in sandbox.store.users:
        sandbox.store.add_user("Uploader", user_id=user_id)
    stop_at = body.get("stop_at", "transcoded")
    if stop_at not in STOPS:
        raise ApiProblem(422, f"stop_at must be one of {list(STOPS)}", "/stop_at")
    media_type = body.get("media_type")
    return name, size, user_id, media_type if isinstance(media_type, str) else None, stop_at


async def upload(request: Request, sandbox: Sandbox) -> Response:
    body = await _json(request)
    store = sandbox.store
    folder = store.folder(str(body.get("folder_id") or store.projects[store.project_id].root_folder_id))
    name, size, user_id, media_type, stop_at = _upload_args(body, sandbox)
    file = uploads.create_file(sandbox, folder, name, size, user_id, media_type)
    view = {"data": file_view(file, store)}
    if stop_at == "created":
        view["data"]["upload_urls"] = uploads.upload_urls(file, str(request.base_url))
        view["data"]["media_type"] = file.media_type  # what the PUTs must send, as local_upload answers
    else:
        _advance(sandbox, file.id, stop_at)
        view = {"data": file_view(file, store)}
    return JSONResponse(view, status_code=201)


def _advance(sandbox: Sandbox, file_id: str, to: str) -> None:
    file = sandbox.store.file(file_id)
    if file.status == "created":
        for part in file.parts:
            part.received = True
        uploads.mark_uploaded(sandbox, file, transcode=to == "transcoded")
    elif to == "transcoded":
        uploads.mark_transcoded(sandbox, file.id)


async def advance(request: Request, sandbox: Sandbox) -> Response:
    """Move a file on: ``created`` -> ``uploaded`` (-> ``transcoded`` after the delay) or at once."""
    body = await _json(request)
    to = body.get("to", "uploaded") if isinstance(body, dict) else None
    if to not in ("uploaded", "transcoded"):
        raise ApiProblem(422, "to must be uploaded or transcoded", "/to")
    file_id = request.path_params["file_id"]
    _advance(sandbox, file_id, to)
    return JSONResponse({"data": file_view(sandbox.store.file(file_id), sandbox.store)})


def _stack_entry(sandbox: Sandbox, stack_id: str) -> dict[str, Any]:
    store = sandbox.store
    stack = store.stacks[stack_id]
    top_first = [store.files[file_id] for file_id in reversed(stack.file_ids)]
    return {"id": stack.id, "name": stack.name, "children": [{"id": f.id, "name": f.name} for f in top_first]}


def _tree(sandbox: Sandbox, folder_id: str) -> dict[str, Any]:
    store = sandbox.store
    folder = store.folder(folder_id)
    children = sorted(store.children(folder.id), key=lambda asset: (asset.name, asset.id))
    return {
        "id": folder.id,
        "name": folder.name,
        "folders": [_tree(sandbox, a.id) for a in children if a.id in store.folders],
        "stacks": [_stack_entry(sandbox, a.id) for a in children if a.id in store.stacks],
        "files": [{"id": a.id, "name": a.name} for a in children if a.id in store.files],
    }


async def tree(request: Request, sandbox: Sandbox) -> Response:
    store = sandbox.store
    folder_id = request.query_params.get("folder_id") or store.projects[store.project_id].root_folder_id
    return JSONResponse(_tree(sandbox, folder_id))


async def deliveries(request: Request, sandbox: Sandbox) -> Response:
    query = request.query_params
    listing = sandbox.deliveries.listing(query.get("resource_id"), query.get("event_type"))
    attempts = [
        {k: d[k] for k in ("id", "webhook_id", "event_type", "resource_id")} | {"delivery_id": d["id"]} | a
        for d in listing
        for a in d["attempts"]
    ]
    return JSONResponse({"deliveries": listing, "attempts": attempts})


async def clear_deliveries(request: Request, sandbox: Sandbox) -> Response:
    sandbox.deliveries.clear()
    return Response(status_code=204)


async def drop_deliveries(request: Request, sandbox: Sandbox) -> Response:
    body = await _json(request)
    resource_id = body.get("resource_id") if isinstance(body, dict) else None
    if not isinstance(resource_id, str) or not resource_id:
        raise ApiProblem(422, "resource_id is required", "/resource_id")
    sandbox.deliveries.dropped_resources.add(resource_id)
    return JSONResponse({"dropped_resources": sorted(sandbox.deliveries.dropped_resources)})


async def undrop_deliveries(request: Request, sandbox: Sandbox) -> Response:
    sandbox.deliveries.dropped_resources.clear()
    return Response(status_code=204)


async def calls(request: Request, sandbox: Sandbox) -> Response:
    return JSONResponse({"calls": sandbox.call_listing()})


async def reset_calls(request: Request, sandbox: Sandbox) -> Response:
    sandbox.calls.clear()
    return Response(status_code=204)


async def show_config(request: Request, sandbox: Sandbox) -> Response:
    return JSONResponse(as_dict(sandbox.config))


async def patch_config(request: Request, sandbox: Sandbox) -> Response:
    body = await _json(request)
    if not isinstance(body, dict):
        raise ApiProblem(422, "body must be a JSON object of knob values")
    sandbox.update_config(body)
    return JSONResponse(as_dict(sandbox.config))


async def reset(request: Request, sandbox: Sandbox) -> Response:
    body = await _json(request)
    if not isinstance(body, dict):
        raise ApiProblem(422, "body must be a JSON object of knob values")
    sandbox.reset(body)
    return JSONResponse(sandbox.state_view())


async def add_token(request: Request, sandbox: Sandbox) -> Response:
    body = await _json(request)
    token = body.get("token") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token:
        raise ApiProblem(422, "token is required", "/token")
    user_id = sandbox.register_token(token, body.get("name"))
    return JSONResponse({"token": token, "user_id": user_id}, status_code=201)


async def add_account(request: Request, sandbox: Sandbox) -> Response:
    """Another account (its own workspace, project, webhooks and rate-limit buckets), with an API
    user and token of its own unless ``{"own_token": false}`` or the ``account_tokens`` knob says
    ``shared``; answers the token that reaches it."""
    body = await _json(request)
    own = body.get("own_token", sandbox.config.account_tokens == "own") if isinstance(body, dict) else None
    if not isinstance(own, bool):
        raise ApiProblem(422, "own_token must be true or false", "/own_token")
    store = sandbox.store
    token = f"sandbox-account-token-{store.new_secret()[:32]}" if own else sandbox.config.token
    project = store.add_account(token if own else None)
    view = {
        "account_id": store.account_of(project.id),
        "workspace_id": project.workspace_id,
        "project_id": project.id,
        "root_folder_id": project.root_folder_id,
        "token": token,
    }
    return JSONResponse(view, status_code=201)


async def list_faults(request: Request, sandbox: Sandbox) -> Response:
    return JSONResponse({"faults": sandbox.faults.listing()})


async def add_fault(request: Request, sandbox: Sandbox) -> Response:
    sandbox.faults.add(parse_fault(await _json(request), ENDPOINTS))
    return JSONResponse({"faults": sandbox.faults.listing()}, status_code=201)


async def clear_faults(request: Request, sandbox: Sandbox) -> Response:
    sandbox.faults.clear()
    return Response(status_code=204)


async def reset_ratelimits(request: Request, sandbox: Sandbox) -> Response:
    sandbox.limiter.reset()
    return Response(status_code=204)


P = "/_sandbox"
ROUTES = [
    Route(f"{P}/state", _guarded(state), methods=["GET"]),
    Route(f"{P}/upload", _guarded(upload), methods=["POST"]),
    Route(P + "/files/{file_id}/advance", _guarded(advance), methods=["POST"]),
    Route(f"{P}/tree", _guarded(tree), methods=["GET"]),
    Route(f"{P}/deliveries", _guarded(deliveries), methods=["GET"]),
    Route(f"{P}/deliveries", _guarded(clear_deliveries), methods=["DELETE"]),
    Route(f"{P}/deliveries/drop", _guarded(drop_deliveries), methods=["POST"]),
    Route(f"{P}/deliveries/drop", _guarded(undrop_deliveries), methods=["DELETE"]),
    Route(f"{P}/calls", _guarded(calls), methods=["GET"]),
    Route(f"{P}/calls/reset", _guarded(reset_calls), methods=["POST"]),
    Route(f"{P}/config", _guarded(show_config), methods=["GET"]),
    Route(f"{P}/config", _guarded(patch_config), methods=["PATCH"]),
    Route(f"{P}/tokens", _guarded(add_token), methods=["POST"]),
    Route(f"{P}/accounts", _guarded(add_account), methods=["POST"]),
    Route(f"{P}/reset", _guarded(reset), methods=["POST"]),
    Route(f"{P}/faults", _guarded(list_faults), methods=["GET"]),
    Route(f"{P}/faults", _guarded(add_fault), methods=["POST"]),
    Route(f"{P}/faults", _guarded(clear_faults), methods=["DELETE"]),
    Route(f"{P}/ratelimits/reset", _guarded(reset_ratelimits), methods=["POST"]),
]
