"""Rules per show: which of a rules file's ``[[scope]]`` sections decides a file, by project and folder path.

Pure: a :class:`RuleBook` holds the global rules and the scopes in file order; :meth:`RuleBook.resolve`
takes a file's project id and its folder's path from the project root (``/Promos/Spring``) and returns
the rules of the first scope that matches, else the global ones. A scope matches when each of its
conditions holds: its ``projects`` (ids) contain the project, and one of its ``folders`` globs matches
the path. Globs are case-insensitive; ``*`` and ``?`` stay inside one folder name, ``**`` crosses
folders, and a final ``/**`` also matches the folder itself (``/Promos/**`` covers ``/Promos``).

Resolution is memoised per (project, path), so a book costs one dictionary look-up per file once a
folder has been seen, however many scopes it holds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from workers.naming.parser import DEFAULT_RULES, Rules

GLOBAL = "global"
_MEMO_LIMIT = 4096


@dataclass(frozen=True)
class Scope:
    name: str
    projects: frozenset[str]
    folders: tuple[str, ...]
    rules: Rules
    line: int | None = None

    @cached_property
    def globs(self) -> tuple[re.Pattern[str], ...]:
        return tuple(compile_glob(g) for g in self.folders)

    def matches(self, project_id: str | None, folder_path: str | None) -> bool:
        if self.projects and project_id not in self.projects:
            return False
        if not self.folders:
            return True
        if folder_path is None:
            return False
        return any(g.fullmatch(folder_path) for g in self.globs)


@dataclass(frozen=True)
class Resolved:
    """The rules that decide a file and the scope they came from (``global`` when none matched)."""

    rules: Rules
    scope: str = GLOBAL


@dataclass(frozen=True)
class RuleBook:
    rules: Rules = DEFAULT_RULES
    scopes: tuple[Scope, ...] = ()
    _memo: dict[tuple[str | None, str | None], Resolved] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )

    @property
    def needs_path(self) -> bool:
        """Whether any scope reads folder paths (the only thing that costs Frame.io calls)."""
        return any(scope.folders for scope in self.scopes)

    @property
    def needs_project(self) -> bool:
        return any(scope.projects for scope in self.scopes)

    @property
    def global_rules(self) -> Resolved:
        return Resolved(self.rules)

    def resolve(self, project_id: str | None = None, folder_path: str | None = None) -> Resolved:
        """The rules for a file in this project and folder path (either unknown: ``None``)."""
        if not self.scopes:
            return Resolved(self.rules)
        key = (project_id, folder_path.casefold() if folder_path is not None else None)
        found = self._memo.get(key)
        if found is None:
            found = next(
                (Resolved(s.rules, s.name) for s in self.scopes if s.matches(key[0], key[1])), Resolved(self.rules)
            )
            if len(self._memo) >= _MEMO_LIMIT:
                self._memo.clear()
            self._memo[key] = found
        return found


DEFAULT_BOOK = RuleBook()


def compile_glob(glob: str) -> re.Pattern[str]:
    """A folder glob (``/Promos/**``, ``/*/Dailies``) as a case-insensitive regex on the path."""
    text = "/" + glob.strip().strip("/").casefold()
    tail = ""
    if text.endswith("/**"):
        text, tail = text[:-3], "(?:/.*)?"
    out = []
    for part in re.split(r"(\*\*|\*|\?)", text):
        out.append({"**": ".*", "*": "[^/]*", "?": "[^/]"}.get(part, re.escape(part)))
    return re.compile("".join(out) + tail, re.IGNORECASE)


def glob_problem(glob: str) -> str | None:
    """Why a folder glob is unusable, or None."""
    if not glob.startswith("/"):
        return f"{glob!r} must be a path from the project root, starting with / (like /Promos/**)"
    return None
