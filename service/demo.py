"""``autostack demo``: everything local, a few uploads, the folder tree, exit 0 only when it is right.

Starts an embedded redis-server, the sandbox, the service and one worker; uploads v001..v003 of
two shots (one late v002 after its v003), a camera original and a name with no version, through
the sandbox's upload flow and signed webhooks; waits until every job is done; prints the tree.
"""

from __future__ import annotations

import shutil
import sys
from typing import Any, TextIO

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
        ok = tree_is_right(tree)
        print("\nThe tree is right." if ok else "\nThe tree is NOT right.", file=out)
        return 0 if ok else 1
    finally:
        stack.stop()
        if keep_logs:
            print(f"logs: {stack.workdir}", file=out)
        else:
            shutil.rmtree(stack.workdir, ignore_errors=True)


def tree_is_right(tree: dict[str, Any]) -> bool:
    stacks = sorted([child["name"] for child in stack["children"]] for stack in tree.get("stacks", []))
    loose = sorted(file["name"] for file in tree.get("files", []))
    return stacks == sorted(EXPECTED_STACKS) and loose == sorted(EXPECTED_LOOSE)


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
