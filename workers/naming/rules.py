r"""Loading and validating a naming rules file (TOML) into a :class:`workers.naming.parser.Rules`.

Schema (every key optional; unknown keys are errors)::

    annotation_words = ["wip2", "ok"]       # added to the contract's defaults; dropped after the version
    variant_words    = ["review"]           # always kept in the key; wins over annotation_words
    version_words    = ["take"]             # extra word forms (like ver/rev), any script: take3, take_3, Take-3
    camera_patterns  = ['CAM\d{2}_\d{4}']    # extra camera-original regexes, matched at the stem start
    fourcc_tokens    = ["v216"]             # extra v+digits codec fourccs that are never versions

    [toggles]                               # one boolean per disputed case; see naming.Toggles
    c_prefix_versions = true

    [[templates]]                           # tried in order before the heuristic; first match wins
    name = "shot"
    pattern = "{shot}_{task}_v{version}"
    [templates.fields]                      # a regex per placeholder; default: one word
    shot = '[a-z]{2}\d{4}'                  # 'literal' TOML strings keep regex backslashes as typed
    task = "comp|lgt|fx"
"""

from __future__ import annotations

import copy
import re
import tomllib
import unicodedata
from collections.abc import Callable
from dataclasses import fields as dataclass_fields
from dataclasses import replace
from pathlib import Path
from typing import Any

from workers.naming.parser import DEFAULT_RULES, Rules, Toggles
from workers.naming.scopes import RuleBook, Scope, glob_problem
from workers.naming.templates import Template, TemplateError, validate

TOGGLES = tuple(f.name for f in dataclass_fields(Toggles))
_RULE_KEYS = (
    "annotation_words",
    "variant_words",
    "version_words",
    "camera_patterns",
    "fourcc_tokens",
    "toggles",
    "templates",
)
_TOP_KEYS = (*_RULE_KEYS, "scope")
_SCOPE_KEYS = ("name", "projects", "folders", *_RULE_KEYS)
_TEMPLATE_KEYS = ("name", "pattern", "fields")
_HEADER = re.compile(r"\s*\[\[?\s*([^\]]+?)\s*\]\]?")
_SEPARATOR = re.compile(r"[_.\s-]")
_LETTERS = re.compile(r"[^\W\d_]{2,}")  # letters of any script: take, Fassung, versión
_FOURCC = re.compile(r"[vV][0-9]+")
_DECODE_AT = re.compile(r"\s*\(at line (\d+), column \d+\)$")


class RulesError(Exception):
    """A rules file that cannot be used. The message names the file, the line when known, and the key."""

    def __init__(self, message: str, *, source: str = "<rules>", line: int | None = None, key: str = "") -> None:
        super().__init__(message)
        self.source = source
        self.line = line
        self.key = key


class _Locator:
    """Finds the line of a key in the TOML text (tomllib reports no positions), to point errors at it.

    A locator covers the whole file, or (:meth:`within`) one ``[[scope]]`` section, whose tables are
    named ``scope.toggles``, ``scope.templates``...; its errors then name the scope."""

    def __init__(self, text: str, source: str) -> None:
        self.lines = text.splitlines()
        self.source = source
        self.headers = [(i, m.group(1)) for i, line in enumerate(self.lines) if (m := _HEADER.match(line))]
        self.bounds = (0, len(self.lines))
        self.prefix = ""
        self.where = ""

    def within(self, span: tuple[int, int], prefix: str, where: str) -> _Locator:
        inner = copy.copy(self)
        inner.bounds, inner.prefix, inner.where = (span[0] + 1, span[1]), prefix, where
        return inner

    def span(self, section: str | None, nth: int = 0) -> tuple[int, int]:
        """Line range of the top level (None), a table, or the nth [[templates]] (with its sub-tables)."""
        low, high = self.bounds
        inside = [(i, name) for i, name in self.headers if low <= i < high]
        if section is None:
            return low, inside[0][0] if inside else high
        section = self.prefix + section
        starts = [i for i, name in inside if name == section]
        if nth >= len(starts):
            return 0, 0
        start = starts[nth]
        later = [i for i, name in inside if i > start and name == section]
        return start, later[0] if later else high

    def find(self, key: str, span: tuple[int, int], value: str | None = None) -> int | None:
        """1-based line of ``key =`` (or of ``value`` after it, for list items) within span."""
        pattern = re.compile(rf"\s*(?:[\w.]+\.)?[\"']?{re.escape(key)}[\"']?\s*=")
        for i in range(*span):
            if pattern.match(self.lines[i]):
                return self._value_line(i, span, value) if value else i + 1
        return None

    def _value_line(self, start: int, span: tuple[int, int], value: str) -> int:
        """The line holding a list item, written raw ('...') or escaped ("..."), else the key's line."""
        for i in range(start, span[1]):
            if value in self.lines[i] or value.replace("\\", "\\\\") in self.lines[i]:
                return i + 1
        return start + 1

    def error(self, where: str, problem: str, line: int | None) -> RulesError:
        at = f"{self.source} line {line}" if line else self.source
        where = self.where + where
        return RulesError(f"{at}: {where}: {problem}", source=self.source, line=line, key=where)


