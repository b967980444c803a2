"""Progress: rich's bar with the count and ETA on a terminal, one plain line per step elsewhere."""

from __future__ import annotations

import io
import re

from service.progress import Steps


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_off_a_terminal_every_step_and_note_is_one_plain_line() -> None:
    out = io.StringIO()
    with Steps(out, "backfill", 2) as steps:
        steps.note("waiting 6 s: the rate limit")
        steps.advance("created a_v2.mov")
        steps.advance("skipped b")
    lines = out.getvalue().splitlines()
    stamp = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC backfill "
    assert re.fullmatch(stamp + "waiting 6 s: the rate limit", lines[0])
    assert re.fullmatch(stamp + "1/2 created a_v2.mov", lines[1])
    assert re.fullmatch(stamp + "2/2 skipped b", lines[2])
    assert "\r" not in out.getvalue() and "\x1b" not in out.getvalue()


def test_on_a_terminal_a_bar_shows_the_count_and_the_eta() -> None:
    out = Terminal()
    with Steps(out, "backfill", 3) as steps:
        for name in ("a", "b", "c"):
            steps.advance(f"created {name}")
    text = out.getvalue()
    assert "3/3" in text and "ETA" in text and "━" in text
    assert "UTC backfill" not in text  # no plain lines on a terminal
