"""The naming parser against the dev corpus of the contract, plus rules the corpus does not spell out."""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from pathlib import Path
from typing import NamedTuple

import pytest

from workers.naming.parser import DEFAULT_RULES, Declined, Parsed, Rules, parse
from workers.naming.templates import Template

NAMING = Path(__file__).resolve().parents[4] / "shared" / "naming"
CORPORA = {"dev-corpus.tsv": 168, "dev-corpus-2.tsv": 157}  # file -> its row count


class Case(NamedTuple):
    corpus: str
    name: str
    key: str
    version: str


def _load_corpus(corpus: str) -> list[Case]:
    path = NAMING / corpus
    if not path.exists():
        return []
    rows = [line for line in path.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]
    return [Case(corpus, *row.split("\t")) for row in rows[1:]]


CASES = {corpus: _load_corpus(corpus) for corpus in CORPORA}
ALL_CASES = [case for cases in CASES.values() for case in cases]
PRESENT = [corpus for corpus, cases in CASES.items() if cases]
needs_corpus = pytest.mark.skipif(not ALL_CASES, reason=f"dev corpora not found in {NAMING}")


def _answer(name: str, rules: Rules = DEFAULT_RULES) -> tuple[str, str]:
    result = parse(name, rules)
    return (result.group_key, str(result.version)) if isinstance(result, Parsed) else ("-", "-")


@needs_corpus
@pytest.mark.parametrize("corpus", PRESENT)
def test_corpus_is_complete(corpus: str) -> None:
    assert len(CASES[corpus]) == CORPORA[corpus]


@needs_corpus
@pytest.mark.parametrize("case", ALL_CASES, ids=[f"{c.corpus}:{c.name}" for c in ALL_CASES])
def test_corpus_row(case: Case) -> None:
    result = parse(case.name)
    if case.key == "-":
        assert isinstance(result, Declined), result
    else:
        assert isinstance(result, Parsed), result
        assert result.group_key == unicodedata.normalize("NFC", case.key)
        assert result.version == int(case.version)


@needs_corpus
@pytest.mark.parametrize("corpus", PRESENT)
def test_corpus_partition(corpus: str) -> None:
    """Files that share an expected key share a parsed key, and only those."""
    expected: dict[str, set[str]] = defaultdict(set)
    parsed: dict[str, set[str]] = defaultdict(set)
    for case in CASES[corpus]:
        key, _ = _answer(case.name)
        if case.key != "-":
            expected[case.key].add(case.name)
        if key != "-":
            parsed[key].add(case.name)
    assert sorted(map(sorted, parsed.values())) == sorted(map(sorted, expected.values()))


# Camera and device originals the corpus does not list, from the published naming schemes.
@pytest.mark.parametrize(
    "name",
    [
        "A004C010_20100610_R1JL.mov",  # ARRI manual example
        "A004C010_20230610_R1JL_proxy.mov",  # a proxy that keeps the clip name
        "A_0001C001_221205_180413_A1ZX2.mxf",  # ALEXA 35 / Canon style two-character index
        "A004R1JL.mov",  # ARRI tape/reel name
        "A001_C002_0502CE.RDC",  # RED clip folder
        "S001_L001_0502XY_003.R3D",  # RED 3D left eye, span segment 3
        "A001_08151512_C001.braw",  # Blackmagic URSA Cine
        "A001_08151512_S001.dng",  # Blackmagic still
        "BMC01_1_2012-08-08_1631_C0002.mov",  # Blackmagic Cinema Camera
        "C0001.MXF",
        "C0001S01.MXF",  # XDCAM proxy
        "A001C001_220101AB.MXF",  # Sony/Canon cinema
        "GOPR0001.JPG",
        "GX010123.MP4",
        "GL010123.LRV",
        "DJI_20230615143022_0001_D.MP4",
        "IMG_E4821.MOV",
        "IMG_4821 (1).MOV",
        "VID_20240312_183045.mp4",
        "MVI_0042.MOV",
        "_MG_1234.CR2",
        "DSC_0042.NEF",
        "DSCF1234.RAF",
        "P1000123.MOV",
        "SHOGUN_S001_S002_T003.MOV",
        "ZOOM0001_LR.WAV",
        "C001C002_230101_R123_r2.mov",  # an r-number after a clip name is not a revision
    ],
)
def test_camera_originals_are_refused(name: str) -> None:
    result = parse(name)
    assert isinstance(result, Declined)
    assert result.rule == "camera-original", result


def test_camera_clip_name_with_a_version_token_is_a_versioned_derivative() -> None:
    assert _answer("A004C010_20230610_R1JL_grade_v2.mov") == ("a004c010_20230610_r1jl_grade", "2")
    assert _answer("IMG_4821_edit_v3.mov") == ("img_4821_edit", "3")


@pytest.mark.parametrize(
    "name",
    [
        ".DS_Store",
        "Thumbs.db",
        "desktop.ini",
        "._promo_v2.mov",
        "~$script_v2.docx",
        ".~lock.budget_v3.xlsx#",
        "promo_v3.mov.tmp",
        "promo_v3.mov.crdownload",
        "promo_v3.mov~",
        "Icon\r",
    ],
)
def test_junk_is_refused(name: str) -> None:
    result = parse(name)
    assert isinstance(result, Declined)
    assert result.rule == "junk"


