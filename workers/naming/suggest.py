"""``autostack rules suggest``'s analysis: what the rules make of the names already in a folder tree,
and a rules-file fragment for the shapes they do not read, with what that fragment would change.

Pure: takes (folder, name) pairs and the rules in force. Each suggestion is checked by applying it:

* a **version word** (``Fassung``, ``Take``, ``Cut``) is offered when names the rules decline carry a
  word plus a number where a token would stand, and the same title in the same folder appears with two
  or more numbers (so the word would make a stack);
* an **annotation word** (``freigegeben``, ``OK``) is offered when dropping a word kept in a key would
  merge that group into another group of the same folder;
* a **toggle** the contract leaves to the studio (``copy_suffixes_are_duplicates``) is offered when
  switching it merges groups and declines nothing more.

Nothing here decides for the studio: the fragment is printed, and the user saves it or not.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace

from workers.naming.parser import Declined, Parsed, Rules, parse

#: A word plus a number where a version token would stand: ``Fassung_2``, ``Take3``, ``Cut 2``.
_CANDIDATE = re.compile(r"(?:^|(?<=[_.\s-]))(?P<word>[^\W\d_]{2,20})[_.\s-]?(?P<digits>\d{1,4})(?=[_.\s-]|$)")
_EXTENSION = re.compile(r"\.(?=[0-9]*[A-Za-z])[A-Za-z0-9]{1,10}$")
_RUNS = re.compile(r"(?P<letters>[^\W\d_]+)|(?P<digits>\d+)")
_STUDIO_TOGGLES = ("copy_suffixes_are_duplicates",)
SHAPES_SHOWN = 5
CHANGES_SHOWN = 8


@dataclass(frozen=True)
class Named:
    folder: str  # the folder's id or path: names group within one folder only
    name: str


@dataclass(frozen=True)
class Shape:
    shape: str
    count: int
    example: str
    rule: str


@dataclass(frozen=True)
class Reading:
    """What one set of rules makes of the names."""

    names: int
    groups: int  # distinct (folder, group key)
    stackable: int  # groups with two or more names: a stack
    declined: tuple[tuple[str, int], ...]  # rule -> count, most first
    shapes: tuple[Shape, ...]  # the declined names' most common shapes

    @property
    def declined_total(self) -> int:
        return sum(count for _, count in self.declined)


@dataclass(frozen=True)
class Suggestion:
    version_words: tuple[str, ...] = ()
    annotation_words: tuple[str, ...] = ()
    toggles: tuple[str, ...] = ()  # switched on

    def __bool__(self) -> bool:
        return bool(self.version_words or self.annotation_words or self.toggles)

    def apply(self, rules: Rules) -> Rules:
        words = rules.version_words + tuple(w for w in self.version_words if w not in rules.version_words)
        toggles = replace(rules.toggles, **dict.fromkeys(self.toggles, True))
        annotations = rules.annotation_words | frozenset(self.annotation_words)
        return replace(rules, version_words=words, annotation_words=annotations, toggles=toggles)

    def fragment(self, scope: str | None = None) -> str:
        """TOML to add to the rules file's top level, or to the ``[[scope]]`` named ``scope``."""
        lines = [f"version_words = {_toml_list(self.version_words)}"] if self.version_words else []
        lines += [f"annotation_words = {_toml_list(self.annotation_words)}"] if self.annotation_words else []
        if self.toggles:
            lines += ["[scope.toggles]" if scope else "[toggles]", *(f"{t} = true" for t in self.toggles)]
        return "\n".join(lines) + "\n" if lines else ""


@dataclass(frozen=True)
class Report:
    before: Reading
    suggestion: Suggestion
    after: Reading
    changes: tuple[tuple[str, str, str], ...]  # a few names the fragment reads differently: (name, before, after)


def suggest(names: Sequence[Named], rules: Rules) -> Report:
    """Read the names with ``rules``, find what would cover the shapes they miss, and read them again."""
    parsed = _parse_all(names, rules)
    version_words = _version_words(names, parsed, rules)
    toggles = _toggles(names, Suggestion(version_words).apply(rules))
    so_far = Suggestion(version_words, toggles=toggles).apply(rules)
    annotations = _annotation_words(names, _parse_all(names, so_far), so_far)
    suggestion = Suggestion(version_words, annotations, toggles)
    after_rules = suggestion.apply(rules)
    after = _parse_all(names, after_rules)
    changes = [(n.name, _describe(b), _describe(a)) for n, b, a in zip(names, parsed, after, strict=True) if b != a]
    return Report(
        _reading(names, parsed, version_words),
        suggestion,
        _reading(names, after, version_words),
        tuple(changes[:CHANGES_SHOWN]),
    )


def _parse_all(names: Sequence[Named], rules: Rules) -> list[Parsed | Declined]:
    return [parse(n.name, rules) for n in names]