def load_rules(path: Path) -> Rules:
    """Read and validate a rules file; its global rules (the scopes are in :func:`load_rulebook`)."""
    return load_rulebook(path).rules


def load_rulebook(path: Path) -> RuleBook:
    """Read and validate a rules file with its scopes; raises RulesError naming the file, line and key."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise RulesError(f"{path}: cannot read the rules file ({reason})", source=str(path)) from exc
    return rulebook_from_toml(text, str(path))


def rules_from_toml(text: str, source: str = "<rules>") -> Rules:
    """Validate TOML text into its global Rules; raises RulesError."""
    return rulebook_from_toml(text, source).rules


def rulebook_from_toml(text: str, source: str = "<rules>") -> RuleBook:
    """Validate TOML text into the global Rules and its scopes; raises RulesError."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _syntax_error(exc, source, text) from exc
    loc = _Locator(text, source)
    _known_keys(data, _TOP_KEYS, loc)
    rules = _rules(data, loc, DEFAULT_RULES, source)
    return RuleBook(rules, _scopes(data.get("scope", []), loc, rules))


def _known_keys(data: dict[str, Any], known: tuple[str, ...], loc: _Locator) -> None:
    for key in data:
        if key not in known:
            raise loc.error(key, f"unknown key (known: {', '.join(known)})", loc.find(key, loc.span(None)))


def _rules(data: dict[str, Any], loc: _Locator, base: Rules, source: str) -> Rules:
    """The rules of the file's top level (``base``: the defaults) or of a scope (``base``: the global
    rules): word lists and patterns add to the base, toggles override it one by one, and templates
    come first (a template of the base with the same name is replaced)."""
    templates = _templates(data.get("templates", []), loc)
    names = {t.name for t in templates}
    versions = _nfc(_strings(data, "version_words", loc, _version_word))
    words = _word_lists(data, loc)
    rules = Rules(
        templates=templates + tuple(t for t in base.templates if t.name not in names),
        annotation_words=base.annotation_words | words["annotation_words"],
        variant_words=base.variant_words | words["variant_words"],
        version_words=base.version_words + tuple(w for w in sorted(set(versions)) if w not in base.version_words),
        camera_patterns=base.camera_patterns + tuple(_strings(data, "camera_patterns", loc, _regex)),
        fourcc_tokens=base.fourcc_tokens | {f.casefold() for f in _strings(data, "fourcc_tokens", loc, _fourcc)},
        toggles=_toggles(data.get("toggles", {}), loc, base.toggles),
        source=source,
    )
    _ = rules.compiled  # compile now, so a problem surfaces at load time and not on the first name
    return rules


def _scopes(items: object, loc: _Locator, base: Rules) -> tuple[Scope, ...]:
    if not isinstance(items, list) or not all(isinstance(t, dict) for t in items):
        raise loc.error("scope", "expected [[scope]] tables", loc.find("scope", loc.span(None)))
    scopes: list[Scope] = []
    for nth, item in enumerate(items):
        scope = _scope(item, loc.span("scope", nth), loc, base)
        if any(s.name == scope.name for s in scopes):
            raise loc.error(f"[scope {scope.name!r}]", "duplicate scope name", scope.line)
        scopes.append(scope)
    return tuple(scopes)


def _scope(item: dict[str, Any], span: tuple[int, int], loc: _Locator, base: Rules) -> Scope:
    """One [[scope]]: a name, its conditions, and its rules on top of the global ones."""
    name = item.get("name")
    if not isinstance(name, str) or not name.strip():
        line = loc.find("name", span) or span[0] + 1
        raise loc.error(f"[[scope]] at line {span[0] + 1}", "name must be a non-empty string", line)
    inner = loc.within(span, "scope.", f"[scope {name!r}] ")
    _known_keys(item, _SCOPE_KEYS, inner)
    projects = _strings(item, "projects", inner, _identifier)
    folders = _strings(item, "folders", inner, glob_problem)
    if not projects and not folders:
        raise inner.error("projects", "a scope needs projects (ids) or folders (path globs), or both", span[0] + 1)
    rules = _rules(item, inner, base, f"{loc.source} [scope {name!r}]")
    return Scope(name, frozenset(projects), tuple(folders), rules, span[0] + 1)


