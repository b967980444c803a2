"""User naming templates: lucidity-style patterns such as ``{shot}_{task}_v{version}``.

A template is matched against the stem of a name (the name without its last extension), anchored at both
ends and case-insensitively. Each ``{placeholder}`` matches the regex given for it in the template's
``fields`` table, or one word (a run with no separator) when none is given. Literal text is matched as
written, except that a run of separators (``_ - .`` and whitespace) in the pattern matches any run of
separators in the name, so ``{shot}_v{version}`` also reads ``SH010-v3`` and ``sh010 v3``.

Reserved placeholders: ``{version}`` (required; digits by default) and ``{frame}`` (optional; digits).
Placeholders whose name starts with ``_`` are matched but left out of the group key. Numbered
back-references are refused, since all templates are compiled into one alternation.

The group key (built in :mod:`workers.naming.parser`) is the values of the other placeholders, in pattern order,
each normalised exactly like the heuristic's key (the name is already NFC; casefold; each run of
separators becomes one ``_``; ``_`` trimmed at both ends), joined with ``_``, empty values skipped; a
``{frame}`` appends ``|f<int>``. Literal text is not part of the key. So ``{shot}_{task}_v{version}``
gives ``SH010_Comp_v003.mov`` the key ``sh010_comp``: the same key the heuristic gives that name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

VERSION = "version"
FRAME = "frame"
RESERVED = (VERSION, FRAME)
DEFAULT_FIELD = r"[^_.\s-]+"
DIGITS = r"[0-9]+"

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_SEPARATOR_RUN = re.compile(r"[_.\s-]+")
_BACKREFERENCE = re.compile(r"\\[1-9]|\(\?P=")


@dataclass(frozen=True)
class Template:
    """One user template: a name, a pattern and a regex per placeholder (as sorted pairs)."""

    name: str
    pattern: str
    fields: tuple[tuple[str, str], ...] = ()


class TemplateError(ValueError):
    """A template that cannot be compiled; ``key`` names the offending key ("pattern", "fields.shot")."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key = key
        self.problem = problem


@dataclass(frozen=True)
class TemplateHit:
    """The first template that matched: its values in pattern order, version digits and frame digits."""

    template: Template
    values: tuple[tuple[str, str], ...]
    version: str
    frame: str | None


def placeholders(pattern: str) -> list[str]:
    """The placeholder names of a pattern, in order; raises TemplateError on a malformed pattern."""
    names = _PLACEHOLDER.findall(pattern)
    literal = _PLACEHOLDER.sub("", pattern)
    if "{" in literal or "}" in literal:
        raise TemplateError("pattern", f"unbalanced brace in {pattern!r}")
    for name in names:
        if not _IDENTIFIER.match(name):
            raise TemplateError("pattern", f"placeholder {{{name}}} is not a valid name")
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise TemplateError("pattern", f"placeholder {{{duplicates[0]}}} appears twice")
    return names


def validate(template: Template) -> None:
    """Raise TemplateError unless the template compiles and can produce a version and a key."""
    names = placeholders(template.pattern)
    if VERSION not in names:
        raise TemplateError("pattern", "needs a {version} placeholder")
    if not [n for n in names if n not in RESERVED and not n.startswith("_")]:
        raise TemplateError("pattern", "needs a placeholder for the group key besides {version} and {frame}")
    for field, regex in template.fields:
        if field not in names:
            raise TemplateError(f"fields.{field}", f"unknown placeholder {{{field}}}")
        _check_field_regex(field, regex)
    try:
        re.compile(_body(template, "t0_"), re.IGNORECASE)
    except re.error as exc:
        raise TemplateError("pattern", f"does not compile: {exc}") from exc


def _check_field_regex(field: str, regex: str) -> None:
    if _BACKREFERENCE.search(regex):
        raise TemplateError(f"fields.{field}", "back-references are not supported")
    try:
        re.compile(regex)
    except re.error as exc:
        raise TemplateError(f"fields.{field}", f"bad regex: {exc}") from exc


def _literal(text: str) -> str:
    """Literal pattern text as a regex: separator runs match any separator run."""
    parts = _SEPARATOR_RUN.split(text)
    return r"[_.\s-]+".join(re.escape(part) for part in parts)


def _body(template: Template, prefix: str) -> str:
    """The regex body of one template; groups are named ``<prefix><placeholder>``."""
    fields = dict(template.fields)
    out: list[str] = []
    position = 0
    for match in _PLACEHOLDER.finditer(template.pattern):
        out.append(_literal(template.pattern[position : match.start()]))
        name = match.group(1)
        default = DIGITS if name in RESERVED else DEFAULT_FIELD
        out.append(f"(?P<{prefix}{name}>(?:{fields.get(name, default)}))")
        position = match.end()
    out.append(_literal(template.pattern[position:]))
    return "".join(out)


class TemplateSet:
    """All templates compiled into one anchored alternation; the first template in order wins."""

    def __init__(self, templates: tuple[Template, ...]) -> None:
        self.templates = templates
        self._names = [placeholders(t.pattern) for t in templates]
        bodies = [f"(?P<t{i}>{_body(t, f't{i}_')})" for i, t in enumerate(templates)]
        self._regex = re.compile("|".join(bodies), re.IGNORECASE) if templates else None

    def match(self, stem: str) -> TemplateHit | None:
        if self._regex is None:
            return None
        found = self._regex.fullmatch(stem)
        if found is None or found.lastgroup is None:
            return None
        index = int(found.lastgroup[1:])
        prefix = f"t{index}_"
        values = tuple((name, found.group(prefix + name) or "") for name in self._names[index])
        picked = dict(values)
        return TemplateHit(self.templates[index], values, picked[VERSION], picked.get(FRAME))
