"""Version stack rules: create, move a file in or out, reorder, delete, move and copy a stack.

Facts (``docs/frameio.md`` §1-§3): a file has one parent, a folder or a stack; stacks hold only
files and sit only in folders; ``file_ids`` at creation run oldest/bottom to newest/top; the head
is the top. Choices where the docs are silent come from the config knobs (``sandbox/config.py``).
Every change a client causes emits ``file.versioned`` for each file whose place in a stack changed.
"""

from __future__ import annotations

from typing import Any

from sandbox.config import SandboxConfig
from sandbox.errors import invalid
from sandbox.model import File, Folder, Stack, now
from sandbox.state import Store

MIN_STACK_FILES = 2
MAX_STACK_FILES = 10


def ordered_children(stack: Stack, store: Store, config: SandboxConfig) -> list[File]:
    """Stack members in listing order: top (head) first unless the knob says bottom first."""
    files = [store.files[file_id] for file_id in stack.file_ids]
    return list(reversed(files)) if config.children_order == "top_first" else files


def _refresh(stack: Stack, store: Store, config: SandboxConfig) -> None:
    stack.touch()
    head = stack.head_id
    if config.stack_name == "follows_head" and head is not None:
        stack.name = store.files[head].name


def _file_ids_from(data: dict[str, Any]) -> list[str]:
    file_ids = data.get("file_ids")
    if not isinstance(file_ids, list) or not all(isinstance(i, str) for i in file_ids):
        raise invalid("file_ids must be a list of file ids", "/data/file_ids")
    if not MIN_STACK_FILES <= len(file_ids) <= MAX_STACK_FILES:
        raise invalid("file_ids must hold between 2 and 10 file ids", "/data/file_ids")
    if len(set(file_ids)) != len(file_ids):
        raise invalid("file_ids must not repeat a file", "/data/file_ids")
    return file_ids


def _check_stackable(store: Store, config: SandboxConfig, file: File, folder: Folder, index: int) -> None:
    pointer = f"/data/file_ids/{index}"
    if file.parent_id != folder.id:
        where = "a version stack" if file.parent_id in store.stacks else "another folder"
        raise invalid(f"File {file.id} is not directly in folder {folder.id} (it is in {where})", pointer)
    if config.create_requires_uploaded and file.status == "created":
        raise invalid(f"File {file.id} has not finished uploading", pointer)


def create_stack(store: Store, config: SandboxConfig, folder: Folder, data: dict[str, Any], user_id: str) -> Stack:
    """Stack the files (oldest first) into a new stack in ``folder``; 422 unless all may be stacked."""
    file_ids = _file_ids_from(data)
    for index, file_id in enumerate(file_ids):
        if file_id not in store.files:
            raise invalid(f"File {file_id} not found", f"/data/file_ids/{index}")
    files = [store.files[file_id] for file_id in file_ids]
    for index, file in enumerate(files):
        _check_stackable(store, config, file, folder, index)
    stack = Stack(store.new_id(), files[-1].name, folder.id, folder.project_id, user_id)
    stack.file_ids = list(file_ids)
    store.stacks[stack.id] = stack
    for file in files:
        file.parent_id = stack.id
        file.touch()
    for file in files:
        store.emit("file.versioned", file, user_id)
    return stack


def detach(store: Store, config: SandboxConfig, file: File, user_id: str) -> None:
    """Take a file out of its stack (if any), then apply the emptied/single-file knobs."""
    stack = store.stacks.get(file.parent_id or "")
    if stack is None:
        return
    stack.file_ids.remove(file.id)
    file.parent_id = stack.parent_id
    if not stack.file_ids and config.emptied_stack == "gone":
        del store.stacks[stack.id]
        return
    if len(stack.file_ids) == 1 and config.single_file_stack == "dissolves":
        last = store.files[stack.file_ids[0]]
        last.parent_id = stack.parent_id
        last.touch()
        del store.stacks[stack.id]
        store.emit("file.versioned", last, user_id)
        return
    _refresh(stack, store, config)


def _same_project(file: File, project_id: str) -> None:
    if file.project_id != project_id:
        raise invalid("Cannot move a file to another project", "/data/parent_id")


