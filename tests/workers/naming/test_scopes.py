"""Rules per show: [[scope]] sections by project and folder glob, falling back to the global rules."""

from __future__ import annotations

import pytest

from workers.naming.parser import Parsed, Rules, parse
from workers.naming.rules import rulebook_from_toml
from workers.naming.scopes import GLOBAL, RuleBook, Scope, compile_glob

BOOK = """
annotation_words = ["ok"]

[toggles]
copy_suffixes_are_duplicates = true

[[scope]]
name = "german show"
projects = ["p-de"]
version_words = ["Fassung"]
annotation_words = ["freigegeben"]
[scope.toggles]
dotted_versions = false

[[scope]]
name = "dailies"
folders = ["/Dailies/**", "/*/Rushes"]
[[scope.templates]]
name = "day"
pattern = "{title}_{_day}_v{version}"
fields = { _day = '\\d{6}' }

[[scope]]
name = "german dailies"
projects = ["p-de"]
folders = ["/Dailies/**"]
"""


def answer(name: str, rules: Rules) -> tuple[str, int] | str:
    result = parse(name, rules)
    return (result.group_key, result.version) if isinstance(result, Parsed) else result.rule


@pytest.fixture
def book() -> RuleBook:
    return rulebook_from_toml(BOOK, "rules.toml")


def test_first_matching_scope_decides_and_others_fall_back(book: RuleBook) -> None:
    assert book.resolve("p-de", "/Promos").scope == "german show"
    assert book.resolve("p-de", "/Dailies/Day 3").scope == "german show"  # file order: the first match wins
    assert book.resolve("p-en", "/Dailies/Day 3").scope == "dailies"
    assert book.resolve("p-en", "/Dailies").scope == "dailies"  # a final /** covers the folder itself
    assert book.resolve("p-en", "/Show A/rushes").scope == "dailies"  # case-insensitive, * is one name
    assert book.resolve("p-en", "/Show A/B/Rushes").scope == GLOBAL
    assert book.resolve("p-en", "/Promos").scope == GLOBAL
    assert book.resolve(None, None).scope == GLOBAL
    assert book.resolve("p-en", "/Promos").rules is book.rules


def test_scope_rules_extend_the_global_ones(book: RuleBook) -> None:
    german = book.resolve("p-de", "/").rules
    assert answer("Werbespot_Fassung_2.mov", german) == ("werbespot", 2)
    assert answer("Werbespot_Fassung_2.mov", book.rules) == "no-token"
    assert answer("Werbespot_v3_freigegeben_ok.mov", german) == ("werbespot", 3)  # scope + global words
    assert answer("Werbespot_v3 copy.mov", german) == ("werbespot", 3)  # global toggle kept
    assert answer("Sizzle_v1.4.mov", german) == ("sizzle_4", 1)  # scope toggle overrides
    assert answer("Sizzle_v1.4.mov", book.rules) == ("sizzle", 1)
    dailies = book.resolve("p-en", "/Dailies").rules
    assert answer("harbour_251103_v2.mov", dailies) == ("harbour", 2)
    assert parse("harbour_251103_v2.mov", dailies).rule == "template:day"
    assert answer("harbour_251103_v2.mov", book.rules) == ("harbour_251103", 2)


def test_resolution_is_memoised_per_project_and_path(book: RuleBook) -> None:
    first = book.resolve("p-en", "/Dailies/A")
    assert book.resolve("p-en", "/DAILIES/a") is first


def test_a_file_without_scopes_is_a_plain_rules_file() -> None:
    book = rulebook_from_toml("annotation_words = ['ok']\n")
    assert book.scopes == () and not book.needs_path and not book.needs_project
    assert book.resolve("any", "/x").scope == GLOBAL


def test_needs_path_only_when_a_scope_has_folder_globs(book: RuleBook) -> None:
    assert book.needs_path and book.needs_project
    only_projects = rulebook_from_toml("[[scope]]\nname = 'a'\nprojects = ['p1']\n")
    assert not only_projects.needs_path and only_projects.needs_project


@pytest.mark.parametrize(
    ("glob", "path", "matches"),
    [
        ("/Promos/**", "/Promos", True),
        ("/Promos/**", "/Promos/Spring/Week 2", True),
        ("/Promos/*", "/Promos/Spring/Week 2", False),
        ("/Promos/*", "/Promos/Spring", True),
        ("/**/VFX", "/Show/Ep1/VFX", True),
        ("/Ep?", "/Ep1", True),
        ("/Ep?", "/Ep10", False),
        ("/Promos", "/Promos.old", False),
    ],
)
def test_folder_globs(glob: str, path: str, matches: bool) -> None:
    assert bool(compile_glob(glob).fullmatch(path.casefold())) is matches


def test_a_scope_with_only_a_project_matches_any_folder() -> None:
    scope = Scope("a", frozenset({"p1"}), (), Rules())
    assert scope.matches("p1", None) and not scope.matches("p2", "/x")
