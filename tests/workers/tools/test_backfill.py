"""Backfill's plan reads the planner's codes: a reworded reason changes nothing it decides."""

from __future__ import annotations

import pytest

from workers.frameio.models import FileAsset
from workers.naming.parser import DEFAULT_RULES
from workers.stacking.planner import Nothing, Policy
from workers.tools import backfill
from workers.tools.backfill import Folder, plan_folder


def folder(*names: str) -> Folder:
    files = [FileAsset(f"f{n}", name, "root", "uploaded", None, f"2026-01-0{n}") for n, name in enumerate(names, 1)]
    return Folder("root", "/", list(files))


@pytest.mark.parametrize(
    ("code", "action"),
    [("first-version", None), ("already-stacked", None), ("ambiguous", "skip"), ("duplicate-version", "skip")],
)
def test_a_group_with_nothing_to_do_is_left_out_or_skipped_by_the_planners_code(
    monkeypatch: pytest.MonkeyPatch, code: str, action: str | None
) -> None:
    monkeypatch.setattr(backfill, "plan", lambda *args: Nothing("words nobody matches on", code))
    plans = plan_folder(folder("a_v1.mov", "a_v2.mov"), DEFAULT_RULES, Policy())
    assert [group_plan.action for group_plan in plans] == ([action] if action else [])


def test_media_kinds_form_one_group_when_the_setting_says_so() -> None:
    listing = folder("a_v1.mov", "a_v2.wav")
    assert plan_folder(listing, DEFAULT_RULES, Policy(separate_media_kinds=True)) == []
    [together] = plan_folder(listing, DEFAULT_RULES, Policy(separate_media_kinds=False))
    assert (together.action, together.files) == ("create", 2)
