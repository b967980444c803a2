"""The ``explain`` command body: table, JSON lines, stdin input and rules files."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import redis

from service.explain import add_explain_arguments, explain_file, explain_main, run_explain
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
