"""rules suggest's analysis: each suggestion is offered only when applying it reads the names better."""

from __future__ import annotations

from workers.naming.parser import DEFAULT_RULES, Parsed, parse
from workers.naming.rules import rules_from_toml
from workers.naming.suggest import Named, Suggestion, shape_of, suggest

MIXED = [
    Named("de", "Werbespot_Fassung_1.mov"),
    Named("de", "Werbespot_Fassung_2.mov"),
    Named("de", "Teaser_v3_freigegeben.mov"),
    Named("de", "Teaser_v4.mov"),
    Named("en", "Promo_v1.mov"),
    Named("en", "Promo_v2 copy.mov"),
    Named("en", "Promo_v3.mov"),
    Named("en", "Promo_v3 - Copy.mov"),
    Named("en", "A004C010_20230610_R1JL.mov"),
    Named("en", "Scene 4.mov"),
    Named("en", "Scene 5.mov"),
    Named("jp", "予告_Take1.mov"),
    Named("jp", "予告_Take2.mov"),
]


def test_the_suggestion_covers_each_convention_and_nothing_else() -> None:
    report = suggest(MIXED, DEFAULT_RULES)
    assert report.suggestion == Suggestion(("fassung", "take"), ("freigegeben",), ("copy_suffixes_are_duplicates",))
    assert (report.before.groups, report.before.stackable, report.before.declined_total) == (4, 2, 7)
    assert (report.after.groups, report.after.stackable, report.after.declined_total) == (4, 4, 3)
    assert dict(report.before.declined) == {"no-token": 6, "camera-original": 1}


def test_the_fragment_loads_and_reads_the_names_as_reported() -> None:
    report = suggest(MIXED, DEFAULT_RULES)
    rules = rules_from_toml(report.suggestion.fragment(), "suggested.toml")
    assert rules == report.suggestion.apply(DEFAULT_RULES)
    keys = {n.name: parse(n.name, rules) for n in MIXED}
    assert all(isinstance(keys[n], Parsed) for n in ("Werbespot_Fassung_2.mov", "予告_Take2.mov", "Promo_v2 copy.mov"))
    assert keys["Teaser_v3_freigegeben.mov"].group_key == keys["Teaser_v4.mov"].group_key  # type: ignore[union-attr]


def test_a_word_with_one_number_per_title_is_not_a_version_word() -> None:
    names = [Named("f", "Scene 4.mov"), Named("f", "Scene 5.mov"), Named("f", "Intro_Reel_2.mov")]
    assert not suggest(names, DEFAULT_RULES).suggestion


def test_names_the_rules_read_already_get_no_suggestion() -> None:
    names = [Named("f", "a_v1.mov"), Named("f", "a_v2.mov"), Named("f", "b_v1_clean.mov")]
    report = suggest(names, DEFAULT_RULES)
    assert not report.suggestion and report.suggestion.fragment() == ""
    assert report.changes == () and report.before == report.after


def test_shapes_keep_separators_extension_and_the_suggested_words() -> None:
    assert shape_of("Werbespot_Fassung_12.mov") == "a_a_9.mov"
    assert shape_of("Werbespot_Fassung_12.mov", ["fassung"]) == "a_Fassung_9.mov"
    report = suggest(MIXED, DEFAULT_RULES)
    shapes = {(s.shape, s.count, s.rule) for s in report.before.shapes}
    assert shapes == {(shape, 2, "no-token") for shape in ("a_Fassung_9.mov", "a_Take9.mov", "a 9.mov")}
    assert [s.shape for s in report.after.shapes] == ["a 9.mov"]  # what the fragment leaves unread


def test_a_scope_fragment_puts_toggles_under_the_scope() -> None:
    fragment = Suggestion(("take",), (), ("copy_suffixes_are_duplicates",)).fragment("dailies")
    assert fragment.splitlines() == [
        'version_words = ["take"]',
        "[scope.toggles]",
        "copy_suffixes_are_duplicates = true",
    ]
