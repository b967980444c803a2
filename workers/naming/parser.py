"""File-name parsing: from a Frame.io file name to a group key and an integer version.

Pure: no I/O, and total: ``parse`` never raises. It implements the contract of
``docs/naming.md``. The pipeline, in order:

1. basename (after the last ``/`` or ``\\``), Unicode NFC; OS/application junk is refused; surrounding
   whitespace is trimmed and an empty name is refused;
2. the last extension is dropped unless it is itself a version token (``title.v12``). An extension is a
   final ``.`` plus 1-10 ASCII letters/digits with at least one letter, so ``ver.5`` and ``.1001`` stay;
3. camera/device originals and editing-application default names are refused, before any r-token;
4. the user's templates, in order (see :mod:`workers.naming.templates`); the first match wins;
5. the heuristic: separator-anchored version tokens, the last one wins, key = the text before it plus
   the variant words after it; annotations, ``(N)`` duplicate markers and date stamps after it dropped.

Keys are casefolded, every run of separators (``_ - .`` and whitespace) becomes one ``_``, and the ends
are trimmed. Still frames (exr dpx tif tiff png jpg jpeg tga) get ``|f<frame>`` appended.

Decisions the contract leaves open, taken here:

* a camera clip name followed later by a version token (``A004C010_20230610_R1JL_grade_v2``) is a
  versioned derivative, not an original; without one (``..._R1JL_h264``, ``IMG_4821 (1)``) it is refused;
* ``(N)`` markers are annotations, so ``endcard_r3 (1)`` has no r-token (it is not the last word); a
  glued ``promo_v3(2)`` is read as ``promo_v3 (2)`` (D2), so ``endcard_r3(1)`` has no r-token either;
* with ``copy_suffixes_are_duplicates`` (off by default) a final Finder/Windows/Safari copy suffix
  (`` copy``, `` copy 2``, `` - Copy``, `` 2``, ``-2``) after the version is dropped like ``(N)``.

The decisions D1-D7 of ``dev-corpus-2.tsv`` (part of the contract), each behind a toggle:

* D1 ``dotted_versions``: outside still images ``v1.4`` is version 1 with minor revision ``.004`` as its
  ``sub_version`` (zero-padded so the planner orders it numerically); in a still ``.4`` stays a frame;
* D2 ``glued_duplicate_markers``: ``v3(2)`` is ``v3 (2)``;
* D3 ``clock_time_in_date_stamp``: after a date stamp, HHMM / HHMMSS / HH-MM-SS is part of the stamp;
* D4 ``unicode_digits``: a token's digits may be any script's decimal digits, read by value (``v`` + U+FF12 is 2);
  letters are not width-folded, so a full-width V (U+FF36) is no token letter;
* D5: U+3000 and U+00A0 are whitespace, so ``space_separator`` covers them;
* D6: ``.crdownload``/``.part``/``.download`` and macOS ``.Name-V100`` volume folders are junk;
* D7 ``abbreviated_word_forms``: a word form may take ``. `` (``Rev. 3``) as its one separator.
* date stamps after the version are ``YYYY-MM-DD``, ``YYYYMMDD`` and also ``YYYY.MM.DD``/``YYYY_MM_DD``,
  with a real month and day; other digit runs after the version are variant words;
* ``variant_words`` win over ``annotation_words`` (defaults and extras alike);
* a token with more than 18 digits is not a version.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property
from typing import NamedTuple

from workers.naming.templates import RESERVED, Template, TemplateHit, TemplateSet

DEFAULT_ANNOTATIONS = frozenset(
    {"final", "real", "approved", "wip", "draft", "temp", "tmp", "fix", "fixed"}
    | {"client", "internal", "review", "latest"}
)
DEFAULT_VERSION_WORDS = ("version", "revision", "ver", "rev")
# QuickTime uncompressed Y'CbCr fourccs that look exactly like a v-token.
DEFAULT_FOURCCS = frozenset({"v210", "v216", "v308", "v408", "v410"})
STILL_EXTENSIONS = frozenset(["exr", "dpx", "tif", "tiff", "png", "jpg", "jpeg", "tga"])
MAX_DIGITS = 18  # longer digit runs are never versions or frames (and int() stays cheap)

_SEP = r"_.\s-"
_SEP_RUN = re.compile(f"[{_SEP}]+")
_EXTENSION = re.compile(r"(?=[0-9]*[A-Za-z])[A-Za-z0-9]{1,10}")
_DUPLICATE = re.compile(r"\(\d+\)")
_GLUED = re.compile(r"[vV][0-9]+")
_FOLDER = re.compile(r"[/\\]")
_DATE = r"(?:19|20)\d\d(?P<ds>[-_.]?)(?:0[1-9]|1[0-2])(?P=ds)(?:0[1-9]|[12]\d|3[01])"
# D3: a time of day right after a date stamp (HHMM, HHMMSS, or HH-MM-SS with one repeated separator).
_TIME = r"(?:[01]\d|2[0-3])(?:(?:[0-5]\d){1,2}|(?P<ts>[-_.\s])[0-5]\d(?P=ts)[0-5]\d)"
_WORD = re.compile(rf"(?P<date>{_DATE})(?=[{_SEP}]|\Z)|[^{_SEP}]+")
# Finder 'copy'/'copy 2', Windows ' - Copy'/' - Copy (2)', macOS ' 2', Safari '-2' at the end of the name.
_COPY_SUFFIX = re.compile(r"(?:\s+-\s+copy|\s+copy(?:\s+\d{1,3})?|[\s-]\d{1,3})(?:\s*\(\d+\))?\Z", re.IGNORECASE)
_WORD_TIMED = re.compile(rf"(?P<date>{_DATE}(?:[{_SEP}]+{_TIME})?)(?=[{_SEP}]|\Z)|[^{_SEP}]+")

# Camera and device originals: a clip name at the start of the stem, followed by a separator or the end.
# Sources: ARRI ALEXA manual p.106 and ARRI editorial workflow (A004C010_20100610_R1JL, ALEXA 35 A_0001C001);
# RED clip naming (A001_C002_0502XX, S001_L001 on 3D rigs, _001 R3D segments); Blackmagic manuals
# (A001_08151512_C001, S001 stills; BMC01_1_2012-08-08_1631_C0002); Sony XDCAM (C0001, proxies C0001S01,
# metadata C0001M01); Canon Cinema EOS (A_0001C001...); GoPro, DJI, phone and recorder default names.
_CAMERAS: tuple[tuple[str, str], ...] = (
    ("ARRI clip name", r"[a-z]\d{3}[cd]\d{3}_\d{6}(?:\d{2})?_[a-z0-9]{4}"),
    ("ARRI, Sony or Canon clip name", r"[a-z][a-z_]?\d{3,4}[cd]\d{3,4}"),
    ("ARRI reel name", r"[a-z]\d{3}[rl][0-9a-z]{3}"),
    ("RED clip name", r"[a-z]\d{3}_[a-z]\d{3}_\d{4}[a-z0-9]{2}"),
    ("Blackmagic clip name", r"[a-z]\d{3}_\d{8}_[cs]\d{3,4}"),
    ("Blackmagic clip name", r"[^_]+_\d+_\d{4}-\d{2}-\d{2}_\d{4}_c\d{4}"),
    ("Sony XDCAM clip name", r"c\d{4}(?:[sm]\d{2})?"),
    ("GoPro file name", r"g[hxlsp]\d{6}|gopr\d{4}|g\d{7}"),
    ("DJI file name", r"dji_(?:\d{14}_)?\d{4}"),
    ("phone camera name", r"(?:img|vid|pxl|mvimg|lrv)_\d{8}_\d{6,9}|img_e?\d{4}|(?:img|vid)-\d{8}-wa\d{4}"),
    ("phone camera name", r"\d{8}_\d{6}"),
    ("Canon camera name", r"mvi_\d{4}|_mg_\d{4}"),
    ("Nikon, Sony or Fuji camera name", r"_?dsc[_n]?\d{4,5}|dscf\d{4}"),
    ("Panasonic or Olympus camera name", r"p[0-9a-c]\d{6}"),
    ("Sony Handycam name", r"mah\d{5}"),
    ("Atomos recorder name", r"[a-z0-9]+_s\d{3}_s\d{3}_t\d{3}"),
    ("Zoom recorder name", r"zoom\d{4}"),
)

# Editing-application defaults (Premiere/Avid sequences, Resolve timelines, After Effects comps, FCP).
_NLE = re.compile(
    r"(?:untitled(?:[ _](?:sequence|project|timeline|comp|composition))?|(?:nested[ _])?sequence"
    r"|timeline|comp|pre-?comp|compound[ _]clip|multicam(?:era)?[ _]clip|synchroni[sz]ed[ _]clip"
    r"|fusion[ _]composition)(?:[ _]?\d+)?(?:[._ -]\d+)*(?:\s*\(\d+\))?",
    re.IGNORECASE,
)

_JUNK: tuple[tuple[str, str], ...] = (
    ("macOS AppleDouble file", r"\._.*"),
    ("Office owner file", r"~\$.*"),
    ("LibreOffice lock file", r"\.~lock\..*"),
    ("macOS folder metadata", r"\.ds_store|\.localized|\.apdisk|icon\r|\.spotlight-v100|\.trashes"),
    ("macOS folder metadata", r"\.fseventsd|\.temporaryitems|\.volumeicon\.icns"),
    ("macOS volume system folder", r"\.[a-z]+-v100"),
    ("Windows folder metadata", r"thumbs\.db|ehthumbs(?:_vista)?\.db|desktop\.ini"),
    ("temporary or partial file", r".*\.(?:tmp|part|partial|crdownload|download|swp)"),
    ("editor backup or lock file", r"\.#.*|#.*#|.*~"),
    ("Adobe media cache file", r".*\.(?:pek|cfa)"),
    ("NFS or FUSE leftover", r"\.nfs[0-9a-f]+.*|\.fuse_hidden.*"),
)


@dataclass(frozen=True)
class Toggles:
    """One switch per disputed case of the contract; the defaults are the contract's decisions."""

    last_token_wins: bool = True
    space_separator: bool = True
    case_insensitive_tokens: bool = True
    camelcase_v: bool = True
    r_token: bool = True
    sub_versions: bool = True
    c_prefix_versions: bool = False
    fourcc_not_versions: bool = True
    drop_annotations: bool = True
    dates_after_version_are_annotations: bool = True
    status_words_before_version_kept: bool = True
    dates_before_version_kept: bool = True
    frames_stack_per_frame: bool = True
    refuse_camera_originals: bool = True
    dotted_versions: bool = True
    glued_duplicate_markers: bool = True
    clock_time_in_date_stamp: bool = True
    unicode_digits: bool = True
    abbreviated_word_forms: bool = True
    copy_suffixes_are_duplicates: bool = False


