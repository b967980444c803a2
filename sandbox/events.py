"""Events: what happened to which resource, and who did it; the delivery engine turns them into POSTs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.model import now

#: The event names the webhooks API accepts (SDK 4.0.0 ``webhooks.create`` docstring).
VALID_EVENTS: frozenset[str] = frozenset(
    {
        "file.created", "file.deleted", "file.ready", "file.updated", "file.upload.completed",
        "file.versioned", "file.copied", "folder.created", "folder.deleted", "folder.updated",
        "folder.copied", "comment.completed", "comment.created", "comment.deleted",
        "comment.uncompleted", "comment.updated", "customfield.created", "customfield.updated",
        "customfield.deleted", "metadata.value.updated", "project.created", "project.deleted",
        "project.updated", "collection.created", "collection.updated", "collection.deleted",
        "share.created", "share.updated", "share.deleted", "share.viewed",
    }
)  # fmt: skip


@dataclass(frozen=True)
class Event:
    type: str
    resource_id: str
    resource_type: str
    account_id: str
    workspace_id: str
    project_id: str
    user_id: str
    at: float = field(default_factory=lambda: now().timestamp())

    def payload(self) -> dict[str, Any]:
        """The documented V4 webhook body: ids only, no event id, no timestamp."""
        return {
            "account": {"id": self.account_id},
            "project": {"id": self.project_id},
            "resource": {"id": self.resource_id, "type": self.resource_type},
            "type": self.type,
            "user": {"id": self.user_id},
            "workspace": {"id": self.workspace_id},
        }


Listener = Callable[[Event], None]
