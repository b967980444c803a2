"""``autostack doctor --probe`` against the sandbox: under every value of every knob it learns,
it learns that value; it leaves nothing behind, even when a step fails."""

from __future__ import annotations

from typing import Any

import pytest
import redis

from sandbox.config import PROFILES
from tests.inprocess_sandbox import InProcessSandbox
from workers.frameio.platform import PLATFORM_KEY, Platform
from workers.tools.doctor_api import Api
from workers.tools.probe import Clock, run_probe, store_platform


class FakeTime:
    """Milliseconds on an integer clock shared by the probe and the sandbox's read lag."""

    def __init__(self) -> None:
        self.ms = 0

    def now(self) -> float:
        return self.ms / 1000.0

    def sleep(self, seconds: float) -> None:
        self.ms += round(seconds * 1000.0)


def probe(sandbox: InProcessSandbox, **knobs: Any) -> tuple[Platform, str | None]:
    fake = FakeTime()
    sandbox.http.app.state.sandbox.clock = fake.now  # type: ignore[attr-defined]
    sandbox.configure(**knobs)
    api = Api("http://sandbox", lambda: sandbox.state["token"], transport=sandbox.transport())
    clock = Clock(now=fake.now, sleep=fake.sleep, wall=lambda: 1_700_000_000.0)
    result = run_probe(api, sandbox.account, sandbox.state["root_folder_id"], clock)
    assert result.cleaned_up
    return result.platform, result.failed


KNOB_VALUES: list[tuple[str, Any, str, Any]] = [
    *(("move_lands", v, "move_lands", v) for v in ("bottom", "top")),
    *(("children_order", v, "children_order", v) for v in ("top_first", "bottom_first")),
    *(("reorder_requires_experimental", v, "reorder_needs_experimental", v) for v in (False, True)),
    *(("type_list", v, "type_list", v) for v in ("honoured", "refused_422", "first_only")),
    *(("head_version_in_listings", v, "head_version_in_listings", v) for v in (True, False)),
    *(("head_version_in_show_stack", v, "head_version_in_show_stack", v) for v in (True, False)),
    *(("stack_as_folder", v, "stack_as_folder_status", int(v)) for v in ("404", "400", "422")),
    *(("media_type_before_upload", v, "media_type_before_upload", v) for v in ("set", "null")),
    *(("stack_name", v, "stack_name", v) for v in ("frozen", "follows_head")),
    *(("read_lag_ms", v, "read_lag_ms", v) for v in (0.0, 400.0, 2000.0)),
]


@pytest.mark.parametrize(("knob", "value", "field", "learned"), KNOB_VALUES)
def test_the_probe_learns_each_knob_value(
    sandbox: InProcessSandbox, knob: str, value: Any, field: str, learned: Any
) -> None:
    platform, failed = probe(sandbox, **{knob: value})
    assert failed is None
    assert getattr(platform, field) == learned


def test_under_the_pessimistic_profile_it_learns_every_answer(sandbox: InProcessSandbox) -> None:
    platform, failed = probe(sandbox, profile="pessimistic", move_lands="top", children_order="bottom_first")
    assert failed is None
    assert platform == Platform(
        move_lands="top",
        children_order="bottom_first",
        reorder_needs_experimental=True,
        type_list="first_only",
        head_version_in_listings=False,
        head_version_in_show_stack=False,
        stack_as_folder_status=422,
        media_type_before_upload="null",
        stack_name="frozen",
        read_lag_ms=PROFILES["pessimistic"]["read_lag_ms"],
        learned_at=1_700_000_000.0,
    )


def test_it_leaves_the_project_as_it_found_it(sandbox: InProcessSandbox) -> None:
    before = sandbox.tree(sandbox.state["root_folder_id"])
    probe(sandbox)
    assert sandbox.tree(sandbox.state["root_folder_id"]) == before
    assert sandbox.calls("delete_folder") == 1


@pytest.mark.parametrize("endpoint", ["local_upload", "create_stack", "move_file", "reorder_stack"])
def test_a_failed_step_still_deletes_the_scratch_folder(sandbox: InProcessSandbox, endpoint: str) -> None:
    before = sandbox.tree(sandbox.state["root_folder_id"])
    sandbox.http.post("/_sandbox/faults", json={"endpoint": endpoint, "kind": "status", "status": 503, "count": 5})
    platform, failed = probe(sandbox)
    assert failed is not None and "503" in failed
    assert sandbox.tree(sandbox.state["root_folder_id"]) == before
    assert platform.stack_name is None


def test_the_learned_answers_are_stored_for_the_workers(sandbox: InProcessSandbox, redis_client: redis.Redis) -> None:
    platform, _ = probe(sandbox, move_lands="top")
    store_platform(redis_client, platform)
    assert Platform.from_json(redis_client.get(PLATFORM_KEY)) == platform