@dataclass(frozen=True)
class Rules:
    """The naming rules in force (the defaults need no file; see workers.naming.rules for the TOML form).

    ``annotation_words`` is the full set dropped after the version (the rules file adds to the defaults);
    ``variant_words`` are always kept and win over annotations; ``version_words`` are the word forms that
    may take one separator before their digits; ``camera_patterns`` are extra regexes matched
    case-insensitively at the start of the stem; ``fourcc_tokens`` are v+digits never read as versions.
    Hashable; the compiled regexes are built once per instance (``compiled``) and cached on it.
    """

    templates: tuple[Template, ...] = ()
    annotation_words: frozenset[str] = DEFAULT_ANNOTATIONS
    variant_words: frozenset[str] = frozenset()
    version_words: tuple[str, ...] = DEFAULT_VERSION_WORDS
    camera_patterns: tuple[str, ...] = ()
    fourcc_tokens: frozenset[str] = DEFAULT_FOURCCS
    toggles: Toggles = Toggles()
    source: str = field(default="<defaults>", compare=False)

    @cached_property
    def compiled(self) -> _Compiled:
        return _Compiled(self)


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


class _Token(NamedTuple):
    start: int
    end: int
    text: str
    digits: str
    sub: str | None
    rule: str


def _either_case(word: str, both: bool) -> str:
    return "".join(f"[{c.lower()}{c.upper()}]" for c in word) if both else re.escape(word.lower())


