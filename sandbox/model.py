"""The records the sandbox keeps in memory: users, projects, folders, files, stacks, webhooks.

Field names follow the SDK's models (``frameio/types/*.py``): a file's ``parent_id`` is a folder
or a version stack; a stack's ``parent_id`` is always a folder; a stack keeps its files in
``file_ids`` ordered bottom (oldest, version 1) to top (newest, the head).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime


def now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """Frame.io's timestamp format: ISO 8601 in UTC with a trailing Z."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


@dataclass
class User:
    id: str
    name: str
    email: str


@dataclass
class Project:
    id: str
    name: str
    workspace_id: str
    root_folder_id: str
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)


@dataclass
class Asset:
    """The fields every asset type shares (``AssetCommon``)."""

    id: str
    name: str
    parent_id: str | None
    project_id: str
    creator_id: str
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)

    def touch(self) -> None:
        self.updated_at = now()


@dataclass
class Folder(Asset):
    pass


@dataclass
class UploadPart:
    size: int
    received: bool = False


@dataclass
class File(Asset):
    file_size: int = 0
    media_type: str | None = None
    status: str = "created"
    parts: list[UploadPart] = field(default_factory=list)
    uploaded_at: datetime | None = None
    upload_completed_at: datetime | None = None
    upload_secret: str = ""
    media_type_known: bool = True
    """False while ``media_type`` is hidden (knob ``media_type_before_upload: null``)."""


@dataclass
class Stack(Asset):
    file_ids: list[str] = field(default_factory=list)
    """Bottom (oldest, version 1) first; the last id is the head (top)."""

    @property
    def head_id(self) -> str | None:
        return self.file_ids[-1] if self.file_ids else None


@dataclass
class Webhook:
    id: str
    name: str
    url: str
    events: list[str]
    secret: str
    workspace_id: str
    creator_id: str
    active: bool = True
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)


@dataclass
class CustomAction:
    """A Custom Action (experimental API): a menu item that posts a signed payload to ``url``."""

    id: str
    name: str
    description: str
    event: str
    url: str
    secret: str
    workspace_id: str
    creator_id: str
    created_at: datetime = field(default_factory=now)
    updated_at: datetime = field(default_factory=now)
