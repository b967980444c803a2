"""The ``explain`` command: table, JSON lines, stdin input, rules files (``--rules`` and
``AUTOSTACK_RULES``), and ``--file`` as a table or JSON lines."""

from __future__ import annotations

import argparse
import io
import json
import os
from pathlib import Path

import redis

from service.explain import add_explain_arguments, explain_file, explain_main, run_explain
from tests.service.conftest import run_autostack as autostack
from workers import decisions
from workers.naming.parser import DEFAULT_RULES


def run(argv: list[str], stdin: str = "") -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="explain")
    add_explain_arguments(parser)
    out, err = io.StringIO(), io.StringIO()
    code = explain_main(parser.parse_args(argv), io.StringIO(stdin), out, err)
    return code, out.getvalue(), err.getvalue()


def test_table_has_the_columns_and_one_row_per_name() -> None:
    out = io.StringIO()
    assert run_explain(["Launch v08 2025-01-20 approved.mov", "GH010457.MP4"], DEFAULT_RULES, False, out) == 0
    header, parsed, declined = out.getvalue().splitlines()
    assert header.split() == ["name", "group", "key", "version", "rule", "reason"]
    assert parsed.split()[4:7] == ["launch", "8", "token"]
    assert "approved" in parsed
    assert declined.split()[1:4] == ["-", "-", "camera-original"]
    assert "GoPro" in declined


def test_json_lines_have_exactly_the_documented_keys() -> None:
    code, out, err = run(["--json", "pitch_v2_v3.mov", "Showreel_2025_Final.mp4"])
    assert (code, err) == (0, "")
    first, second = (json.loads(line) for line in out.splitlines())
    assert first == {
        "name": "pitch_v2_v3.mov",
        "group_key": "pitch_v2",
        "version": 3,
        "rule": "token",
        "reason": first["reason"],
    }
    assert list(second) == ["name", "group_key", "version", "rule", "reason"]
    assert (second["group_key"], second["version"], second["rule"]) == (None, None, "no-token")


def test_names_come_from_stdin_when_none_are_given() -> None:
    code, out, _ = run(["--json"], stdin="a_v1.mov\r\n\nb_v2.mov\n")
    assert code == 0
    assert [json.loads(line)["name"] for line in out.splitlines()] == ["a_v1.mov", "b_v2.mov"]


def test_rules_file_is_applied(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text("[toggles]\nc_prefix_versions = true\n", encoding="utf-8")
    code, out, _ = run(["--json", "--rules", str(rules), "track_c007.abc"])
    assert code == 0
    assert json.loads(out)["version"] == 7


def test_bad_rules_file_exits_2_with_one_line(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text("[toggles]\nr_tokn = false\n", encoding="utf-8")
    code, out, err = run(["--rules", str(rules), "a_v1.mov"])
    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert "line 2" in err and "r_tokn" in err and str(rules) in err


def test_missing_rules_file_exits_2(tmp_path: Path) -> None:
    code, _, err = run(["--rules", str(tmp_path / "nope.toml"), "a_v1.mov"])
    assert code == 2
    assert err.count("\n") == 1 and "nope.toml" in err


def test_autostack_rules_is_applied_without_the_rules_option(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text('version_words = ["take"]\n', encoding="utf-8")
    code, out, err = autostack("explain", "--json", "scene_take3.mov", env={"AUTOSTACK_RULES": str(rules)})
    assert (code, err) == (0, "")
    assert (json.loads(out)["group_key"], json.loads(out)["version"]) == ("scene", 3)


def test_the_rules_option_wins_over_autostack_rules(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text('version_words = ["take"]\n', encoding="utf-8")
    parser = argparse.ArgumentParser()
    add_explain_arguments(parser)
    out = io.StringIO()
    args = parser.parse_args(["--json", "--rules", str(rules), "scene_take3.mov"])
    assert explain_main(args, io.StringIO(), out, io.StringIO(), rules_file=tmp_path / "absent.toml") == 0
    assert json.loads(out.getvalue())["version"] == 3


def test_a_bad_autostack_rules_exits_2_naming_the_setting(tmp_path: Path) -> None:
    code, out, err = autostack("explain", "a_v1.mov", env={"AUTOSTACK_RULES": str(tmp_path / "nope.toml")})
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and "AUTOSTACK_RULES" in err and "nope.toml" in err


def test_no_names_at_a_terminal_exits_2_saying_how_to_give_them() -> None:
    leader, follower = os.openpty()
    try:
        code, out, err = autostack("explain", stdin=follower)
    finally:
        os.close(follower)
        os.close(leader)
    assert (code, out) == (2, "")
    assert "give file names, or - to read them from standard input" in err


def test_a_dash_reads_the_names_from_stdin_beside_the_given_ones() -> None:
    code, out, _ = run(["--json", "a_v1.mov", "-"], stdin="b_v2.mov\n")
    assert code == 0
    assert [json.loads(line)["name"] for line in out.splitlines()] == ["a_v1.mov", "b_v2.mov"]


def test_file_with_json_prints_json_lines_with_utc_times(redis_url: str, redis_client: redis.Redis) -> None:
    decision = decisions.Decision("acc", "f1", "stacked", "created a stack", event="file.upload.completed")
    decisions.record(redis_client, decision, 100)
    code, out, err = autostack("explain", "--json", "--file", "f1", env={"REDIS_URL": redis_url})
    assert (code, err) == (0, "")
    row = json.loads(out)
    assert (row["outcome"], row["reason"], row["event"]) == ("stacked", "created a stack", "file.upload.completed")
    assert row["at"].endswith("+00:00")


def test_file_as_a_table_shows_times_with_their_zone(redis_url: str, redis_client: redis.Redis) -> None:
    decisions.record(redis_client, decisions.Decision("acc", "f1", "waiting", "gathering"), 100)
    code, out, _ = autostack("explain", "--file", "f1", env={"REDIS_URL": redis_url})
    assert code == 0
    assert out.splitlines()[1].split()[2] == "UTC"


SCOPED = """
[[scope]]
name = "german spots"
projects = ["p-de"]
folders = ["/Werbung/**"]
version_words = ["Fassung"]
"""


def test_project_and_folder_pick_the_scope_that_decides(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(SCOPED, encoding="utf-8")
    scoped = ["--rules", str(rules), "--project", "p-de", "--folder", "/Werbung/Week 2", "spot_Fassung_2.mov"]
    code, out, _ = run(scoped)
    assert code == 0
    assert out.splitlines()[0] == "rules: scope 'german spots'"
    assert "spot" in out.splitlines()[2] and " 2 " in out.splitlines()[2]
    code, out, _ = run(["--json", *scoped[:4], "--folder", "Promos", "spot_Fassung_2.mov"])
    assert json.loads(out)["scope"] == "global" and json.loads(out)["rule"] == "no-token"
    _, plain, _ = run(["--json", "--rules", str(rules), "spot_Fassung_2.mov"])
    assert "scope" not in json.loads(plain)  # the documented five keys unless a scope was asked for


def test_recorded_decisions_show_the_scope_that_read_the_name(redis_client: redis.Redis) -> None:
    decision = decisions.Decision("acc", "f1", "stacked", "created a stack", rule="token", scope="german spots")
    decisions.record(redis_client, decision, 100)
    out = io.StringIO()
    assert explain_file(redis_client, "f1", out) == 0
    header, row = out.getvalue().splitlines()[:2]
    assert "scope" in header.split() and "german spots" in row
