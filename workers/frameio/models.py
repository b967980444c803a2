"""What autostack reads of Frame.io's assets: small frozen views built from the V4 JSON."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FileAsset:
    id: str
    name: str
    parent_id: str | None
    status: str
    media_type: str | None
    created_at: str

    @property
    def uploaded(self) -> bool:
        """Bytes are in: ``uploaded`` or ``transcoded`` (or a newer state Frame.io may add)."""
        return self.status not in ("created", "")


@dataclass(frozen=True)
class StackAsset:
    id: str
    name: str
    parent_id: str | None
    head_version_id: str | None


@dataclass(frozen=True)
class FolderAsset:
    id: str
    name: str
    parent_id: str | None
    project_id: str | None = None


Asset = FileAsset | StackAsset | FolderAsset


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    return value if isinstance(value, str) else ""


def _optional(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) else None


def folder_from_json(data: dict[str, Any]) -> FolderAsset:
    return FolderAsset(
        _text(data, "id"), _text(data, "name"), _optional(data, "parent_id"), _optional(data, "project_id")
    )


def file_from_json(data: dict[str, Any]) -> FileAsset:
    return FileAsset(
        id=_text(data, "id"),
        name=_text(data, "name"),
        parent_id=_optional(data, "parent_id"),
        status=_text(data, "status"),
        media_type=_optional(data, "media_type"),
        created_at=_text(data, "created_at"),
    )


def stack_from_json(data: dict[str, Any]) -> StackAsset:
    head = data.get("head_version")
    head_id = head.get("id") if isinstance(head, dict) else None
    return StackAsset(
        id=_text(data, "id"),
        name=_text(data, "name"),
        parent_id=_optional(data, "parent_id"),
        head_version_id=head_id if isinstance(head_id, str) else None,
    )


def asset_from_json(data: dict[str, Any]) -> Asset | None:
    """A typed view of one listed asset; None for a type autostack does not know."""
    kind = data.get("type")
    if kind == "file":
        return file_from_json(data)
    if kind == "version_stack":
        return stack_from_json(data)
    if kind == "folder":
        return folder_from_json(data)
    return None
