"""The planner: a pure function from (file, folder) to the one thing to do next."""

from __future__ import annotations

from workers.stacking.planner import (
    AddToStack,
    CreateStack,
    FolderView,
    Nothing,
    Policy,
    StackView,
    Version,
    plan,
)


def version(file_id: str, number: int, key: str = "shot010_comp", at: str = "", kind: str = "video") -> Version:
    return Version(file_id, f"{key}_v{number:03d}.mov", key, number, at or f"2026-01-01T00:00:{number:02d}Z", kind=kind)


def stack_of(stack_id: str, *members: Version) -> StackView:
    return StackView(stack_id, tuple(member.file_id for member in members), members)


def test_a_first_version_alone_stays_a_file() -> None:
    v1 = version("a", 1)
    assert plan(v1, "folder", FolderView("folder", (v1,))) == Nothing(
        "no other version of this group in the folder yet", "first-version"
    )


def test_two_loose_versions_make_one_stack_in_version_order() -> None:
    v1, v2 = version("a", 1), version("b", 2)
    assert plan(v2, "folder", FolderView("folder", (v2, v1))) == CreateStack("folder", ("a", "b"))


def test_all_loose_versions_of_a_group_go_into_one_create() -> None:
    v1, v2, v3 = version("a", 1), version("b", 2), version("c", 3)
    other = version("x", 1, key="shot020_comp")
    result = plan(v1, "folder", FolderView("folder", (v3, other, v1, v2)))
    assert result == CreateStack("folder", ("a", "b", "c"))


def test_a_create_takes_at_most_ten_files_the_oldest_first() -> None:
    loose = tuple(version(f"f{n}", n) for n in range(1, 13))
    result = plan(loose[0], "folder", FolderView("folder", loose))
    assert isinstance(result, CreateStack)
    assert result.file_ids == tuple(f"f{n}" for n in range(1, 11))


def test_a_new_top_version_joins_the_stack_on_top() -> None:
    v1, v2, v3 = version("a", 1), version("b", 2), version("c", 3)
    result = plan(v3, "folder", FolderView("folder", (v3,), (stack_of("s", v1, v2),)))
    assert result == AddToStack("s", "c", ("a", "b", "c"))
    assert isinstance(result, AddToStack)
    assert result.position == 2


def test_a_late_version_lands_below_the_higher_ones() -> None:
    v1, v2, v3 = version("a", 1), version("b", 2), version("c", 3)
    result = plan(v2, "folder", FolderView("folder", (v2,), (stack_of("s", v1, v3),)))
    assert result == AddToStack("s", "b", ("a", "b", "c"))


def test_a_lower_version_than_all_goes_to_the_bottom() -> None:
    v1, v2, v3 = version("a", 1), version("b", 2), version("c", 3)
    assert plan(v1, "folder", FolderView("folder", (v1,), (stack_of("s", v2, v3),))) == AddToStack(
        "s", "a", ("a", "b", "c")
    )


def test_versions_compare_as_integers() -> None:
    v9, v10 = version("nine", 9), version("ten", 10)
    assert plan(v9, "folder", FolderView("folder", (v10, v9))) == CreateStack("folder", ("nine", "ten"))


def test_a_file_already_in_a_stack_needs_nothing() -> None:
    v1, v2 = version("a", 1), version("b", 2)
    result = plan(v2, "s", FolderView("folder", (), (stack_of("s", v1, v2),)))
    assert isinstance(result, Nothing)
    assert result.code == "already-stacked"


def test_a_file_a_newer_listing_shows_in_a_stack_is_not_planned_as_loose() -> None:
    """The file was read in the folder; the listing, read later, shows another job stacked it."""
    v1, v2, v3 = version("a", 1), version("b", 2), version("c", 3)
    result = plan(v2, "folder", FolderView("folder", (), (stack_of("s", v1, v2),)))
    assert result == Nothing("already in version stack s", "already-stacked")
    # Its loose peers still join it.
    assert plan(v2, "folder", FolderView("folder", (v3,), (stack_of("s", v1, v2),))) == AddToStack(
        "s", "c", ("a", "b", "c")
    )


def test_two_stacks_of_one_group_are_never_merged() -> None:
    v1, v2, v3, v4 = version("a", 1), version("b", 2), version("c", 3), version("d", 4)
    result = plan(v4, "folder", FolderView("folder", (v4,), (stack_of("s1", v1, v2), stack_of("s2", v3))))
    assert isinstance(result, Nothing)
    assert result.code == "ambiguous"
    assert "s1" in result.reason and "s2" in result.reason


def test_a_repeated_version_number_goes_above_the_earlier_upload() -> None:
    early = version("early", 4, at="2026-01-01T00:00:01Z")
    fix = version("fix", 4, at="2026-01-01T00:05:00Z")
    v3 = version("c", 3)
    result = plan(fix, "folder", FolderView("folder", (fix,), (stack_of("s", v3, early),)))
    assert result == AddToStack("s", "fix", ("c", "early", "fix"))


def test_a_repeated_version_number_can_be_declined() -> None:
    early, fix = version("early", 4, at="1"), version("fix", 4, at="2")
    result = plan(fix, "folder", FolderView("folder", (early, fix)), Policy(duplicate_versions="decline"))
    assert isinstance(result, Nothing)
    assert result.code == "duplicate-version"


def test_different_media_kinds_are_not_stacked_together_by_default() -> None:
    video, still = version("mov", 1, kind="video"), version("jpg", 2, kind="image")
    assert isinstance(plan(still, "folder", FolderView("folder", (video, still))), Nothing)
    mixed = plan(still, "folder", FolderView("folder", (video, still)), Policy(separate_media_kinds=False))
    assert mixed == CreateStack("folder", ("mov", "jpg"))


def test_members_of_a_hand_made_stack_keep_their_places() -> None:
    v1, v3 = version("a", 1), version("c", 3)
    odd = StackView("s", ("a", "notes", "c"), (v1, v3))  # "notes" does not parse
    result = plan(version("d", 4), "folder", FolderView("folder", (), (odd,)))
    assert result == AddToStack("s", "d", ("a", "notes", "c", "d"))