@pytest.mark.parametrize(
    "name",
    ["Sequence 01.mov", "Sequence 01_1.mp4", "Timeline 1.mov", "Comp 1_1.mov", "Untitled Project.mov", "Untitled.mov"],
)
def test_nle_defaults_are_refused(name: str) -> None:
    result = parse(name)
    assert isinstance(result, Declined)
    assert result.rule == "nle-default"


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("Showreel_2025_Final.mp4", "no-token"),
        ("pov2_drone_pass.mov", "glued"),
        ("grade_master_v410.mov", "fourcc"),
        ("V03.mp4", "no-title"),
        ("", "empty"),
        ("   ", "empty"),
        ("folder/", "empty"),
    ],
)
def test_decline_rules(name: str, rule: str) -> None:
    result = parse(name)
    assert isinstance(result, Declined)
    assert result.rule == rule
    assert result.reason


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("some/folder/promo_v3.mov", ("promo", "3")),  # basename only
        ("C:\\cuts\\promo_v3.mov", ("promo", "3")),
        ("promo_v3 copy.mov", ("promo_copy", "3")),  # "copy" is not a contract annotation: a variant
        ("promo_v3_2025.01.20.mov", ("promo", "3")),  # dotted date stamp after the version
        ("promo_v3_20251320.mov", ("promo_20251320", "3")),  # not a real date: a variant word
        ("promo_v4 (12).mov", ("promo", "4")),
        ("plate_v2.1001.mov", ("plate_1001", "2")),  # frames only for still images
        ("plate_v2-1001.exr", ("plate_1001", "2")),  # a frame follows . or _ only
        ("promo_take_3.mov", ("-", "-")),  # take is not a default word form
        ("promo.v3.", ("promo", "3")),
        ("promo_v" + "9" * 30 + ".mov", ("-", "-")),  # absurdly long numbers are not versions
    ],
)
def test_generalisations(name: str, expected: tuple[str, str]) -> None:
    assert _answer(name) == expected


def test_parsed_fields() -> None:
    result = parse("mg_0310_comp_v005a.1009.exr")
    assert result == Parsed("mg_0310_comp|f1009", 5, "a", 1009, "token", result.reason)
    assert "v005a" in result.reason and "1009" in result.reason


def test_reason_names_dropped_words_and_token_count() -> None:
    result = parse("sizzle_v04_alt_v02_final.mov")
    assert isinstance(result, Parsed)
    assert "'v02'" in result.reason and "2 tokens" in result.reason and "final" in result.reason


def test_rules_compile_once_and_are_hashable() -> None:
    rules = Rules(annotation_words=frozenset({"ok"}))
    assert rules.compiled is rules.compiled
    assert rules == Rules(annotation_words=frozenset({"ok"}))
    assert len({rules, Rules(annotation_words=frozenset({"ok"}))}) == 1


def test_parse_never_raises_on_odd_input() -> None:
    for name in ["\x00", "\ud800_v2.mov", "v" * 10_000, "_v1" * 5000, "(" * 100 + "_v2", "." * 50]:
        assert isinstance(parse(name), Parsed | Declined)


SHOT = Template("shot", "{shot}_{task}_v{version}", (("shot", r"[a-z]{2}\d{3}"),))
PLATE = Template("plate", "{shot}_{_note}_plate_v{version}.{frame}", (("shot", r"[a-z]{2}\d{3}"),))
LOOSE = Template("loose", "{title}_v{version}", (("title", ".+"),))


def test_template_key_is_built_from_its_placeholders() -> None:
    rules = Rules(templates=(SHOT,))
    result = parse("SH010_Comp_v003.mov", rules)
    assert isinstance(result, Parsed)
    assert (result.group_key, result.version, result.rule) == ("sh010_comp", 3, "template:shot")
    assert result.group_key == parse("SH010_Comp_v003.mov").group_key  # type: ignore[union-attr]


def test_template_separators_match_any_separator_and_case() -> None:
    rules = Rules(templates=(SHOT,))
    assert _answer("sh010-comp V4.mov", rules) == ("sh010_comp", "4")


def test_template_underscore_placeholders_and_frames() -> None:
    rules = Rules(templates=(PLATE,))
    result = parse("ab123_cleanup_plate_v2.1001.exr", rules)
    assert isinstance(result, Parsed)
    assert (result.group_key, result.version, result.frame) == ("ab123|f1001", 2, 1001)


def test_first_matching_template_wins_and_others_fall_through() -> None:
    rules = Rules(templates=(SHOT, LOOSE))
    assert parse("sh010_comp_v3.mov", rules).rule == "template:shot"
    assert parse("My Promo Final_v3.mov", rules).rule == "template:loose"
    assert _answer("My Promo Final_v3.mov", rules) == ("my_promo_final", "3")
    no_match = parse("sh010_comp_v3_final.mov", Rules(templates=(SHOT,)))
    assert isinstance(no_match, Parsed) and no_match.rule == "token"


def test_templates_do_not_override_camera_and_junk_checks() -> None:
    rules = Rules(templates=(LOOSE,))
    assert parse("._promo_v3.mov", rules).rule == "junk"


def test_template_with_a_non_numeric_version_declines() -> None:
    rules = Rules(templates=(Template("odd", "{title}_v{version}", (("version", "[0-9a-z]+"),)),))
    result = parse("promo_vx3.mov", rules)
    assert isinstance(result, Declined) and result.rule == "template:odd"
