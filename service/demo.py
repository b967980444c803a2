"""``autostack demo``: everything local, a few uploads, the folder tree, exit 0 only when it is right.

Starts an embedded redis-server, the sandbox, the service and one worker; uploads v001..v003 of
two shots (one late v002 after its v003), a camera original and a name with no version, through
the sandbox's upload flow and signed webhooks; waits until every job is done; prints the tree.

Then Frame.io's menu: as an editor would, it clicks autostack's Custom Actions in the sandbox
(**Why?** on a file and on a stack; **Pause here** on a folder, uploads into it, **Resume here**;
**Stack versions here**, preview then apply; **Undo autostack** on a file) and prints what each
showed. It exits 0 only when both folders' trees are right.
"""

from __future__ import annotations

import json
import shutil
import sys
from typing import Any, TextIO

from service.action_menu import ACTIONS
from service.launcher import LocalStack
from workers import decisions

UPLOADS = [
    "shot010_comp_v001.mov",
    "shot010_comp_v002.mov",
    "shot010_comp_v003.mov",
    "shot020_comp_v001.mov",
    "shot020_comp_v003.mov",
    "shot020_comp_v002.mov",  # late: uploaded after its v003, must land below it
    "A004C010_20230610_R1JL.mov",  # a camera original: never stacked
    "Client notes.mov",  # no version token: left alone
]

# What a right tree holds: each stack top first; the loose files.
EXPECTED_STACKS = [
    ["shot010_comp_v003.mov", "shot010_comp_v002.mov", "shot010_comp_v001.mov"],
    ["shot020_comp_v003.mov", "shot020_comp_v002.mov", "shot020_comp_v001.mov"],
]
EXPECTED_LOOSE = ["A004C010_20230610_R1JL.mov", "Client notes.mov"]

# The folder the menu acts in: paused while shot030 arrives, stacked by the action, v003 undone.
MENU_UPLOADS = ["shot030_comp_v001.mov", "shot030_comp_v002.mov", "shot030_comp_v003.mov"]
MENU_STACKS = [["shot030_comp_v002.mov", "shot030_comp_v001.mov"]]
MENU_LOOSE = ["shot030_comp_v003.mov"]
EDITOR = "editor-in-frameio"


def run_demo(keep_logs: bool = False, out: TextIO = sys.stdout) -> int:
    print("Starting redis-server, the Frame.io sandbox, the service and a worker ...", file=out)
    stack = LocalStack.start(workers=1, sandbox_config={"transcode_delay_s": 0.5})
    print(f"  webhooks at {stack.service_url}/webhooks/frameio, metrics at {stack.metrics_url}", file=out)
    try:
        folder_id = stack.create_folder("Demo")
        late = "shot020_comp_v002.mov"
        for batch in ([name for name in UPLOADS if name != late], [late]):
            for name in batch:
                stack.upload(folder_id, name)
                print(f"  uploaded {name}", file=out)
            stack.wait_idle(timeout=90, expected_deliveries=2 * len(stack.uploaded))
        tree = stack.tree(folder_id)
        print_tree(stack, tree, out)
        ok = tree_is_right(tree, EXPECTED_STACKS, EXPECTED_LOOSE)
        menu_tree = frameio_menu(stack, folder_id, tree, out)
        print_tree(stack, menu_tree, out)
        ok = ok and tree_is_right(menu_tree, MENU_STACKS, MENU_LOOSE)
        print("\nThe trees are right." if ok else "\nThe trees are NOT right.", file=out)
        return 0 if ok else 1
    finally:
        stack.stop()
        if keep_logs:
            print(f"logs: {stack.workdir}", file=out)
        else:
            shutil.rmtree(stack.workdir, ignore_errors=True)


def tree_is_right(tree: dict[str, Any], expected_stacks: list[list[str]], expected_loose: list[str]) -> bool:
    stacks = sorted([child["name"] for child in stack["children"]] for stack in tree.get("stacks", []))
    loose = sorted(file["name"] for file in tree.get("files", []))
    return stacks == sorted(expected_stacks) and loose == sorted(expected_loose)


def frameio_menu(stack: LocalStack, demo_id: str, demo_tree: dict[str, Any], out: TextIO) -> dict[str, Any]:
    """Click each of autostack's actions as an editor would; the tree of the folder they acted in."""
    print("\nFrame.io's menu (autostack's Custom Actions, clicked in the sandbox):", file=out)
    children = [child for group in demo_tree["stacks"] for child in group["children"]]
    late = next(child for child in children if child["name"] == "shot020_comp_v002.mov")
    click(stack, out, "autostack.why", late["id"], "file", late["name"])
    click(stack, out, "autostack.why", demo_tree["stacks"][0]["id"], "version_stack", demo_tree["stacks"][0]["name"])
    later = stack.create_folder("Later", demo_id)
    click(stack, out, "autostack.pause", later, "folder", "Later/")
    ids = [stack.upload(later, name)["id"] for name in MENU_UPLOADS]
    print(f"  uploaded {', '.join(MENU_UPLOADS)} into Later/ (paused: left alone)", file=out)
    stack.wait_idle(timeout=90, expected_deliveries=2 * len(stack.uploaded))
    click(stack, out, "autostack.resume", later, "folder", "Later/")
    preview = {"where": "folder", "mode": "preview"}
    click(stack, out, "autostack.stack", later, "folder", "Later/", [preview])
    click(stack, out, "autostack.stack", later, "folder", "Later/", [{**preview, "mode": "apply"}])
    stack.wait_idle(timeout=90)
    click(stack, out, "autostack.why", ids[0], "file", MENU_UPLOADS[0])
    click(stack, out, "autostack.undo", ids[2], "file", MENU_UPLOADS[2], [{"confirm": True}])
    stack.wait_idle(timeout=90)
    return stack.tree(later)


def click(
    stack: LocalStack, out: TextIO, event: str, resource_id: str, kind: str, label: str, values: list[Any] | None = None
) -> None:
    record = stack.click(event, resource_id, kind, values=values or [], user_id=EDITOR)
    name = next(spec.name for spec in ACTIONS if spec.event == event)
    print(f"\n  [{name}] on {kind.replace('_', ' ')} {label}", file=out)
    for screen in record["screens"]:
        if screen["sent"] is not None:
            print(f"    (the editor submits {json.dumps(screen['sent'])})", file=out)
        print_shown(screen["shown"], out)


def print_shown(shown: dict[str, Any] | None, out: TextIO) -> None:
    if shown is None:
        print("    Frame.io shows an error: the action did not answer", file=out)
        return
    print(f"    {shown.get('title', '')}", file=out)
    for line in str(shown.get("description", "")).splitlines():
        print(f"      {line}", file=out)
    for field in shown.get("fields", []):
        options = "|".join(option["value"] for option in field.get("options", []))
        print(f"      [{field['type']}] {field['label']}{f' ({options})' if options else ''}", file=out)


def print_tree(stack: LocalStack, tree: dict[str, Any], out: TextIO) -> None:
    print(f"\n{tree.get('name', 'folder')}/", file=out)
    for version_stack in tree.get("stacks", []):
        print(f"  [version stack] {version_stack['name']}", file=out)
        for index, child in enumerate(version_stack["children"]):
            print(f"      {'head ' if index == 0 else '     '}{child['name']}", file=out)
    client = stack.redis()
    try:
        for file in tree.get("files", []):
            history = decisions.for_file(client, file["id"])
            why = history[0].reason if history else "no decision recorded"
            print(f"  {file['name']}  (left alone: {why})", file=out)
    finally:
        client.close()
