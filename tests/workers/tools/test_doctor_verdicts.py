"""The doctor's pure verdicts: webhooks, secrets, Redis settings, and the inference of each answer
(including observations that settle nothing, which leave the field unknown)."""

from __future__ import annotations

import pytest

from workers.frameio.platform import Platform
from workers.tools.doctor_verdicts import (
    Check,
    Observations,
    Webhook,
    infer,
    passed,
    platform_rows,
    redis_checks,
    secrets_check,
    webhook_check,
    webhook_from_json,
)

URL = "https://a.example/webhooks/frameio"
EVENTS = ("file.upload.completed", "file.ready")


def hook(url: str = URL, events: tuple[str, ...] = EVENTS, active: bool = True, id: str = "w1") -> Webhook:
    return Webhook(id, url, frozenset(events), active)


@pytest.mark.parametrize(
    ("hooks", "url", "level"),
    [
        ([hook()], URL, "ok"),
        ([hook()], None, "warn"),
        ([hook(), hook(id="w2")], URL, "warn"),
        ([hook(), hook(id="w2", active=False)], URL, "ok"),
        ([hook(active=False)], URL, "fail"),
        ([hook(events=("file.ready",))], URL, "fail"),
        ([hook(url="https://b.example/webhooks/frameio")], URL, "fail"),
        ([], URL, "fail"),
        ([hook(url="https://b.example/other")], None, "fail"),
    ],
)
def test_webhook_verdicts(hooks: list[Webhook], url: str | None, level: str) -> None:
    check = webhook_check(hooks, url, EVENTS, "ws")
    assert check.level == level
    assert bool(check.todo) == (level != "ok")


def test_a_webhook_without_an_active_flag_counts_as_active() -> None:
    assert webhook_from_json({"id": "w", "url": URL, "events": list(EVENTS)}) == hook(id="w")
    assert not webhook_from_json({"id": "w", "url": URL, "events": "bad", "active": False}).active


@pytest.mark.parametrize(
    ("secrets", "level"),
    [
        ([], "fail"),
        (["a" * 64], "ok"),
        (["a" * 64, "b" * 64], "ok"),
        (["a" * 64, "a" * 64], "warn"),
        (["a" * 64, "b" * 64, "c" * 64], "warn"),
        (["a" * 64, "too-short"], "fail"),
        (["with a space in it, long enough"], "fail"),
        (["é" * 20], "fail"),
    ],
)
def test_secret_verdicts_never_show_a_secret(secrets: list[str], level: str) -> None:
    check = secrets_check(secrets)
    assert check.level == level
    assert not any(secret in check.summary + check.todo for secret in secrets)


def test_redis_verdicts() -> None:
    good = redis_checks({"appendonly": "yes", "maxmemory-policy": "noeviction"})
    bad = redis_checks({"appendonly": "no", "maxmemory-policy": "allkeys-lru"})
    assert [c.level for c in good] == ["ok", "ok"]
    assert [c.level for c in bad] == ["fail", "fail"]
    assert [c.level for c in redis_checks(None)] == ["warn"]


def test_passed_means_nothing_failed() -> None:
    assert passed([Check("a", "ok", ""), Check("b", "warn", "")])
    assert not passed([Check("a", "ok", ""), Check("b", "fail", "")])


def test_observations_that_settle_nothing_leave_every_answer_unknown() -> None:
    seen = Observations(
        bottom="a",
        top="b",
        moved="c",
        media_type_mid_upload=("uploaded", None),  # seen too late to say
        children_after_create=("a", "x"),
        children_after_move=("a", "c", "b"),  # in the middle
        reorder_status=500,
        type_list=(200, frozenset({"version_stack"})),
        stack_as_folder_status=200,
        stack_names=("b", "z", "a"),
    )
    assert infer(seen) == Platform()


def test_a_reorder_refused_with_and_without_the_header_is_unknown() -> None:
    assert infer(Observations(reorder_status=404, reorder_experimental_status=404)).reorder_needs_experimental is None


def test_the_table_says_not_learned_for_unknown_answers() -> None:
    rows = dict((name, value) for name, value, _ in platform_rows(Platform(move_lands="top", read_lag_ms=0.0)))
    assert rows["move_lands"] == "top"
    assert rows["read_lag_ms"] == "0"
    assert rows["stack_name"] == "not learned"