def _syntax_error(exc: tomllib.TOMLDecodeError, source: str, text: str) -> RulesError:
    message = str(exc)
    found = _DECODE_AT.search(message)
    line = int(found.group(1)) if found else None
    if message.endswith("(at end of document)"):
        line, message = max(1, len(text.splitlines())), message.removesuffix(" (at end of document)")
    at = f"{source} line {line}" if line else source
    problem = _DECODE_AT.sub("", message)
    return RulesError(f"{at}: invalid TOML: {problem}", source=source, line=line, key="")


def _word_lists(data: dict[str, Any], loc: _Locator) -> dict[str, frozenset[str]]:
    extra = frozenset(w.casefold() for w in _nfc(_strings(data, "annotation_words", loc, _word)))
    variants = frozenset(w.casefold() for w in _nfc(_strings(data, "variant_words", loc, _word)))
    return {"annotation_words": extra, "variant_words": variants}


def _strings(data: dict[str, Any], key: str, loc: _Locator, check: Callable[[str], str | None]) -> list[str]:
    """A list of strings of the (top or scope) level; ``check`` returns a problem for a bad item, or None."""
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise loc.error(key, "expected a list of strings", loc.find(key, loc.span(None)))
    for index, item in enumerate(value):
        problem = check(item)
        if problem:
            line = loc.find(key, loc.span(None), item)
            raise loc.error(f"{key}[{index}]", problem, line)
    return value


def _nfc(words: list[str]) -> list[str]:
    """Names are compared in NFC (the parser's first step), so words typed decomposed still match."""
    return [unicodedata.normalize("NFC", w) for w in words]


def _identifier(text: str) -> str | None:
    if not text or any(c.isspace() for c in text):
        return f"{text!r} must be a project id (no spaces)"
    return None


def _word(word: str) -> str | None:
    if not word or _SEPARATOR.search(word):
        return f"{word!r} must be one word without separators (_ - . space)"
    return None


def _version_word(word: str) -> str | None:
    if not _LETTERS.fullmatch(unicodedata.normalize("NFC", word)):
        return f"{word!r} must be two or more letters (like ver, take or Fassung)"
    return None


def _fourcc(token: str) -> str | None:
    if not _FOURCC.fullmatch(token):
        return f"{token!r} must be v followed by digits (like v210)"
    return None


def _regex(pattern: str) -> str | None:
    try:
        re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        return f"bad regex {pattern!r}: {exc}"
    return None


def _toggles(table: object, loc: _Locator, base: Toggles) -> Toggles:
    span = loc.span("toggles")
    if not isinstance(table, dict):
        raise loc.error("toggles", "expected a table [toggles]", loc.find("toggles", loc.span(None)))
    for key, value in table.items():
        if key not in TOGGLES:
            raise loc.error(f"[toggles] {key}", f"unknown toggle (known: {', '.join(TOGGLES)})", loc.find(key, span))
        if not isinstance(value, bool):
            raise loc.error(f"[toggles] {key}", "expected true or false", loc.find(key, span))
    return replace(base, **table)


def _templates(items: object, loc: _Locator) -> tuple[Template, ...]:
    if not isinstance(items, list) or not all(isinstance(t, dict) for t in items):
        raise loc.error("templates", "expected [[templates]] tables", loc.find("templates", loc.span(None)))
    seen: set[str] = set()
    out = []
    for nth, item in enumerate(items):
        template = _template(item, nth, loc)
        if template.name in seen:
            where = f"[templates] {template.name!r}"
            raise loc.error(where, "duplicate template name", loc.find("name", loc.span("templates", nth)))
        seen.add(template.name)
        out.append(template)
    return tuple(out)


def _template(item: dict[str, Any], nth: int, loc: _Locator) -> Template:
    span = loc.span("templates", nth)
    label = f"[templates] {item['name']!r}" if isinstance(item.get("name"), str) else f"[[templates]] #{nth + 1}"
    for key in item:
        if key not in _TEMPLATE_KEYS:
            raise loc.error(label, f"unknown key {key!r} (known: {', '.join(_TEMPLATE_KEYS)})", loc.find(key, span))
    for key in ("name", "pattern"):
        if not isinstance(item.get(key), str) or not item[key]:
            raise loc.error(label, f"{key} must be a non-empty string", loc.find(key, span) or span[0] + 1)
    fields = item.get("fields", {})
    if not isinstance(fields, dict) or not all(isinstance(v, str) for v in fields.values()):
        raise loc.error(label, "fields must be a table of regex strings", loc.find("fields", span) or span[0] + 1)
    template = Template(item["name"], item["pattern"], tuple(sorted(fields.items())))
    try:
        validate(template)
    except TemplateError as exc:
        key = exc.key.removeprefix("fields.")
        line = loc.find(key, span) or loc.find("fields", span) or span[0] + 1
        problem = exc.problem if exc.problem.startswith("unknown placeholder") else str(exc)
        raise loc.error(label, problem, line) from exc
    return template
