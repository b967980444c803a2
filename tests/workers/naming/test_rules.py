"""Rules files: every toggle changes an answer, every extra list works, every mistake names file, line and key."""
# ruff: noqa: E501  (the case tables read best one case a line)

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from workers.naming import rules as rules_module
from workers.naming.parser import Declined, Parsed, Rules, Toggles, parse
from workers.naming.rules import TOGGLES, RulesError, load_rules, rules_from_toml


def answer(name: str, rules: Rules) -> tuple[str, int] | str:
    result = parse(name, rules)
    return (result.group_key, result.version) if isinstance(result, Parsed) else result.rule


# toggle, the value that differs from the default, a name, the default answer, the toggled answer
TOGGLE_CASES = [
    ("last_token_wins", False, "lookbook_aw25_v3_edit_v012.mov", ("lookbook_aw25_v3_edit", 12), ("lookbook_aw25_edit_v012", 3)),
    ("space_separator", False, "harbor sh0450 grade v006.mov", ("harbor_sh0450_grade", 6), "glued"),
    ("case_insensitive_tokens", False, "HARBOR-SH0450-GRADE-V004.MOV", ("harbor_sh0450_grade", 4), "glued"),
    ("camelcase_v", False, "HeroCutV2.mp4", ("herocut", 2), "glued"),
    ("r_token", False, "endcard_r3.mov", ("endcard", 3), "no-token"),
    ("sub_versions", False, "mossgrove_tlr_v021a.mov", ("mossgrove_tlr", 21), "glued"),
    ("c_prefix_versions", True, "sq20_sh140_track_c007.abc", "no-token", ("sq20_sh140_track", 7)),
    ("fourcc_not_versions", False, "grade_master_v410.mov", "fourcc", ("grade_master", 410)),
    ("drop_annotations", False, "kestrel_sc07_anim_v001_draft.mov", ("kestrel_sc07_anim", 1), ("kestrel_sc07_anim_draft", 1)),
    ("dates_after_version_are_annotations", False, "Launch_v06_2025-01-16.mov", ("launch", 6), ("launch_2025_01_16", 6)),
    ("status_words_before_version_kept", False, "Showreel_2025_APPROVED_v5.mp4", ("showreel_2025_approved", 5), ("showreel_2025", 5)),
    ("dates_before_version_kept", False, "Launch_2025-01-09_v01.mov", ("launch_2025_01_09", 1), ("launch", 1)),
    ("frames_stack_per_frame", False, "MRS_2C4_120_BG02_v003.01017.exr", ("mrs_2c4_120_bg02|f1017", 3), "frame"),
    ("refuse_camera_originals", False, "C003C017_20210904_R275.mxf", "camera-original", ("c003c017_20210904", 275)),
    ("dotted_versions", False, "Saltmarsh_Sizzle_v1.4.mov", ("saltmarsh_sizzle", 1), ("saltmarsh_sizzle_4", 1)),
    ("glued_duplicate_markers", False, "Quarry_Recap_v3(2).mp4", ("quarry_recap", 3), "glued"),
    ("clock_time_in_date_stamp", False, "Harbourfront_Cut_v3_2025-11-04_0915.mov", ("harbourfront_cut", 3), ("harbourfront_cut_0915", 3)),
    ("unicode_digits", False, "オープニング_v\uff12.mp4", ("オープニング", 2), "no-token"),
    ("abbreviated_word_forms", False, "Canyon Teaser Rev. 3.mov", ("canyon_teaser", 3), "no-token"),
    ("copy_suffixes_are_duplicates", True, "Quarry_Recap_v4 - Copy.mp4", ("quarry_recap_copy", 4), ("quarry_recap", 4)),
]  # fmt: skip


def test_every_toggle_has_a_case() -> None:
    assert sorted(case[0] for case in TOGGLE_CASES) == sorted(TOGGLES) == sorted(f.name for f in fields(Toggles))


@pytest.mark.parametrize(
    ("toggle", "value", "name", "default", "flipped"), TOGGLE_CASES, ids=[c[0] for c in TOGGLE_CASES]
)
def test_toggle_changes_the_answer(
    toggle: str, value: bool, name: str, default: tuple[str, int] | str, flipped: tuple[str, int] | str
) -> None:
    rules = rules_from_toml(f"[toggles]\n{toggle} = {str(value).lower()}\n", "rules.toml")
    assert getattr(rules.toggles, toggle) is value
    assert answer(name, Rules()) == default
    assert answer(name, rules) == flipped


