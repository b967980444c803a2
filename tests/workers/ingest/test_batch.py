"""The drain's pure part: which inbox files are refused, how they group, which group goes first."""

from __future__ import annotations

from workers.frameio.models import Asset, FileAsset, StackAsset
from workers.ingest.arrival import Arrival
from workers.ingest.batch import Group, Pending, Pulse, Timing, classify, due, lone, next_due, pulses
from workers.naming.parser import DEFAULT_RULES, Rules
from workers.naming.rules import rules_from_toml
from workers.stacking.census import take_census

FOLDER = "folder-1"


def default_rules(folder_id: str) -> Rules:
    return DEFAULT_RULES


def file(file_id: str, name: str, status: str = "uploaded", media_type: str | None = None) -> FileAsset:
    return FileAsset(file_id, name, FOLDER, status, media_type, f"2026-01-01T00:00:{int(file_id[-2:]):02d}Z")


def pending(asset: FileAsset, at: float, folder_id: str = FOLDER) -> Pending:
    return Pending(Arrival(asset.id, "file.upload.completed", at, at * 1000), asset, folder_id)


def test_camera_originals_and_names_without_versions_are_refused_with_the_rule() -> None:
    items = [pending(file("f01", "A004C010_20230610_R1JL.mov"), 1.0), pending(file("f02", "notes.mov"), 1.0)]
    refused, groups = classify(items, {FOLDER: []}, default_rules, by_kind=True)
    assert groups == []
    assert [item.declined.rule for item in refused] == ["camera-original", "no-token"]


def test_versions_group_by_folder_and_key_lowest_version_first() -> None:
    v3, v1, other = file("f03", "sh010_comp_v003.mov"), file("f01", "sh010_comp_v001.mov"), file("f09", "sh020_v1.mov")
    listing: list[Asset] = [v1, v3, other]
    refused, groups = classify(
        [pending(v3, 5.0), pending(v1, 2.0), pending(other, 1.0)], {FOLDER: listing}, default_rules, by_kind=True
    )
    assert refused == []
    by_key = {group.group_key: group for group in groups}
    assert [member.pending.file.id for member in by_key["sh010_comp"].members] == ["f01", "f03"]
    assert by_key["sh010_comp"].last_arrival == 5.0
    assert by_key["sh010_comp"].loose == 2


def test_a_group_counts_loose_versions_already_in_the_folder_and_sees_its_stack() -> None:
    new = file("f05", "tease_v5.mov")
    listing: list[Asset] = [new, file("f02", "tease_v2.mov"), StackAsset("s1", "tease_v4.mov", FOLDER, "f04")]
    _, (group,) = classify([pending(new, 1.0)], {FOLDER: listing}, default_rules, by_kind=True)
    assert group.loose == 2
    assert group.has_stack


def test_media_kinds_make_separate_groups_only_when_kept_apart() -> None:
    video, still = file("f01", "poster_v1.mov"), file("f02", "poster_v2.png")
    items = [pending(video, 1.0), pending(still, 1.0)]
    assert len(classify(items, {FOLDER: [video, still]}, default_rules, by_kind=True)[1]) == 2
    assert len(classify(items, {FOLDER: [video, still]}, default_rules, by_kind=False)[1]) == 1


def test_unfinished_uploads_are_not_counted_as_loose_versions() -> None:
    census = take_census([file("f01", "a_v1.mov"), file("f02", "a_v2.mov", status="created")], DEFAULT_RULES, True)
    assert census.count(("a", "video")) == 1


WINDOW = Timing(window_s=2.0, hold_s=30.0)


def test_a_group_is_due_once_its_newest_file_has_waited_the_window() -> None:
    a1, a2 = file("f01", "a_v1.mov"), file("f02", "a_v2.mov")
    _, groups = classify([pending(a1, 10.0), pending(a2, 11.5)], {FOLDER: [a1, a2]}, default_rules, True)
    assert due(groups, 13.4, WINDOW, {}) == []
    assert next_due(groups, 13.4, WINDOW, {}) == 13.5
    assert [group.group_key for group in due(groups, 13.5, WINDOW, {})] == ["a"]
    assert next_due(groups, 13.5, WINDOW, {}) is None


def test_moves_into_stacks_go_first_then_the_fullest_groups_then_the_longest_settled() -> None:
    files = {
        "two": [file("f11", "two_v1.mov"), file("f12", "two_v2.mov")],
        "three": [file("f21", "three_v1.mov"), file("f22", "three_v2.mov"), file("f23", "three_v3.mov")],
        "older": [file("f31", "older_v1.mov"), file("f32", "older_v2.mov")],
        "late": [file("f41", "late_v3.mov")],
    }
    arrivals = {"two": 5.0, "three": 6.0, "older": 1.0, "late": 7.0}
    listing: list[Asset] = [asset for group in files.values() for asset in group]
    listing.append(StackAsset("s4", "late_v2.mov", FOLDER, "f40"))
    items = [pending(asset, arrivals[key]) for key, group in files.items() for asset in group]
    _, groups = classify(items, {FOLDER: listing}, default_rules, True)
    assert [group.group_key for group in due(groups, 100.0, WINDOW, {})] == ["late", "three", "older", "two"]