class _Alternation(NamedTuple):
    regex: re.Pattern[str]
    labels: dict[str, str]

    def label(self, found: re.Match[str] | None) -> str | None:
        return self.labels[found.lastgroup] if found is not None and found.lastgroup else None


def _alternation(pairs: list[tuple[str, str]] | tuple[tuple[str, str], ...]) -> _Alternation:
    """One case-insensitive regex for many (label, regex) pairs; the outer group says which matched."""
    regex = re.compile("|".join(f"(?P<a{i}>{rx})" for i, (_, rx) in enumerate(pairs)), re.IGNORECASE)
    return _Alternation(regex, {f"a{i}": label for i, (label, _) in enumerate(pairs)})


class _Compiled:
    """Everything a Rules needs at parse time, compiled once."""

    def __init__(self, rules: Rules) -> None:
        t = rules.toggles
        self.toggles = t
        sep = _SEP if t.space_separator else r"_.-"
        ci = t.case_insensitive_tokens
        words = sorted(rules.version_words, key=len, reverse=True)
        letters = ["v", "c"] if t.c_prefix_versions else ["v"]
        sub = "(?P<sub>[a-zA-Z])?" if t.sub_versions else ""
        word_alt = "|".join(_either_case(w, ci) for w in words) or "(?!)"
        letter_alt = "|".join(_either_case(c, ci) for c in letters)
        digit = r"\d" if t.unicode_digits else "[0-9]"  # D4: any script's decimal digits, read by value
        word_sep = rf"(?:\.\s|[{sep}])?" if t.abbreviated_word_forms else rf"[{sep}]?"  # D7: 'Rev. 3'
        end = rf"{sub}(?![^{sep}])"
        # D1: 'v1.4' is version 1, minor revision 4 (not in still images)
        dotted_end = rf"(?:\.(?P<minor>{digit}{{1,3}})(?![^{sep}])|{end})"
        head = rf"(?<![^{sep}])(?:(?P<word>{word_alt}){word_sep}|(?P<letter>{letter_alt}))(?P<digits>{digit}+)"
        self.token = re.compile(head + end)
        self.dotted = re.compile(head + dotted_end) if t.dotted_versions else self.token
        camel = rf"V(?P<digits>{digit}+)"
        self.camel = re.compile(camel + end) if t.camelcase_v else None
        self.camel_dotted = re.compile(camel + dotted_end) if t.camelcase_v and t.dotted_versions else self.camel
        self.r_token = re.compile(rf"(?<![^{sep}]){_either_case('r', ci)}(?P<digits>{digit}+)\Z")
        self.words = _WORD_TIMED if t.clock_time_in_date_stamp else _WORD
        self.glued_marker = re.compile(rf"(?<=[^{sep}])\(\d+\)\Z") if t.glued_duplicate_markers else None
        self.copy_suffix = _COPY_SUFFIX if t.copy_suffixes_are_duplicates else None
        self.fourccs = frozenset(f.casefold() for f in rules.fourcc_tokens) if t.fourcc_not_versions else None
        self.annotations = frozenset(w.casefold() for w in rules.annotation_words) - {
            w.casefold() for w in rules.variant_words
        }
        self.cameras = [_alternation([(label, rf"(?:{rx})(?=[{_SEP}]|\Z)") for label, rx in _CAMERAS])]
        self.cameras += [_alternation([("camera pattern from the rules file", rx)]) for rx in rules.camera_patterns]
        self.junk = _alternation(_JUNK)
        self.templates = TemplateSet(rules.templates) if rules.templates else None


