"""Property-based tests of the naming parser: versions are recovered and keys are stable."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

from hypothesis import assume, given
from hypothesis import strategies as st

from workers.naming.parser import DEFAULT_ANNOTATIONS, DEFAULT_FOURCCS, Declined, Parsed, parse

# Words that cannot form a token, a date, a camera clip name or an editing-application default by
# themselves: letters (with a few that change under NFD or casefold), then optional digits.
LETTERS = "abcdefghijklmnopqstuwxyzéüñøß"
WORD = st.builds(
    lambda head, tail: head + tail,
    st.text(alphabet=LETTERS, min_size=2, max_size=8),
    st.text(alphabet="0123456789", max_size=3),
)
WORDS = st.lists(WORD, min_size=1, max_size=5)
SEPARATOR = st.sampled_from(["_", "-", ".", " ", "__", " - "])
TOKEN_FORM = st.sampled_from(["v", "V", "ver", "Ver_", "version", "VERSION-", "rev", "rev ", "revision", "Revision."])
EXTENSION = st.sampled_from([".mov", ".mp4", ".MXF", ".wav", ".png", ""])


# v210, v410... are codec fourccs, never versions (tested in test_naming); keep them out of these properties.
def not_fourcc(number: int) -> bool:
    return f"v{number}" not in DEFAULT_FOURCCS


VERSION = st.integers(min_value=0, max_value=99_999).filter(not_fourcc)
PADDING = st.integers(min_value=0, max_value=5)


def build(words: list[str], sep: str, form: str, version: int, padding: int, ext: str, after: str = "") -> str:
    digits = str(version).zfill(padding)
    tail = f"{sep}{after}" if after else ""
    return f"{sep.join(words)}{sep}{form}{digits}{tail}{ext}"


def key_of(name: str) -> str:
    result = parse(name)
    assert isinstance(result, Parsed), (name, result)
    return result.group_key


def expected_key(words: list[str]) -> str:
    return "_".join(unicodedata.normalize("NFC", w).casefold() for w in words)


@given(WORDS, SEPARATOR, TOKEN_FORM, VERSION, PADDING, EXTENSION)
def test_version_is_recovered(words: list[str], sep: str, form: str, version: int, pad: int, ext: str) -> None:
    result = parse(build(words, sep, form, version, pad, ext))
    assert isinstance(result, Parsed), result
    assert result.version == version
    assert result.group_key == expected_key(words)


@given(WORDS, SEPARATOR, SEPARATOR, VERSION, PADDING, PADDING, EXTENSION, EXTENSION)
def test_key_ignores_separators_padding_and_extension(
    words: list[str], sep1: str, sep2: str, version: int, pad1: int, pad2: int, ext1: str, ext2: str
) -> None:
    assert key_of(build(words, sep1, "v", version, pad1, ext1)) == key_of(build(words, sep2, "v", version, pad2, ext2))


CASE_CHANGES: list[Callable[[str], str]] = [str.upper, str.lower, str.title, str.swapcase]


@given(WORDS, SEPARATOR, VERSION, EXTENSION, st.sampled_from(CASE_CHANGES))
def test_key_ignores_letter_case(
    words: list[str], sep: str, version: int, ext: str, change: Callable[[str], str]
) -> None:
    name = build(words, sep, "v", version, 3, ext)
    assert key_of(change(name)) == key_of(name)


@given(WORDS, SEPARATOR, VERSION, EXTENSION)
def test_key_ignores_unicode_normal_form(words: list[str], sep: str, version: int, ext: str) -> None:
    name = build(words, sep, "v", version, 2, ext)
    decomposed = unicodedata.normalize("NFD", name)
    assert key_of(decomposed) == key_of(unicodedata.normalize("NFC", name)) == key_of(name)


# Not ".": with no extension, "name_v3.tmp" reads as a temporary file and ".final" as an extension.
AFTER_SEPARATOR = st.sampled_from(["_", "-", " ", " - ", "__"])


@given(WORDS, SEPARATOR, VERSION, EXTENSION, st.sampled_from(sorted(DEFAULT_ANNOTATIONS)), AFTER_SEPARATOR)
def test_annotation_after_the_version_keeps_the_key(
    words: list[str], sep: str, version: int, ext: str, annotation: str, sep2: str
) -> None:
    plain = build(words, sep, "v", version, 3, ext)
    annotated = f"{sep.join(words)}{sep}v{version:03d}{sep2}{annotation.upper()}{ext}"
    assert key_of(annotated) == key_of(plain)
    assert parse(annotated).version == version  # type: ignore[union-attr]


@given(WORDS, SEPARATOR, VERSION, st.integers(min_value=1, max_value=10**6).filter(not_fourcc))
def test_versions_compare_as_integers(words: list[str], sep: str, low: int, high: int) -> None:
    low, high = sorted((low, high))
    assume(low != high)
    a = parse(build(words, sep, "v", low, 0, ".mov"))
    b = parse(build(words, sep, "v", high, 0, ".mov"))
    assert isinstance(a, Parsed) and isinstance(b, Parsed)
    assert a.group_key == b.group_key
    assert a.version < b.version


def test_v9_before_v10() -> None:
    assert parse("promo_v9.mov").version < parse("promo_v10.mov").version  # type: ignore[union-attr]


@given(st.text())
def test_parse_never_raises(name: str) -> None:
    result = parse(name)
    assert isinstance(result, Parsed | Declined)
    if isinstance(result, Parsed):
        assert result.group_key and result.version >= 0


@given(st.text(alphabet=" \t\n_-./\\", max_size=10))
def test_blank_names_are_declined(name: str) -> None:
    assert isinstance(parse(name), Declined)


def test_empty_string_is_declined() -> None:
    assert isinstance(parse(""), Declined)
