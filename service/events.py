"""The webhook payload: only ids (Frame.io sends no event id and no resource details)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


class MalformedEvent(Exception):
    """The body is not a Frame.io event; the text says what is wrong."""


@dataclass(frozen=True)
class Event:
    type: str
    account_id: str
    workspace_id: str
    project_id: str
    resource_id: str
    resource_type: str
    user_id: str


def _id_of(payload: dict[str, Any], key: str, required: bool = True) -> str:
    node = payload.get(key)
    value = node.get("id") if isinstance(node, dict) else None
    if isinstance(value, str) and 0 < len(value) <= 200 and value.isprintable():
        return value
    if required:
        raise MalformedEvent(f"missing or malformed {key}.id")
    return ""


def load_object(body: bytes, error: type[MalformedEvent] = MalformedEvent) -> dict[str, Any]:
    """The body as a JSON object, else ``error`` saying what is wrong."""
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise error("the body is not JSON") from None
    except RecursionError:
        raise error("the body is nested too deeply") from None
    if not isinstance(payload, dict):
        raise error("the body is not a JSON object")
    return payload


def parse_event(body: bytes) -> Event:
    payload = load_object(body)
    kind = payload.get("type")
    if not isinstance(kind, str) or not kind or len(kind) > 100:
        raise MalformedEvent("missing or malformed type")
    resource = payload.get("resource")
    resource_type = resource.get("type") if isinstance(resource, dict) else None
    return Event(
        type=kind,
        account_id=_id_of(payload, "account"),
        workspace_id=_id_of(payload, "workspace", required=False),
        project_id=_id_of(payload, "project", required=False),
        resource_id=_id_of(payload, "resource"),
        resource_type=resource_type if isinstance(resource_type, str) else "",
        user_id=_id_of(payload, "user", required=False),
    )
