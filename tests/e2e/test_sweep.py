"""The reconciliation sweep on real processes: a file whose every delivery was lost still stacks."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
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
    # The sweep's job recorded the stack (on either file: the other may only have a coalescing wait).
    assert any(d.outcome == "stacked" for d in swept), swept
    # The sweep says when it last finished (the alert AutostackSweepNotRun reads it).
    scraped = httpx.get(stack.metrics_url, timeout=5).text
    (stamp,) = [line for line in scraped.splitlines() if line.startswith("autostack_sweep_last_run_timestamp_seconds ")]
    assert time.time() - float(stamp.split()[1]) < 60


@pytest.fixture(scope="module")
def stale_retries_stack() -> Iterator[LocalStack]:
    """Frame.io's retries repeat their first attempt's timestamp (sandbox ``retry_reuses_timestamp``):
    with a 2 s tolerance and the first backoff ~6 s, every retry arrives stale."""
    env = {
        "AUTOSTACK_SWEEP_INTERVAL_S": "2",
        "AUTOSTACK_COALESCE_WINDOW_S": "0.5",
        "AUTOSTACK_TIMESTAMP_TOLERANCE_S": "2",
    }
    config = {"transcode_delay_s": 0.2, "retry_reuses_timestamp": True, "delivery_time_scale": 0.4}
    stack = LocalStack.start(workers=1, sandbox_config=config, env=env)
    try:
        yield stack
    finally:
        stack.stop()


def test_retries_refused_as_stale_lose_nothing_the_sweep_stacks_the_file(stale_retries_stack: LocalStack) -> None:
    stack = stale_retries_stack
    folder = stack.create_folder("stale")
    stack.upload(folder, "teaser_v1.mov")
    stack.wait_idle(30, expected_deliveries=2 * len(stack.uploaded))
    webhook = f"/v4/accounts/{stack.state['account_id']}/webhooks/{stack.webhook_id}"
    url = stack.api("GET", webhook)["data"]["url"]
    stack.api("PATCH", webhook, json={"data": {"url": "http://127.0.0.1:9/webhooks/frameio"}})  # nobody there
    late = stack.upload(folder, "teaser_v2.mov")["id"]
    stack.uploaded.remove(late)

    def attempts() -> list[dict[str, object]]:
        return [attempt for d in stack.deliveries() if d["resource_id"] == late for attempt in d["attempts"]]

    def both_failed_once() -> bool:  # file.upload.completed and file.ready, each tried once, in vain
        return len([attempt for attempt in attempts() if attempt["error"]]) >= 2

    wait_until(both_failed_once, 20, what="v2's first attempts to fail")
    stack.api("PATCH", webhook, json={"data": {"url": url}})  # autostack is back; the retries are not
    wait_until(
        lambda: any(attempt["status_code"] == 401 for attempt in attempts()), 30, what="a retry refused as stale"
    )

    def stacked() -> bool:
        return [[c["name"] for c in s["children"]] for s in stack.tree(folder)["stacks"]] == [
            ["teaser_v2.mov", "teaser_v1.mov"]
        ]

    wait_until(stacked, 30, what="the sweep to stack v2")
    assert not any(attempt["status_code"] in (200, 202) for attempt in attempts())  # no delivery of v2 got through