def parse(name: str, rules: Rules = DEFAULT_RULES) -> Parsed | Declined:
    """Parse one file name. Pure and total: any failure becomes a Declined, never an exception."""
    try:
        return _parse(name, rules.compiled)
    except Exception as exc:  # the contract is totality; a bug must not stop a backfill
        return Declined(f"could not be parsed ({type(exc).__name__})", "error")


def _parse(name: str, c: _Compiled) -> Parsed | Declined:
    base = unicodedata.normalize("NFC", _FOLDER.split(name)[-1])
    junk = c.junk.label(c.junk.regex.fullmatch(base))
    if junk is not None:
        return Declined(f"OS or application junk ({junk})", "junk")
    base = base.strip()
    if not base:
        return Declined("empty name", "empty")
    stem, ext = _split_extension(base, c)
    if c.glued_marker is not None and stem.endswith(")"):  # D2: 'v3(2)' is 'v3 (2)' (the check is cheap)
        stem = c.glued_marker.sub(r"_\g<0>", stem)
    tokens, fourccs = _find_tokens(stem, ext in STILL_EXTENSIONS, c)
    refused = _refuse(stem, tokens, c)
    if refused is not None:
        return refused
    if c.templates is not None:
        hit = c.templates.match(stem)
        if hit is not None:
            return _from_template(hit, c)
    return _heuristic(stem, ext, tokens, fourccs, c)