def move_file(store: Store, config: SandboxConfig, file: File, parent_id: str, user_id: str) -> File:
    """Move ``file`` into a folder or a version stack (``PATCH …/files/{id}/move``)."""
    if parent_id == file.parent_id:
        return file
    if parent_id in store.stacks:
        return _move_into_stack(store, config, file, store.stacks[parent_id], user_id)
    folder = store.folder(parent_id)
    _same_project(file, folder.project_id)
    was_stacked = file.parent_id in store.stacks
    detach(store, config, file, user_id)
    file.parent_id = folder.id
    file.touch()
    store.emit("file.versioned" if was_stacked else "file.updated", file, user_id)
    return file


def _move_into_stack(store: Store, config: SandboxConfig, file: File, stack: Stack, user_id: str) -> File:
    _same_project(file, stack.project_id)
    if config.move_requires_uploaded and file.status == "created":
        raise invalid(f"File {file.id} has not finished uploading", "/data/parent_id")
    detach(store, config, file, user_id)
    if config.move_lands == "top":
        stack.file_ids.append(file.id)
    else:
        stack.file_ids.insert(0, file.id)
    file.parent_id = stack.id
    file.touch()
    _refresh(stack, store, config)
    store.emit("file.versioned", file, user_id)
    return file


def _placement(data: dict[str, Any]) -> tuple[str, str]:
    given = [key for key in ("move_to", "move_above_file_id", "move_below_file_id") if data.get(key) is not None]
    if len(given) != 1:
        raise invalid("Give exactly one of move_to, move_above_file_id, move_below_file_id", "/data")
    key = given[0]
    value = data[key]
    if not isinstance(value, str) or (key == "move_to" and value not in ("top", "bottom")):
        raise invalid(f"Invalid value for {key}", f"/data/{key}")
    return key, value


def reorder(store: Store, config: SandboxConfig, stack: Stack, data: dict[str, Any], user_id: str) -> None:
    """Apply ``PATCH …/version_stacks/{id}/versions``; 422 when the reorder cannot be applied."""
    target = data.get("target_file_id")
    if not isinstance(target, str) or target not in stack.file_ids:
        raise invalid("target_file_id is not a file of this version stack", "/data/target_file_id")
    key, value = _placement(data)
    before = list(stack.file_ids)
    order = [file_id for file_id in stack.file_ids if file_id != target]
    if key == "move_to":
        position = len(order) if value == "top" else 0
    else:
        if value == target or value not in order:
            raise invalid(f"{key} is not another file of this version stack", f"/data/{key}")
        position = order.index(value) + (1 if key == "move_above_file_id" else 0)
    order.insert(position, target)
    stack.file_ids = order
    if order != before:
        _refresh(stack, store, config)
    if order != before or config.reorder_event_on_noop:
        store.emit("file.versioned", store.files[target], user_id)


def delete_file(store: Store, config: SandboxConfig, file: File, user_id: str) -> None:
    detach(store, config, file, user_id)
    del store.files[file.id]
    store.emit("file.deleted", file, user_id)


def move_stack(store: Store, stack: Stack, parent_id: str) -> Stack:
    """Move a stack to another folder; a stack can never go into a stack."""
    if parent_id in store.stacks:
        raise invalid("A version stack cannot be placed inside a version stack", "/data/parent_id")
    folder = store.folder(parent_id)
    if folder.project_id != stack.project_id:
        raise invalid("Cannot move a version stack to another project", "/data/parent_id")
    stack.parent_id = folder.id
    stack.touch()
    return stack


def copy_stack(store: Store, config: SandboxConfig, stack: Stack, parent_id: str | None, user_id: str) -> Stack:
    """Copy a stack and its files (new ids, same order) into a folder (default: the same one)."""
    folder = store.folder(parent_id or stack.parent_id or "")
    if folder.project_id != stack.project_id:
        raise invalid("Cannot copy a version stack to another project", "/data/parent_id")
    copy = Stack(store.new_id(), stack.name, folder.id, folder.project_id, user_id)
    for file_id in stack.file_ids:
        original = store.files[file_id]
        twin = File(
            store.new_id(), original.name, copy.id, original.project_id, user_id,
            file_size=original.file_size, media_type=original.media_type, status=original.status,
            media_type_known=original.media_type_known,
            uploaded_at=original.uploaded_at, upload_completed_at=original.upload_completed_at,
        )  # fmt: skip
        twin.created_at = twin.updated_at = now()
        store.files[twin.id] = twin
        copy.file_ids.append(twin.id)
    store.stacks[copy.id] = copy
    for file_id in copy.file_ids:
        store.emit("file.copied", store.files[file_id], user_id)
    return copy
