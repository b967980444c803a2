"""A worker that authenticates with Adobe IMS server-to-server (the sandbox's stand-in) stacks
uploads with one shared token."""

from __future__ import annotations

import pytest

from service.launcher import LocalStack

pytestmark = pytest.mark.e2e


def test_workers_share_one_ims_token_and_stack() -> None:
    stack = LocalStack.start(workers=0, sandbox_config={"transcode_delay_s": 0.1})
    try:
        credentials = {
            "FRAMEIO_TOKEN": "",
            "FRAMEIO_CLIENT_ID": "sandbox-client-id",
            "FRAMEIO_CLIENT_SECRET": "sandbox-client-secret",
            "FRAMEIO_IMS_URL": stack.sandbox_url,
        }
        stack.add_worker(credentials)
        stack.add_worker(credentials)
        folder = stack.create_folder("s2s")
        for name in ("sc12_grade_v001.mov", "sc12_grade_v002.mov", "sc12_grade_v003.mov"):
            stack.upload(folder, name)
        stack.wait_idle(60, expected_deliveries=2 * len(stack.uploaded))
        names = [[child["name"] for child in s["children"]] for s in stack.tree(folder)["stacks"]]
        assert names == [["sc12_grade_v003.mov", "sc12_grade_v002.mov", "sc12_grade_v001.mov"]]
        calls = stack.api("GET", "/_sandbox/calls")["calls"]
        assert sum(row["count"] for row in calls if row["endpoint"] == "ims_token") == 1
        assert not [row for row in calls if row["status"] == 401]
    finally:
        stack.stop()
