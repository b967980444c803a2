"""``autostack rules suggest`` on the sandbox: a folder tree of mixed conventions is read (read-only,
through the rate limiter) and the suggested fragment, saved as a rules file, reads those names."""

from __future__ import annotations

import argparse
import io
import re
from pathlib import Path
from typing import Any

from service import rules_suggest
from service.cli import build_parser
from tests.workers.conftest import InProcessSandbox
from workers.naming.parser import Parsed, parse
from workers.naming.rules import load_rulebook, rulebook_from_toml
from workers.runtime import Runtime

# folder name -> names uploaded there: three shows' conventions, plus names no rule should read
TREE = {
    "Werbung": ["Werbespot_Fassung_1.mov", "Werbespot_Fassung_2.mov", "Teaser_v3_freigegeben.mov", "Teaser_v4.mov"],
    "Promos": [
        "Promo_v1.mov",
        "Promo_v2 copy.mov",
        "Promo_v3.mov",
        "Promo_v3 - Copy.mov",
        "A004C010_20230610_R1JL.mov",
    ],
    "Tokyo": ["予告_Take1.mov", "予告_Take2.mov", "予告_Take3.mov", "Scene 4.mov", "Scene 5.mov"],
}
WRITES = ("create_stack", "move_file", "reorder")


def seed(sandbox: InProcessSandbox) -> str:
    root = sandbox.folder("Show onboarding")
    for name, files in TREE.items():
        path = f"/v4/accounts/{sandbox.account}/folders/{root}/folders"
        folder = sandbox.http.post(path, json={"data": {"name": name}}, headers=sandbox.auth()).json()["data"]["id"]
        for file_name in files:
            sandbox.upload(folder, file_name)
    return root


def run(rt: Runtime, sandbox: InProcessSandbox, folder: str, **extra: Any) -> tuple[int, str, str]:
    args = argparse.Namespace(folder=folder, account=sandbox.account, recursive=True, **extra)
    out, err = io.StringIO(), io.StringIO()
    code = rules_suggest.suggest_main(args, rt.settings, out, err, rt)
    return code, out.getvalue(), err.getvalue()


def fragment_of(output: str) -> str:
    block = output.split("nothing was written):\n\n", 1)[1].split("\n\n", 1)[0]
    return "\n".join(line.removeprefix("  ") for line in block.splitlines()) + "\n"


def test_the_suggestion_saved_as_a_rules_file_reads_the_tree(
    sandbox: InProcessSandbox, runtime_for: Runtime, tmp_path: Path
) -> None:
    root = seed(sandbox)
    writes = [sandbox.calls(endpoint) for endpoint in WRITES]

    code, out, err = run(runtime_for, sandbox, root)

    assert (code, err) == (0, "")
    assert [sandbox.calls(endpoint) for endpoint in WRITES] == writes  # read-only
    assert out.startswith("read 14 names in 4 folder(s) with the global rules\n")
    assert "today: 4 groups, 2 of them stacks of 2 or more; 8 names declined" in out
    assert re.search(r"\n +2  a_Fassung_9\.mov +e\.g\. Werbespot_Fassung_1\.mov \(no-token\)", out)
    fragment = fragment_of(out)
    assert fragment.splitlines() == [
        'version_words = ["fassung", "take"]',
        'annotation_words = ["freigegeben"]',
        "[toggles]",
        "copy_suffixes_are_duplicates = true",
    ]
    assert "with them: 4 groups, 4 of them stacks of 2 or more; 3 names declined" in out
    assert "Werbespot_Fassung_2.mov: declined (no-token) -> werbespot v2" in out

    saved = tmp_path / "rules.toml"
    saved.write_text(fragment, encoding="utf-8")
    rules = load_rulebook(saved).rules
    read = {name: parse(name, rules) for names in TREE.values() for name in names}
    unread = sorted(name for name, parsed in read.items() if not isinstance(parsed, Parsed))
    assert unread == ["A004C010_20230610_R1JL.mov", "Scene 4.mov", "Scene 5.mov"]  # a camera original, scenes
    assert {read[n].group_key for n in TREE["Promos"][:4]} == {"promo"}  # type: ignore[union-attr]


def test_a_folder_in_a_scope_is_read_with_the_scope_and_the_fragment_goes_there(
    sandbox: InProcessSandbox, runtime_for: Runtime
) -> None:
    root = seed(sandbox)
    scoped = rulebook_from_toml("[[scope]]\nname = 'onboarding'\nfolders = ['/Show onboarding/**']\n")
    rt = Runtime(runtime_for.settings, scoped, transport=runtime_for.transport, foreground=True)
    code, out, _ = run(rt, sandbox, root)
    assert code == 0
    assert "with the rules of [[scope]] 'onboarding'" in out
    assert "add them to the [[scope]] 'onboarding' section" in out and "[scope.toggles]" in out


def test_names_it_reads_already_get_no_suggestion(sandbox: InProcessSandbox, runtime_for: Runtime) -> None:
    folder = sandbox.folder("clean")
    for name in ("a_v1.mov", "a_v2.mov"):
        sandbox.upload(folder, name)
    code, out, _ = run(runtime_for, sandbox, folder)
    assert code == 0
    assert "today: 1 groups, 1 of them stacks of 2 or more; 0 names declined" in out
    assert "no suggestion" in out


def test_a_folder_frameio_does_not_know_is_one_line_and_exit_1(sandbox: InProcessSandbox, runtime_for: Runtime) -> None:
    code, out, err = run(runtime_for, sandbox, "no-such-folder")
    assert (code, out) == (1, "")
    assert err.startswith("autostack rules suggest: cannot read folder no-such-folder: ") and err.count("\n") == 1


def test_the_command_line_has_rules_suggest() -> None:
    args = build_parser().parse_args(["rules", "suggest", "--folder", "f1", "--recursive"])
    assert (args.folder, args.recursive, args.func.__name__) == ("f1", True, "cmd_rules_suggest")
