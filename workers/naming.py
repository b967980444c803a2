"""File-name parsing: from a Frame.io file name to a group key and an integer version.

Pure: no I/O, never raises. This first cut knows only the ``_v003`` token; the naming issue
replaces the internals with the full contract of ``shared/naming/README.md``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Rules:
    """The naming rules in force (the defaults need no file)."""


DEFAULT_RULES = Rules()


@dataclass(frozen=True)
class Parsed:
    group_key: str
    version: int
    sub_version: str | None
    frame: int | None
    rule: str
    reason: str


@dataclass(frozen=True)
class Declined:
    reason: str
    rule: str = "declined"


_TOKEN = re.compile(r"^(?P<key>.+?)[_.\- ]v(?P<version>\d+)$", re.IGNORECASE)


def parse(name: str, rules: Rules = DEFAULT_RULES) -> Parsed | Declined:
    stem = unicodedata.normalize("NFC", name).rsplit("/", 1)[-1]
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    match = _TOKEN.match(stem)
    if match is None:
        return Declined("no version token in the name", "no-token")
    key = re.sub(r"[_.\- ]+", "_", match["key"].casefold()).strip("_")
    return Parsed(key, int(match["version"]), None, None, "token", f"version token v{match['version']}")