def test_the_documented_example_loads() -> None:
    doc = rules_module.__doc__ or ""
    example = "\n".join(line[4:] for line in doc.split("::", 1)[1].splitlines() if line.startswith("    "))
    rules = rules_from_toml(example, "example.toml")
    assert rules.toggles.c_prefix_versions
    assert answer("QX0320_lgt_v7.mov", rules) == ("qx0320_lgt", 7)
    assert parse("QX0320_lgt_v7.mov", rules).rule == "template:shot"
    assert answer("promo_take-3.mov", rules) == ("promo", 3)


def test_empty_file_gives_the_default_rules() -> None:
    assert rules_from_toml("# nothing\n") == Rules()


def test_extra_lists_extend_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(
        """
annotation_words = ["Copy", "ok"]
variant_words = ["review"]
version_words = ["take"]
camera_patterns = ['cam\\d{2}_\\d{4}']
fourcc_tokens = ["v999"]
""",
        encoding="utf-8",
    )
    rules = load_rules(path)
    assert rules.source == str(path)
    assert answer("promo_v3 copy.mov", rules) == ("promo", 3)  # extra annotation (casefolded)
    assert answer("promo_v3_final.mov", rules) == ("promo", 3)  # defaults still apply
    assert answer("promo_v3_review.mov", rules) == ("promo_review", 3)  # a variant beats an annotation
    assert answer("promo_take_3.mov", rules) == ("promo", 3)  # extra word form, one separator allowed
    assert answer("promo_ver3.mov", rules) == ("promo", 3)  # default word forms kept
    assert answer("CAM01_0042_r2.mov", rules) == "camera-original"
    assert answer("promo_v999.mov", rules) == "fourcc"
    assert answer("promo_v210.mov", rules) == "fourcc"


def test_templates_from_a_file() -> None:
    rules = rules_from_toml(
        """
[[templates]]
name = "shot"
pattern = "{shot}_{task}_v{version}"
[templates.fields]
shot = "[a-z]{2}\\\\d{4}"

[[templates]]
name = "promo"
pattern = "{title}_{_date}_v{version}"
fields = { title = "promo[a-z]*", _date = "\\\\d{6}" }
"""
    )
    assert [t.name for t in rules.templates] == ["shot", "promo"]
    assert parse("QX0320_lgt_v7.mov", rules).rule == "template:shot"
    assert answer("promo_250114_v4.mov", rules) == ("promo", 4)
    assert parse("promo_250114_v4.mov", rules).rule == "template:promo"