def _groups(names: Sequence[Named], parsed: Sequence[Parsed | Declined]) -> Counter[tuple[str, str]]:
    return Counter((n.folder, p.group_key) for n, p in zip(names, parsed, strict=True) if isinstance(p, Parsed))


def _reading(names: Sequence[Named], parsed: Sequence[Parsed | Declined], literal: Sequence[str]) -> Reading:
    groups = _groups(names, parsed)
    declined = Counter(p.rule for p in parsed if isinstance(p, Declined))
    shapes: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for n, p in zip(names, parsed, strict=True):
        if isinstance(p, Declined) and p.rule not in ("junk", "camera-original", "empty"):
            shapes[shape_of(n.name, literal)].append((n.name, p.rule))
    ranked = sorted(shapes.items(), key=lambda item: (-len(item[1]), item[0]))[:SHAPES_SHOWN]
    return Reading(
        len(names),
        len(groups),
        sum(count >= 2 for count in groups.values()),
        tuple(sorted(declined.items(), key=lambda item: (-item[1], item[0]))),
        tuple(
            Shape(shape, len(found), found[0][0], Counter(r for _, r in found).most_common(1)[0][0])
            for shape, found in ranked
        ),
    )


def shape_of(name: str, literal: Sequence[str] = ()) -> str:
    """A name's shape: letter runs ``a``, digit runs ``9``; separators, the extension and ``literal``
    words as they are (``Werbespot_Fassung_2.mov`` -> ``a_Fassung_9.mov``)."""
    keep = {w.casefold() for w in literal}
    extension = _EXTENSION.search(name)
    stem, ext = (name[: extension.start()], extension.group()) if extension else (name, "")

    def run(m: re.Match[str]) -> str:
        if m["digits"]:
            return "9"
        return m.group() if m.group().casefold() in keep else "a"

    return _RUNS.sub(run, stem) + ext


def _version_words(names: Sequence[Named], parsed: Sequence[Parsed | Declined], rules: Rules) -> tuple[str, ...]:
    """Words that stand where a token would, with two or more numbers after one title in one folder."""
    numbers: dict[tuple[str, str, str], set[int]] = defaultdict(set)
    known = {w.casefold() for w in rules.version_words}
    for n, p in zip(names, parsed, strict=True):
        if not (isinstance(p, Declined) and p.rule in ("no-token", "glued")):
            continue
        stem = _EXTENSION.sub("", n.name)
        for m in _CANDIDATE.finditer(stem):
            word = m["word"].casefold()
            if word not in known and stem[: m.start()].strip("_.- "):
                numbers[(n.folder, stem[: m.start()].casefold(), word)].add(int(m["digits"]))
    found = sorted({word for (_, _, word), seen in numbers.items() if len(seen) >= 2})
    return tuple(word for word in found if _merges(names, rules, Suggestion((word,))))


def _annotation_words(names: Sequence[Named], parsed: Sequence[Parsed | Declined], rules: Rules) -> tuple[str, ...]:
    """Words kept in a key whose dropping would merge the group into another one of its folder."""
    keys = _groups(names, parsed)
    found: set[str] = set()
    for folder, key in keys:
        parts = key.split("_")
        for i, word in enumerate(parts[1:], start=1):
            shorter = "_".join(parts[:i] + parts[i + 1 :])
            if word.isalpha() and word not in rules.annotation_words and (folder, shorter) in keys:
                found.add(word)
    return tuple(word for word in sorted(found) if _merges(names, rules, Suggestion(annotation_words=(word,))))


def _toggles(names: Sequence[Named], rules: Rules) -> tuple[str, ...]:
    off = [t for t in _STUDIO_TOGGLES if not getattr(rules.toggles, t)]
    return tuple(t for t in off if _merges(names, rules, Suggestion(toggles=(t,))))


def _merges(names: Sequence[Named], rules: Rules, suggestion: Suggestion) -> bool:
    """Does the suggestion put more names into stacks, or the same names into fewer groups, without
    declining more names?"""
    before, after = _parse_all(names, rules), _parse_all(names, suggestion.apply(rules))
    b, a = _groups(names, before), _groups(names, after)
    declined_more = sum(isinstance(p, Declined) for p in after) > sum(isinstance(p, Declined) for p in before)
    stacked = (sum(c for c in a.values() if c >= 2), -len(a)) > (sum(c for c in b.values() if c >= 2), -len(b))
    return stacked and not declined_more


def _describe(result: Parsed | Declined) -> str:
    if isinstance(result, Parsed):
        return f"{result.group_key} v{result.version}"
    return f"declined ({result.rule})"


def _toml_list(words: Sequence[str]) -> str:
    return "[" + ", ".join('"' + w.replace("\\", "\\\\").replace('"', '\\"') + '"' for w in words) + "]"