def busy_folder() -> tuple[list[Group], list[Pending]]:
    """Group "full" has three loose versions, group "part" two; the newest file came at 20 s."""
    full = [file(f"f0{index}", f"full_v{index}.mov") for index in (1, 2, 3)]
    part = [file(f"f1{index}", f"part_v{index}.mov") for index in (1, 2)]
    items = [pending(asset, 10.0) for asset in full + part] + [pending(file("f99", "notes.mov"), 20.0)]
    return classify(items, {FOLDER: [*full, *part]}, default_rules, True)[1], items


def test_while_a_folder_is_busy_only_groups_as_large_as_its_largest_are_created() -> None:
    groups, items = busy_folder()
    folders = pulses(groups, items, {})
    assert folders[FOLDER] == Pulse(last_arrival=20.0, largest=3)
    assert [group.group_key for group in due(groups, 12.0, WINDOW, folders)] == ["full"]
    assert next_due(groups, 12.0, WINDOW, folders) == 22.0  # the folder quiet for a window


def test_a_smaller_group_waits_at_most_the_hold_while_its_folder_stays_busy() -> None:
    groups, items = busy_folder()
    folders = pulses(groups, items, {FOLDER: Pulse(last_arrival=50.0, largest=4)})
    assert [group.group_key for group in due(groups, 39.9, WINDOW, folders)] == []
    assert [group.group_key for group in due(groups, 40.0, WINDOW, folders)] == ["full", "part"]


def test_a_group_with_a_stack_is_not_held_back_by_a_busy_folder() -> None:
    late = file("f05", "shot_v5.mov")
    listing: list[Asset] = [late, StackAsset("s1", "shot_v4.mov", FOLDER, "f04")]
    _, groups = classify([pending(late, 10.0)], {FOLDER: listing}, default_rules, True)
    folders = {FOLDER: Pulse(last_arrival=11.9, largest=6)}
    assert [group.group_key for group in due(groups, 12.0, WINDOW, folders)] == ["shot"]


def lone_upload(at: float = 10.0, v1_created: str = "2025-12-31T09:00:00Z") -> list[Group]:
    """v2 of a shot whose v1 lies loose in the folder (created at ``v1_created``), arrived at ``at``."""
    v1 = FileAsset("f01", "shot_v1.mov", FOLDER, "uploaded", None, v1_created)
    v2 = file("f02", "shot_v2.mov")
    return classify([pending(v2, at)], {FOLDER: [v1, v2]}, default_rules, True)[1]


def test_a_lone_upload_into_a_quiet_account_is_due_at_once() -> None:
    groups = lone_upload()
    recent = {"f02": 10.0, "f90": 7.9}  # the account's previous arrival came more than a window before
    assert lone(groups[0], recent, WINDOW.window_s)
    assert [group.group_key for group in due(groups, 10.0, WINDOW, {}, recent)] == ["shot"]
    assert next_due(groups, 10.0, WINDOW, {}, recent) is None


def test_an_upload_with_another_arrival_within_the_window_waits_for_it() -> None:
    groups = lone_upload()
    for neighbour in (8.5, 11.0):  # just before it, or just after it in another folder or group
        recent = {"f02": 10.0, "f90": neighbour}
        assert not lone(groups[0], recent, WINDOW.window_s)
        assert due(groups, 10.0, WINDOW, {}, recent) == []
        assert next_due(groups, 10.0, WINDOW, {}, recent) == 12.0


def test_an_upload_created_close_to_another_file_in_its_folder_is_not_lone() -> None:
    # A burst: v1 was created a second before v2 and is listed, though its webhook has not come.
    (group,) = lone_upload(v1_created="2026-01-01T00:00:01Z")
    assert group.apart_s == 1.0
    assert not lone(group, {"f02": 10.0}, WINDOW.window_s)


def test_an_upload_whose_creation_time_is_unknown_is_not_lone() -> None:
    v2 = FileAsset("f02", "shot_v2.mov", FOLDER, "uploaded", None, "")
    (group,) = classify([pending(v2, 10.0)], {FOLDER: [v2]}, default_rules, True)[1]
    assert not lone(group, {"f02": 10.0}, WINDOW.window_s)


def test_two_versions_of_a_group_in_the_inbox_are_never_lone() -> None:
    v1, v2 = file("f01", "shot_v1.mov"), file("f02", "shot_v2.mov")
    _, groups = classify([pending(v1, 1.0), pending(v2, 10.0)], {FOLDER: [v1, v2]}, default_rules, True)
    assert not lone(groups[0], {"f01": 1.0, "f02": 10.0}, WINDOW.window_s)


def test_without_knowing_the_recent_arrivals_an_upload_waits_the_window() -> None:
    groups = lone_upload()
    assert due(groups, 10.0, WINDOW, {}) == []
    assert next_due(groups, 10.0, WINDOW, {}) == 12.0


def test_each_folder_is_read_with_its_own_rules() -> None:
    """A [[scope]] for one folder: 'Fassung' is a version word there and nowhere else."""
    german = rules_from_toml('version_words = ["Fassung"]\n')
    items = [pending(file("f01", "spot_Fassung_1.mov"), 1.0), pending(file("f02", "spot_Fassung_2.mov"), 1.0, "other")]
    refused, groups = classify(
        items, {FOLDER: [], "other": []}, lambda f: german if f == FOLDER else DEFAULT_RULES, True
    )
    assert [(g.folder_id, g.group_key) for g in groups] == [(FOLDER, "spot")]
    assert [(r.pending.folder_id, r.declined.rule) for r in refused] == [("other", "no-token")]
