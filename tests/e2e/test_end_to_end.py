"""One upload, end to end, on real parts: signed deliveries over HTTP, uvicorn, an RQ worker
process, redis-server and the sandbox (with its least convenient defaults)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from service.launcher import LocalStack
from workers import decisions

pytestmark = pytest.mark.e2e


def stacks(tree: dict[str, Any]) -> list[list[str]]:
    """Each stack's children, top first."""
    return [[child["name"] for child in stack["children"]] for stack in tree["stacks"]]


def loose(tree: dict[str, Any]) -> list[str]:
    return sorted(file["name"] for file in tree["files"])


def test_two_versions_make_a_stack_and_the_third_joins_on_top(
    local_stack: LocalStack, folder: str, wait_decided: Callable[..., None]
) -> None:
    v1 = local_stack.upload(folder, "shot010_comp_v001.mov")
    v2 = local_stack.upload(folder, "shot010_comp_v002.mov")
    wait_decided(v1["id"], v2["id"])
    assert stacks(local_stack.tree(folder)) == [["shot010_comp_v002.mov", "shot010_comp_v001.mov"]]

    v3 = local_stack.upload(folder, "shot010_comp_v003.mov")
    wait_decided(v3["id"])
    tree = local_stack.tree(folder)
    assert stacks(tree) == [["shot010_comp_v003.mov", "shot010_comp_v002.mov", "shot010_comp_v001.mov"]]
    assert loose(tree) == []


def test_a_late_version_lands_below_the_higher_one(
    local_stack: LocalStack, folder: str, wait_decided: Callable[..., None]
) -> None:
    uploaded = [local_stack.upload(folder, name)["id"] for name in ("shot020_comp_v001.mov", "shot020_comp_v003.mov")]
    wait_decided(*uploaded)
    late = local_stack.upload(folder, "shot020_comp_v002.mov")
    wait_decided(late["id"])
    assert stacks(local_stack.tree(folder)) == [
        ["shot020_comp_v003.mov", "shot020_comp_v002.mov", "shot020_comp_v001.mov"]
    ]


def test_a_name_without_a_version_stays_loose_with_its_reason(
    local_stack: LocalStack, folder: str, wait_decided: Callable[..., None]
) -> None:
    notes = local_stack.upload(folder, "Client notes.mov")
    other = local_stack.upload(folder, "Client notes copy.mov")
    wait_decided(notes["id"], other["id"])
    tree = local_stack.tree(folder)
    assert stacks(tree) == []
    assert loose(tree) == ["Client notes copy.mov", "Client notes.mov"]
    client = local_stack.redis()
    try:
        history = decisions.for_file(client, notes["id"])
    finally:
        client.close()
    assert history
    assert {decision.outcome for decision in history} == {"declined"}
    assert "version" in history[0].reason


def test_the_head_of_the_stack_is_the_highest_version(
    local_stack: LocalStack, folder: str, wait_decided: Callable[..., None]
) -> None:
    names = ["promo_v9.mov", "promo_v10.mov", "promo_v2.mov"]
    wait_decided(*[local_stack.upload(folder, name)["id"] for name in names])
    (stack,) = local_stack.tree(folder)["stacks"]
    state = local_stack.state
    shown = local_stack.api("GET", f"/v4/accounts/{state['account_id']}/version_stacks/{stack['id']}")
    assert shown["data"]["head_version"]["name"] == "promo_v10.mov"
    assert [child["name"] for child in stack["children"]] == ["promo_v10.mov", "promo_v9.mov", "promo_v2.mov"]


def scraped(local_stack: LocalStack) -> dict[str, float]:
    text = httpx.get(local_stack.metrics_url, timeout=5).text
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, value = line.rsplit(" ", 1)
            values[key] = float(value)
    return values


def test_metrics_count_what_happened(local_stack: LocalStack, folder: str, wait_decided: Callable[..., None]) -> None:
    before = scraped(local_stack)
    wait_decided(*[local_stack.upload(folder, name)["id"] for name in ("tease_v1.mov", "tease_v2.mov", "notes.mov")])
    after = scraped(local_stack)

    def grew(key: str) -> float:
        return after.get(key, 0.0) - before.get(key, 0.0)

    # Three files: each file's upload.completed is queued, its file.ready is a duplicate of it.
    assert grew('autostack_webhooks_total{outcome="queued"}') == 3
    assert grew('autostack_webhooks_total{outcome="duplicate"}') == 3
    assert grew("autostack_stacks_created_total") == 1
    assert grew('autostack_jobs_total{outcome="declined"}') == 1  # notes.mov, decided once
    assert grew('autostack_frameio_calls_total{endpoint="create_stack",status="201"}') == 1
    assert grew("autostack_job_duration_seconds_count") >= 3
    assert after['autostack_queue_depth{queue="autostack"}'] == 0
    assert after["autostack_inbox_files"] == 0
    assert after['autostack_backlog{part="inbox"}'] == 0 and after['autostack_backlog{part="queued"}'] == 0
    # The public webhook port publishes no metrics: they are on their own listener.
    assert httpx.get(f"{local_stack.service_url}/metrics", timeout=5).status_code == 404
