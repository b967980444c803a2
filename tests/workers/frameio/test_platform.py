"""The learned platform answers survive a round trip through their stored form, and bad content
is ignored rather than trusted."""

from __future__ import annotations

from workers.frameio.platform import Platform


def test_known_answers_round_trip_and_unknown_ones_stay_unknown() -> None:
    learned = Platform(
        move_lands="top", children_order="bottom_first", reorder_needs_experimental=True, read_lag_ms=0.0
    )
    assert Platform.from_json(learned.to_json()) == learned
    assert Platform.from_json(learned.to_json()).type_list is None


def test_missing_malformed_or_foreign_content_is_nothing_learned() -> None:
    assert Platform.from_json(None) == Platform()
    assert Platform.from_json(b"{not json") == Platform()
    assert Platform.from_json("[1, 2]") == Platform()
    assert Platform.from_json('{"move_lands": "top", "someday": 1}') == Platform(move_lands="top")