# TOML text, the key the message must name, the line it must name
ERROR_CASES = [
    ("annotation_words = ['x']\nbogus = 1\n", "bogus", 2),
    ("\n[toggles]\nr_tokn = false\n", "[toggles] r_tokn", 3),
    ("[toggles]\nr_token = 'no'\n", "[toggles] r_token", 2),
    ("toggles = 3\n", "toggles", 1),
    ("annotation_words = 'final'\n", "annotation_words", 1),
    ("variant_words = [\n  'ok',\n  'for review',\n]\n", "variant_words[1]", 3),
    ("version_words = ['t']\n", "version_words[0]", 1),
    ("fourcc_tokens = ['abcd']\n", "fourcc_tokens[0]", 1),
    ("camera_patterns = [\n  'ok',\n  'bad[',\n]\n", "camera_patterns[1]", 3),
    ("templates = 'x'\n", "templates", 1),
    ("[[templates]]\nname = 'shot'\npattern = '{shot}_v{version}'\n[templates.fields]\nsho = 'x'\n", "unknown placeholder {sho}", 5),
    ("[[templates]]\nname = 'a'\npattern = '{shot}_v{version}'\nfields = { shot = '(x' }\n", "fields.shot", 4),
    ("[[templates]]\nname = 'a'\npattern = '{shot}_v{version}'\n[templates.fields]\nshot = '(x)\\1'\n", "fields.shot", 5),
    ("[[templates]]\nname = 'a'\npattern = '{shot}_x'\n", "pattern", 3),
    ("[[templates]]\nname = 'a'\npattern = 'v{version}'\n", "pattern", 3),
    ("[[templates]]\nname = 'a'\npattern = '{shot_v{version}'\n", "pattern", 3),
    ("[[templates]]\nname = 'a'\npattern = '{shot}_{shot}_v{version}'\n", "pattern", 3),
    ("[[templates]]\nname = 'a'\npattern = '{1st}_v{version}'\n", "pattern", 3),
    ("[[templates]]\nname = 'a'\npattern = '{s}_v{version}'\nflags = 1\n", "'flags'", 4),
    ("[[templates]]\nname = 'a'\n", "pattern", 1),
    ("[[templates]]\nname = 'a'\npattern = '{s}_v{version}'\n[[templates]]\nname = 'a'\npattern = '{t}_v{version}'\n", "duplicate", 5),
    ("annotation_words = [\n", "invalid TOML", 1),
    ("[toggles]\nr_token = = 1\n", "invalid TOML", 2),
    # [[scope]] sections: the message names the scope
    ("[[scope]]\nprojects = ['p']\n", "[[scope]] at line 1", 1),
    ("[[scope]]\nname = 'a'\n", "[scope 'a'] projects", 1),
    ("[[scope]]\nname = 'a'\nfolders = ['Promos/**']\n", "[scope 'a'] folders[0]", 3),
    ("[[scope]]\nname = 'a'\nprojects = ['p']\nbogus = 1\n", "[scope 'a'] bogus", 4),
    ("[[scope]]\nname = 'a'\nprojects = ['p']\n[scope.toggles]\nr_tokn = true\n", "[scope 'a'] [toggles] r_tokn", 5),
    ("[[scope]]\nname = 'a'\nprojects = ['p']\n[[scope]]\nname = 'a'\nprojects = ['q']\n", "duplicate scope", 4),
    ("[[scope]]\nname = 'a'\nprojects = ['p']\nversion_words = ['x']\n", "[scope 'a'] version_words[0]", 4),
    (
        "[[scope]]\nname = 'a'\nprojects = ['p']\n[[scope.templates]]\nname = 't'\npattern = '{s}_x'\n",
        "[scope 'a'] [templates] 't'",
        6,
    ),
    ("scope = 3\n", "scope", 1),
]  # fmt: skip


@pytest.mark.parametrize(("text", "key", "line"), ERROR_CASES, ids=[c[1] for c in ERROR_CASES])
def test_validation_errors_name_file_line_and_key(text: str, key: str, line: int) -> None:
    with pytest.raises(RulesError) as caught:
        rules_from_toml(text, "rules.toml")
    message = str(caught.value)
    assert message.startswith(f"rules.toml line {line}: "), message
    assert key in message
    assert caught.value.line == line
    assert "\n" not in message


def test_unknown_placeholder_message_matches_the_documented_form() -> None:
    text = "[[templates]]\nname = 'shot'\npattern = '{shot}_v{version}'\n[templates.fields]\nsho = 'x'\n"
    with pytest.raises(RulesError, match=r"^rules\.toml line 5: \[templates\] 'shot': unknown placeholder \{sho\}$"):
        rules_from_toml(text, "rules.toml")


def test_unreadable_file_is_a_rules_error(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match=r"missing\.toml"):
        load_rules(tmp_path / "missing.toml")


def test_rules_from_a_file_stay_comparable_and_parse_like_the_defaults() -> None:
    rules = rules_from_toml("[toggles]\nr_token = true\n", "a.toml")
    assert rules == Rules()
    assert isinstance(parse("promo.mov", rules), Declined)


def test_version_words_in_other_languages_make_tokens() -> None:
    """The contract's answer is no (Fassung, versión are variant-free non-tokens); a show's rules file may say yes."""
    rules = rules_from_toml('version_words = ["Fassung", "versio\u0301n"]\n', "rules.toml")  # typed decomposed
    assert answer("Werbespot_Fassung_B.mov", Rules()) == "no-token"
    assert answer("Werbespot_Fassung_2.mov", rules) == ("werbespot", 2)
    assert answer("Comercial_versión_2.mov", Rules()) == "no-token"
    assert answer("Comercial_versión_2.mov", rules) == ("comercial", 2)


def test_annotation_words_in_other_languages_are_dropped() -> None:
    rules = rules_from_toml('annotation_words = ["freigegeben", "完成版"]\n', "rules.toml")
    assert answer("Werbespot_v3_FREIGEGEBEN.mov", rules) == ("werbespot", 3)
    assert answer("オープニング_v3_完成版.mp4", rules) == ("オープニング", 3)
    assert answer("オープニング_v3_完成版.mp4", Rules()) == ("オープニング_完成版", 3)
