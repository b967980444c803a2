"""A person clicking a Custom Action, as Frame.io runs it (``docs/frameio.md`` §11).

A click posts the action's payload (``account_id``, ``action_id``, ``interaction_id``,
``project``, ``resource``, ``type`` = the action's event key, ``user``, ``workspace``), signed as
a webhook is (``v0:{ts}:{body}``, HMAC-SHA256 with the action's secret). An attempt fails on a
non-2xx answer, a connection error or no answer within ``action_timeout_s`` (10 s); a step is
tried ``action_attempts`` times (5). A 2xx answer with ``fields`` is a form: the user fills it with
the next of the given values and Frame.io posts again under the same ``interaction_id`` with
``data``; an answer without fields (or none left to give) ends the click. What the user was shown
at each step is recorded in the store (``clicks``) for the control API.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import httpx

from sandbox.config import SandboxConfig
from sandbox.model import CustomAction
from sandbox.signing import signature_headers


def payload(
    action: CustomAction, account_id: str, project_id: str, resource: dict[str, str], user_id: str, interaction: str
) -> dict[str, Any]:
    return {
        "account_id": account_id,
        "action_id": action.id,
        "interaction_id": interaction,
        "project": {"id": project_id},
        "resource": resource,
        "type": action.event,
        "user": {"id": user_id},
        "workspace": {"id": action.workspace_id},
    }


async def click(
    config: SandboxConfig, action: CustomAction, base: dict[str, Any], values: list[dict[str, Any]]
) -> dict[str, Any]:
    """Run one click to its end: the screens the user saw, in order."""
    interaction = base["interaction_id"] or str(uuid.uuid4())
    base = {**base, "interaction_id": interaction}
    screens: list[dict[str, Any]] = []
    pending = list(values)
    data: dict[str, Any] | None = None
    async with httpx.AsyncClient(timeout=config.action_timeout_s) as http:
        while True:
            body = {**base, **({"data": data} if data is not None else {})}
            screen = await _step(config, http, action, body)
            screens.append({"sent": data, **screen})
            shown = screen["shown"]
            if shown is None or not shown.get("fields") or not pending:
                break
            data = pending.pop(0)
    return {"interaction_id": interaction, "action_id": action.id, "event": action.event, "screens": screens}


async def _step(config: SandboxConfig, http: httpx.AsyncClient, action: CustomAction, body: dict[str, Any]) -> Any:
    raw = json.dumps(body).encode()
    attempts: list[dict[str, Any]] = []
    for number in range(1, config.action_attempts + 1):
        started = time.monotonic()
        headers = {**signature_headers(action.secret, int(time.time()), raw), "content-type": "application/json"}
        status: int | None = None
        error: str | None = None
        try:
            response = await http.post(action.url, content=raw, headers=headers)
            status = response.status_code
        except httpx.HTTPError as exc:
            error = type(exc).__name__
        attempts.append({"number": number, "status": status, "error": error, "elapsed_s": _since(started)})
        if status is not None and 200 <= status < 300:
            return {"attempts": attempts, "shown": _shown(response)}
        if number < config.action_attempts:
            await asyncio.sleep(config.action_retry_s)
    return {"attempts": attempts, "shown": None}


def _shown(response: httpx.Response) -> dict[str, Any]:
    """What the user sees for a 2xx answer: its title, description and fields (an empty body: a
    plain acknowledgement)."""
    try:
        answer = response.json()
    except ValueError:
        return {"title": "", "description": ""}
    if not isinstance(answer, dict):
        return {"title": "", "description": ""}
    return {key: answer[key] for key in ("title", "description", "fields") if key in answer}


def _since(started: float) -> float:
    return round(time.monotonic() - started, 3)
