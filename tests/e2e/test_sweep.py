"""The reconciliation sweep on real processes: a file whose every delivery was lost still stacks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from service.launcher import LocalStack
from service.processes import wait_until
from workers import decisions

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def sweeping_stack() -> Iterator[LocalStack]:
    env = {"AUTOSTACK_SWEEP_INTERVAL_S": "2", "AUTOSTACK_COALESCE_WINDOW_S": "0.5"}
    stack = LocalStack.start(workers=1, sandbox_config={"transcode_delay_s": 0.2}, env=env)
    try:
        yield stack
    finally:
        stack.stop()


def test_the_sweep_stacks_a_file_whose_webhooks_never_arrived(sweeping_stack: LocalStack) -> None:
    stack = sweeping_stack
    folder = stack.create_folder("swept")
    first = stack.upload(folder, "promo_v1.mov")["id"]
    stack.wait_idle(30, expected_deliveries=2 * len(stack.uploaded))
    webhook = f"/v4/accounts/{stack.state['account_id']}/webhooks/{stack.webhook_id}"
    stack.api("PATCH", webhook, json={"data": {"active": False}})  # every delivery for v2 is lost
    lost = stack.upload(folder, "promo_v2.mov")["id"]
    stack.uploaded.remove(lost)
    file_path = f"/v4/accounts/{stack.state['account_id']}/files/{lost}"
    wait_until(lambda: stack.api("GET", file_path)["data"]["status"] == "transcoded", 20, what="v2 to finish")
    stack.api("PATCH", webhook, json={"data": {"active": True}})
    assert not any(d["resource_id"] == lost for d in stack.deliveries())

    def stacked() -> bool:
        return [[c["name"] for c in s["children"]] for s in stack.tree(folder)["stacks"]] == [
            ["promo_v2.mov", "promo_v1.mov"]
        ]

    wait_until(stacked, 30, what="the sweep to stack v2")
    client = stack.redis()
    try:
        swept = [d for file_id in (first, lost) for d in decisions.for_file(client, file_id) if d.event == "sweep"]
    finally:
        client.close()
    assert swept and swept[0].outcome == "stacked"  # newest first; a coalescing wait may precede it
