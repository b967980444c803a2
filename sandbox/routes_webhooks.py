"""Webhook management (workspace-scoped) and ``GET /v4/me``.

Per the SDK's ``webhooks/raw_client.py``: create ``POST …/workspaces/{w}/webhooks`` -> 201 with the
``secret`` (the only answer that ever shows it); list (cursor pages) and show -> without secret;
update (``active``, ``events``, ``name``, ``url``) -> 200; delete -> 204 (pending retries stop).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from starlette.responses import Response
from starlette.routing import Route

from sandbox.errors import ApiProblem, invalid
from sandbox.events import VALID_EVENTS
from sandbox.gateway import Call, api, ok
from sandbox.model import Webhook, now
from sandbox.paging import page_params, page_response, sort_items, time_key
from sandbox.views import user_view, webhook_view

A = "/v4/accounts/{account_id}"
WEBHOOK_SORTS = ("name_asc", "created_at_asc", "name_desc", "created_at_desc")
WEBHOOK_SORT_KEYS = {"name": lambda hook: str(hook.name).lower(), "created_at": time_key("created_at")}


def _workspace(call: Call) -> str:
    workspace_id: str = call.request.path_params["workspace_id"]
    if workspace_id not in call.sandbox.store.workspaces:
        raise ApiProblem(404, f"Workspace {workspace_id} not found")
    return workspace_id


def _check(data: dict[str, Any], key: str, *, required: bool) -> Any:
    value = data.get(key)
    if value is None:
        if required:
            raise invalid(f"{key} is required", f"/data/{key}")
        return None
    if key == "events":
        if not isinstance(value, list) or not value or not all(isinstance(e, str) for e in value):
            raise invalid("events must be a non-empty list of event names", "/data/events")
        unknown = sorted(set(value) - VALID_EVENTS)
        if unknown:
            raise invalid(f"Unknown event(s): {', '.join(unknown)}", "/data/events")
        return list(dict.fromkeys(value))
    if key == "active":
        if not isinstance(value, bool):
            raise invalid("active must be true or false", "/data/active")
        return value
    if not isinstance(value, str) or not value.strip():
        raise invalid(f"{key} must be a non-empty string", f"/data/{key}")
    if key == "url" and (urlsplit(value).scheme not in ("http", "https") or not urlsplit(value).netloc):
        raise invalid("url must be an absolute http(s) URL", "/data/url")
    return value


async def webhooks_create(call: Call) -> Response:
    store = call.sandbox.store
    workspace_id = _workspace(call)
    data = await call.data()
    name, url, events = (_check(data, key, required=True) for key in ("name", "url", "events"))
    webhook = Webhook(store.new_id(), name, url, events, store.new_secret(), workspace_id, call.user.id)
    store.webhooks[webhook.id] = webhook
    return ok(webhook_view(webhook, store, secret=True), status=201)


async def webhooks_list(call: Call) -> Response:
    store = call.sandbox.store
    workspace_id = _workspace(call)
    params = page_params(call.request, WEBHOOK_SORTS, allow_include_lists=False)
    hooks = [hook for hook in store.webhooks.values() if hook.workspace_id == workspace_id]
    hooks = sort_items(hooks, params.sort or "created_at_asc", WEBHOOK_SORT_KEYS)
    creator = "creator" in params.includes
    return page_response(call.request, params, hooks, lambda hook: webhook_view(hook, store, creator=creator))


async def webhooks_show(call: Call) -> Response:
    store = call.sandbox.store
    webhook = store.webhook(call.request.path_params["webhook_id"])
    creator = call.request.query_params.get("include") == "creator"
    return ok(webhook_view(webhook, store, creator=creator))


async def webhooks_update(call: Call) -> Response:
    store = call.sandbox.store
    webhook = store.webhook(call.request.path_params["webhook_id"])
    data = await call.data()
    for key in ("name", "url", "events", "active"):
        value = _check(data, key, required=False)
        if value is not None:
            setattr(webhook, key, value)
    webhook.updated_at = now()
    if not webhook.active:
        call.sandbox.deliveries.cancel_for(webhook.id)
    return ok(webhook_view(webhook, store))


async def webhooks_delete(call: Call) -> Response:
    store = call.sandbox.store
    webhook = store.webhook(call.request.path_params["webhook_id"])
    del store.webhooks[webhook.id]
    call.sandbox.deliveries.cancel_for(webhook.id)
    return Response(status_code=204)


async def me(call: Call) -> Response:
    return ok(user_view(call.user))


W = f"{A}/webhooks/{{webhook_id}}"
ROUTES = [
    Route(f"{A}/workspaces/{{workspace_id}}/webhooks", api("webhooks_create", webhooks_create), methods=["POST"]),
    Route(f"{A}/workspaces/{{workspace_id}}/webhooks", api("webhooks_list", webhooks_list), methods=["GET"]),
    Route(W, api("webhooks_show", webhooks_show), methods=["GET"]),
    Route(W, api("webhooks_update", webhooks_update), methods=["PATCH"]),
    Route(W, api("webhooks_delete", webhooks_delete), methods=["DELETE"]),
    Route("/v4/me", api("me", me), methods=["GET"]),
]