def _split_extension(base: str, c: _Compiled) -> tuple[str, str]:
    """(stem, extension): the last ``.xxx`` is an extension unless it is itself a version token."""
    dot = base.rfind(".")
    ext = base[dot + 1 :]
    if dot <= 0 or not _EXTENSION.fullmatch(ext):
        return base, ""
    if c.token.fullmatch(ext) and not (c.fourccs and ext.casefold() in c.fourccs):
        return base, ""
    return base[:dot], ext.casefold()


def _find_tokens(stem: str, still: bool, c: _Compiled) -> tuple[list[_Token], list[_Token]]:
    """All version tokens in order, and separately the ones that are codec fourccs.

    Outside still images a dotted minor revision belongs to the token (D1); in a still it is a frame."""
    token, camel = (c.token, c.camel) if still else (c.dotted, c.camel_dotted)
    found = [_token(m, "token" if m["word"] or m["letter"] in "vV" else "c-token") for m in token.finditer(stem)]
    if camel is not None:
        found += [
            _token(m, "camelcase") for m in camel.finditer(stem) if m.start() > 0 and stem[m.start() - 1].islower()
        ]
        found.sort()
    found = [t for t in found if len(t.digits) <= MAX_DIGITS]
    if c.fourccs is None:
        return found, []
    fourccs = [t for t in found if t.rule != "c-token" and t.sub is None and _is_fourcc(t, c.fourccs)]
    return [t for t in found if t not in fourccs], fourccs


def _is_fourcc(token: _Token, fourccs: frozenset[str]) -> bool:
    return token.text[:1] in "vV" and f"v{token.digits}" in fourccs


def _token(m: re.Match[str], rule: str) -> _Token:
    groups = m.groupdict()
    sub, minor = groups.get("sub"), groups.get("minor")
    if minor:  # zero-padded so that the planner's string order is numeric: .004 < .010
        return _Token(m.start(), m.end(), m.group(), m["digits"], f".{int(minor):03d}", rule)
    return _Token(m.start(), m.end(), m.group(), m["digits"], sub.lower() if sub else None, rule)


def _refuse(stem: str, tokens: list[_Token], c: _Compiled) -> Declined | None:
    """Camera/device originals and editing-application defaults, checked before any r-token."""
    if c.toggles.refuse_camera_originals:
        for cameras in c.cameras:
            m = cameras.regex.match(stem)
            if m is not None and not any(t.start >= m.end() for t in tokens):
                return Declined(f"camera original ({cameras.label(m)})", "camera-original")
    if _NLE.fullmatch(stem):
        return Declined("editing-application default name (Sequence, Timeline, Comp, Untitled...)", "nle-default")
    return None


def _from_template(hit: TemplateHit, c: _Compiled) -> Parsed | Declined:
    rule = f"template:{hit.template.name}"
    if not (hit.version.isascii() and hit.version.isdigit()) or len(hit.version) > MAX_DIGITS:
        return Declined(f"template {hit.template.name!r} matched but {{version}} {hit.version!r} is no number", rule)
    parts = [_normalise(v) for n, v in hit.values if n not in RESERVED and not n.startswith("_")]
    key = "_".join(p for p in parts if p)
    if not key:
        return Declined(f"template {hit.template.name!r} matched but left the key empty", rule)
    reason = f"matched template {hit.template.name!r} ({hit.template.pattern})"
    frame = int(hit.frame) if hit.frame and hit.frame.isascii() and hit.frame.isdigit() else None
    return _finish(key, int(hit.version), None, frame, rule, reason, c)


def _finish(
    key: str, version: int, sub: str | None, frame: int | None, rule: str, reason: str, c: _Compiled
) -> Parsed | Declined:
    if frame is None:
        return Parsed(key, version, sub, None, rule, reason)
    if not c.toggles.frames_stack_per_frame:
        return Declined(f"frame {frame} of an image sequence (per-frame stacking is off)", "frame")
    return Parsed(f"{key}|f{frame}", version, sub, frame, rule, f"{reason}; frame {frame}")


