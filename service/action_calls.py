"""A Custom Action's payload (``docs/frameio.md`` §11): who clicked which action on what.

Frame.io posts ``account_id``, ``action_id``, ``interaction_id``, ``project.id``, ``resource``
(``id``, ``type``: file, folder or version_stack), ``type`` (the action's event key), ``user.id``,
``workspace.id``, and, when a form we answered is submitted, ``data`` (the form's values) under
the same ``interaction_id``. Pure: parsing only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from service.events import MalformedEvent, load_object

RESOURCE_TYPES = ("file", "folder", "version_stack")
MAX_FIELDS = 20


class MalformedAction(MalformedEvent):
    """The body is not a Custom Action payload; the text says what is wrong."""


@dataclass(frozen=True)
class ActionCall:
    account_id: str
    action_id: str
    interaction_id: str
    type: str
    resource_id: str
    resource_type: str
    user_id: str
    workspace_id: str
    project_id: str
    data: tuple[tuple[str, str], ...] | None  # a form's values (sorted), None on the first click

    def value(self, name: str, default: str = "") -> str:
        return dict(self.data or ()).get(name, default)


def _text(value: object, what: str, required: bool = True) -> str:
    if isinstance(value, str) and 0 < len(value) <= 200 and value.isprintable():
        return value
    if required:
        raise MalformedAction(f"missing or malformed {what}")
    return ""


def _nested_id(payload: dict[str, Any], key: str, required: bool = True) -> str:
    node = payload.get(key)
    return _text(node.get("id") if isinstance(node, dict) else None, f"{key}.id", required)


def _form_data(value: object) -> tuple[tuple[str, str], ...] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or len(value) > MAX_FIELDS:
        raise MalformedAction("data must be an object of at most 20 form values")
    pairs = []
    for key, item in value.items():
        text = ("true" if item else "false") if isinstance(item, bool) else item
        pairs.append((_text(key, "data key"), _text(text, f"data.{key}", required=False)))
    return tuple(sorted(pairs))


def parse_action_call(body: bytes) -> ActionCall:
    payload = load_object(body, MalformedAction)
    resource = payload.get("resource")
    resource_type = resource.get("type") if isinstance(resource, dict) else None
    if resource_type not in RESOURCE_TYPES:
        raise MalformedAction("resource.type must be file, folder or version_stack")
    return ActionCall(
        account_id=_text(payload.get("account_id"), "account_id"),
        action_id=_text(payload.get("action_id"), "action_id", required=False),
        interaction_id=_text(payload.get("interaction_id"), "interaction_id"),
        type=_text(payload.get("type"), "type"),
        resource_id=_nested_id(payload, "resource"),
        resource_type=str(resource_type),
        user_id=_nested_id(payload, "user"),
        workspace_id=_nested_id(payload, "workspace", required=False),
        project_id=_nested_id(payload, "project", required=False),
        data=_form_data(payload.get("data")),
    )
