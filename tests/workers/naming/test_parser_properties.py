"""Property-based tests of the naming parser: versions are recovered and keys are stable."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

from hypothesis import assume, given
from hypothesis import strategies as st

from workers.naming.parser import DEFAULT_ANNOTATIONS, DEFAULT_FOURCCS, Declined, Parsed, Rules, Toggles, parse

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


# Decisions D1-D7 of dev-corpus-2.tsv.
NOT_STILL = st.sampled_from([".mov", ".mp4", ".MXF", ".wav", ".ai", ".pdf", ""])
STILL = st.sampled_from([".exr", ".dpx", ".tif", ".png", ".JPG", ".tga"])
MINOR = st.integers(min_value=0, max_value=999).map(str)


@given(WORDS, SEPARATOR, TOKEN_FORM, VERSION, PADDING, NOT_STILL, MINOR)
def test_dotted_minor_revision_keeps_key_and_integer(
    words: list[str], sep: str, form: str, version: int, pad: int, ext: str, minor: str
) -> None:
    """D1: outside still images 'v1.4' is version 1 of the same item as 'v1'."""
    plain = parse(build(words, sep, form, version, pad, ext))
    dotted = parse(build(words, sep, form, version, pad, f".{minor}{ext}"))
    assert isinstance(plain, Parsed) and isinstance(dotted, Parsed), dotted
    assert (dotted.group_key, dotted.version) == (plain.group_key, plain.version)


@given(WORDS, SEPARATOR, VERSION, STILL, st.integers(min_value=0, max_value=99_999))
def test_still_image_dotted_number_stays_a_frame(
    words: list[str], sep: str, version: int, ext: str, frame: int
) -> None:
    """D1 leaves still images alone: '_v1.3.tif' is frame 3 of version 1."""
    result = parse(build(words, sep, "v", version, 0, f".{frame}{ext}"))
    assert isinstance(result, Parsed), result
    assert (result.group_key, result.version, result.frame) == (f"{expected_key(words)}|f{frame}", version, frame)


@given(WORDS, SEPARATOR, TOKEN_FORM, VERSION, NOT_STILL, st.integers(0, 999), st.sampled_from(["", " ", "  "]))
def test_duplicate_marker_never_changes_the_key(
    words: list[str], sep: str, form: str, version: int, ext: str, copy: int, space: str
) -> None:
    """D2: a glued 'v3(2)' and a spaced 'v3 (2)' are the file 'v3'."""
    plain = parse(build(words, sep, form, version, 2, ext))
    marked = parse(build(words, sep, form, version, 2, f"{space}({copy}){ext}"))
    assert isinstance(plain, Parsed) and isinstance(marked, Parsed), marked
    assert (marked.group_key, marked.version) == (plain.group_key, plain.version)


CLOCK = st.builds(
    lambda h, m, s, style: style.format(h=h, m=m, s=s),
    st.integers(0, 23),
    st.integers(0, 59),
    st.integers(0, 59),
    st.sampled_from(["{h:02d}{m:02d}", "{h:02d}{m:02d}{s:02d}", "{h:02d}-{m:02d}-{s:02d}", "{h:02d}_{m:02d}_{s:02d}"]),
)
DATE = st.builds(
    lambda y, m, d, style: style.format(y=y, m=m, d=d),
    st.integers(1990, 2099),
    st.integers(1, 12),
    st.integers(1, 28),
    st.sampled_from(["{y}-{m:02d}-{d:02d}", "{y}{m:02d}{d:02d}"]),
)


@given(WORDS, SEPARATOR, VERSION, NOT_STILL, DATE, CLOCK, AFTER_SEPARATOR)
def test_clock_time_after_a_dropped_date_stamp_is_dropped(
    words: list[str], sep: str, version: int, ext: str, date: str, clock: str, sep2: str
) -> None:
    """D3: the time of an export stamp goes with its date."""
    stamped = parse(build(words, sep, "v", version, 2, ext, after=f"{date}{sep2}{clock}"))
    assert isinstance(stamped, Parsed), stamped
    assert (stamped.group_key, stamped.version) == (expected_key(words), version)


ZEROS = st.sampled_from(["0", "\uff10", "\u0660", "\u06f0", "\u0966", "\u09e6"])  # ASCII, full-width, Arabic...


@given(WORDS, SEPARATOR, TOKEN_FORM, VERSION, NOT_STILL, ZEROS)
def test_version_digits_of_any_script_are_read_by_value(
    words: list[str], sep: str, form: str, version: int, ext: str, zero: str
) -> None:
    """D4: a full-width '_v\uff12' is version 2."""
    digits = "".join(chr(ord(zero) + int(d)) for d in str(version))
    result = parse(f"{sep.join(words)}{sep}{form}{digits}{ext}")
    assert isinstance(result, Parsed), result
    assert (result.group_key, result.version) == (expected_key(words), version)


@given(WORDS, VERSION, NOT_STILL, st.sampled_from(["\u3000", "\u00a0", " \u3000"]))
def test_unicode_spaces_are_the_space_separator(words: list[str], version: int, ext: str, space: str) -> None:
    """D5: the ideographic and the no-break space separate like a space."""
    assert key_of(build(words, space, "v", version, 0, ext)) == key_of(build(words, " ", "v", version, 0, ext))


@given(WORDS, SEPARATOR, TOKEN_FORM, VERSION, NOT_STILL, st.sampled_from([".crdownload", ".part", ".download"]))
def test_partial_downloads_are_junk(
    words: list[str], sep: str, form: str, version: int, ext: str, partial: str
) -> None:
    """D6: an unfinished download is never stacked, whatever its name."""
    result = parse(build(words, sep, form, version, 0, ext) + partial)
    assert isinstance(result, Declined) and result.rule == "junk"


@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", min_size=1, max_size=20))
def test_macos_volume_folders_are_junk(word: str) -> None:
    """D6: '.DocumentRevisions-V100' is not version 100."""
    result = parse(f".{word}-V100")
    assert isinstance(result, Declined) and result.rule == "junk"


@given(WORDS, st.sampled_from(["Rev", "ver", "VERSION", "Revision"]), VERSION, NOT_STILL)
def test_abbreviated_word_form_takes_a_dot_and_a_space(words: list[str], word: str, version: int, ext: str) -> None:
    """D7: 'Rev. 3' is 'Rev 3'; a bare v takes no separator ('V. 5' is no token)."""
    assert key_of(f"{' '.join(words)} {word}. {version}{ext}") == key_of(f"{' '.join(words)} {word} {version}{ext}")
    assert isinstance(parse(f"{' '.join(words)} V. {version}{ext}"), Declined)


COPIES = st.sampled_from([" copy", " Copy", " copy 2", " - Copy", " - Copy (3)", " 2", "-2", "-12"])


@given(WORDS, SEPARATOR, VERSION, NOT_STILL, COPIES)
def test_copy_suffixes_are_variants_unless_the_studio_says_they_are_copies(
    words: list[str], sep: str, version: int, ext: str, copy: str
) -> None:
    """The contract keeps a copy suffix as a variant word; with copy_suffixes_are_duplicates it is the item."""
    plain, copied = build(words, sep, "v", version, 2, ext), build(words, sep, "v", version, 2, copy + ext)
    assert key_of(copied) != key_of(plain)
    studio = Rules(toggles=Toggles(copy_suffixes_are_duplicates=True))
    a, b = parse(plain, studio), parse(copied, studio)
    assert isinstance(a, Parsed) and isinstance(b, Parsed)
    assert (b.group_key, b.version) == (a.group_key, a.version)