def _normalise(text: str) -> str:
    return _SEP_RUN.sub("_", text.casefold()).strip("_")


def _heuristic(stem: str, ext: str, tokens: list[_Token], fourccs: list[_Token], c: _Compiled) -> Parsed | Declined:
    """Rules 2-5 of the contract on the stem; an r-token only when there is no other token at all."""
    if not tokens:
        r = c.r_token.search(stem) if c.toggles.r_token else None
        if r is None:
            return _no_token(stem, fourccs)
        tokens = [_Token(r.start(), r.end(), r.group(), r["digits"], None, "r-token")]
    token = tokens[-1] if c.toggles.last_token_wins else tokens[0]
    prefix = _prefix_key(stem[: token.start], c)
    if not prefix:
        return Declined(f"nothing but separators before the version token {token.text!r}", "no-title")
    kept, dropped, frame = _tail(stem[token.end :], ext in STILL_EXTENSIONS, c)
    key = "_".join([prefix, *kept])
    reason = _token_reason(token, len(tokens), dropped, c.toggles.last_token_wins)
    return _finish(key, int(token.digits), token.sub, frame, token.rule, reason, c)


def _token_reason(token: _Token, count: int, dropped: list[str], last_wins: bool) -> str:
    kinds = {"camelcase": "CamelCase version token", "r-token": "r-token (last word, no v token)"}
    reason = f"{kinds.get(token.rule, 'version token')} {token.text!r}"
    if count > 1:
        reason += f", the {'last' if last_wins else 'first'} of {count} tokens"
    if dropped:
        reason += f"; dropped after it: {', '.join(dropped)}"
    return reason


def _no_token(stem: str, fourccs: list[_Token]) -> Declined:
    if fourccs:
        return Declined(f"{fourccs[-1].text!r} is a codec fourcc (uncompressed video), not a version", "fourcc")
    for glued in _GLUED.finditer(stem):
        if len(glued.group()) > MAX_DIGITS + 1:
            return Declined(f"{glued.group()[:12]!r}... has too many digits to be a version", "no-token")
        return Declined(f"{glued.group()!r} is glued inside a word, not a separate version token", "glued")
    return Declined("no version token (v/ver/version/rev/revision + digits)", "no-token")


def _words(text: str, c: _Compiled) -> list[re.Match[str]]:
    return list(c.words.finditer(text))


def _prefix_key(prefix: str, c: _Compiled) -> str:
    """The key part before the token; status words and dates there stay unless a toggle says otherwise."""
    t = c.toggles
    if t.status_words_before_version_kept and t.dates_before_version_kept:
        return _normalise(prefix)
    kept = [
        _normalise(m.group())
        for m in _words(prefix, c)
        if not (m["date"] and not t.dates_before_version_kept)
        and not (m.group().casefold() in c.annotations and not t.status_words_before_version_kept)
    ]
    return "_".join(k for k in kept if k)


def _tail(tail: str, still: bool, c: _Compiled) -> tuple[list[str], list[str], int | None]:
    """Words after the token: (kept variant words, dropped words, frame number for stills)."""
    copy = c.copy_suffix.search(tail) if c.copy_suffix is not None else None
    words = _words(tail[: copy.start()] if copy else tail, c)
    frame = None
    if still and words:
        last = words[-1]
        digits = last.group()
        at_end = last.end() == len(tail) and last.start() > 0 and tail[last.start() - 1] in "._"
        if at_end and digits.isascii() and digits.isdigit() and len(digits) <= MAX_DIGITS:
            frame = int(digits)
            words.pop()
    kept: list[str] = []
    dropped: list[str] = [copy.group().strip()] if copy else []
    for m in words:
        word = m.group()
        (dropped if _is_annotation(word, m["date"] is not None, c) else kept).append(word)
    return [_normalise(w) for w in kept], dropped, frame


def _is_annotation(word: str, is_date: bool, c: _Compiled) -> bool:
    t = c.toggles
    if is_date:
        return t.dates_after_version_are_annotations
    if _DUPLICATE.fullmatch(word):
        return True
    return t.drop_annotations and word.casefold() in c.annotations
