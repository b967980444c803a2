"""Folder scope: act only in the folders listed (by id, or by path from the project's root), and
read a folder's names with the rules of its show.

``AUTOSTACK_FOLDERS=/Dailies,/VFX/Shots,8f3c…`` puts every folder under ``/Dailies`` and
``/VFX/Shots`` (and under the folder with that id) in scope. A folder's path is read up the tree
with ``show_folder``; each folder's name, parent and project are cached in Redis for a day, so a
burst in one folder costs its path once.

:class:`FolderRules` picks the rules file's ``[[scope]]`` for a folder (see
:mod:`workers.naming.scopes`): no scopes, no calls; scopes by project only, the folder's own
(cached) record; scopes with folder globs, its path, read like ``AUTOSTACK_FOLDERS`` reads it.

A folder paused by a person (:mod:`.pauses`, and every folder below it) is out of scope too, until
it is resumed: :meth:`FolderScope.refusal` says which of the two keeps autostack out.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import redis

from workers.frameio.client import FrameioClient
from workers.frameio.errors import NotFound, Unprocessable
from workers.naming.scopes import Resolved, RuleBook
from workers.stacking.pauses import Pauses, paused_ancestor

CACHE_KEY = "autostack:folder:{folder_id}"
CACHE_TTL_S = 24 * 3600
MAX_DEPTH = 64
OUT_OF_SCOPE = "the folder is outside autostack's scope (AUTOSTACK_FOLDERS)"


@dataclass(frozen=True)
class Refusal:
    """Why autostack stays out of a folder: ``code`` is ``out-of-scope`` or ``paused``."""

    code: str
    reason: str


@dataclass(frozen=True)
class Ancestry:
    """A folder and its ancestors up to the root: ids nearest first, the path from the root."""

    ids: tuple[str, ...]
    path: str
    project_id: str | None = None


def in_scope(ancestry: Ancestry, entries: Sequence[str]) -> bool:
    """Pure: is a folder with this ancestry inside one of the entries (paths start with ``/``)?"""
    if not entries:
        return True
    return any(_under(ancestry.path, entry) if entry.startswith("/") else entry in ancestry.ids for entry in entries)


def _under(path: str, entry: str) -> bool:
    prefix = "/" + entry.strip("/").casefold()
    folded = path.casefold()
    return prefix in ("/", folded) or folded.startswith(prefix + "/")


class FolderScope:
    def __init__(self, client: FrameioClient, cache: redis.Redis, entries: Sequence[str]) -> None:
        self.client = client
        self.cache = cache
        self.entries = tuple(entries)

    def allows(self, account_id: str, folder_id: str) -> bool:
        return self.refusal(account_id, folder_id) is None

    def refusal(self, account_id: str, folder_id: str) -> Refusal | None:
        """None when autostack may act in the folder; else why not (outside the configured
        folders, or paused there or above). Walks the ancestry only when either could apply."""
        paused = Pauses(self.cache).ids()
        if not self.entries and not paused:
            return None
        ancestry = self.ancestry(account_id, folder_id)
        if self.entries and not in_scope(ancestry, self.entries):
            return Refusal("out-of-scope", OUT_OF_SCOPE)
        where = paused_ancestor(ancestry.ids, paused)
        if where is None:
            return None
        pause = Pauses(self.cache).get(where)
        who = f" by {pause.by}" if pause is not None else ""
        above = "this folder" if where == folder_id else f"folder {where} above it"
        return Refusal("paused", f"autostack is paused in {above}{who} (Resume here lets it act again)")

    def ancestry(self, account_id: str, folder_id: str) -> Ancestry:
        ids: list[str] = []
        names: list[str] = []
        project = None
        current: str | None = folder_id
        while current is not None and len(ids) < MAX_DEPTH:
            name, parent, project_id = self._folder(account_id, current)
            project = project or project_id
            ids.append(current)
            if parent is not None:  # the root folder's own name is not part of a path
                names.append(name)
            current = parent
        return Ancestry(tuple(ids), "/" + "/".join(reversed(names)), project)

    def project_of(self, account_id: str, folder_id: str) -> str | None:
        return self._folder(account_id, folder_id)[2]

    def _folder(self, account_id: str, folder_id: str) -> tuple[str, str | None, str | None]:
        key = CACHE_KEY.format(folder_id=folder_id)
        cached = self.cache.get(key)
        if cached is not None:
            name, parent, *project = json.loads(cached)  # entries cached before projects were kept have none
            if project:
                return str(name), parent, project[0]
        folder = self.client.show_folder(account_id, folder_id)
        self.cache.set(key, json.dumps([folder.name, folder.parent_id, folder.project_id]), ex=CACHE_TTL_S)
        return folder.name, folder.parent_id, folder.project_id


class FolderRules:
    """The naming rules for the files of a folder, remembered per folder for this object's life (a job)."""

    def __init__(self, book: RuleBook, folders: FolderScope | None = None) -> None:
        self.book = book
        self.folders = folders
        self._memo: dict[str, Resolved] = {}

    def resolve(self, account_id: str, folder_id: str | None) -> Resolved:
        if not self.book.scopes or folder_id is None or self.folders is None:
            return self.book.global_rules
        found = self._memo.get(folder_id)
        if found is None:
            found = self._memo[folder_id] = self._lookup(account_id, folder_id)
        return found

    def _lookup(self, account_id: str, folder_id: str) -> Resolved:
        assert self.folders is not None
        try:
            if self.book.needs_path:
                ancestry = self.folders.ancestry(account_id, folder_id)
                return self.book.resolve(ancestry.project_id, ancestry.path)
            return self.book.resolve(self.folders.project_of(account_id, folder_id), None)
        except (NotFound, Unprocessable):  # the parent is a version stack: the file is stacked already
            return self.book.global_rules
