"""Named profiles of knobs: ``pessimistic`` sets every open-question knob to its unkind answer."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import pytest

from sandbox.cli import add_sandbox_arguments, config_from_args
from sandbox.config import HIDDEN, PROFILES, ConfigError, SandboxConfig, apply_updates, validate
from tests.sandbox.conftest import Sandbox

PESSIMISTIC = PROFILES["pessimistic"]
#: knobs whose default already is the unkind answer (the profile names them all the same)
UNKIND_BY_DEFAULT = {"rate_limit_scope", "retry_after_on_429"}


def test_pessimistic_covers_every_open_question_knob_with_its_unkind_value() -> None:
    assert set(PESSIMISTIC) == {
        "reorder_requires_experimental", "type_list", "head_version_in_listings", "head_version_in_show_stack",
        "read_lag_ms", "stack_as_folder", "media_type_before_upload", "retry_reuses_timestamp",
        "rate_limit_scope", "retry_after_on_429",
    }  # fmt: skip
    defaults = SandboxConfig()
    changed = {name for name, value in PESSIMISTIC.items() if getattr(defaults, name) != value}
    assert changed == set(PESSIMISTIC) - UNKIND_BY_DEFAULT
    validate(SandboxConfig(**PESSIMISTIC))  # the Python helper: a dict of knob -> value


def test_apply_updates_takes_a_profile_and_lets_knobs_beside_it_win() -> None:
    config = apply_updates(SandboxConfig(), {"profile": "pessimistic", "read_lag_ms": 0})
    assert config.read_lag_ms == 0.0 and config.type_list == "first_only" and config.stack_as_folder == "422"
    with pytest.raises(ConfigError):
        apply_updates(SandboxConfig(), {"profile": "optimistic"})


def test_patch_config_with_a_profile(sandbox: Sandbox) -> None:
    answer = sandbox.http.patch("/_sandbox/config", json={"profile": "pessimistic", "type_list": "refused_422"})
    assert answer.status_code == 200, answer.text
    shown = sandbox.http.get("/_sandbox/config").json()
    assert {name: shown[name] for name in PESSIMISTIC} == {**PESSIMISTIC, "type_list": "refused_422"}
    assert "profile" not in shown


@pytest.mark.parametrize("body", [{"profile": "nope"}, {"profile": 3}, {"profile": "pessimistic", "type_list": "x"}])
def test_a_bad_profile_patch_changes_nothing(sandbox: Sandbox, body: dict[str, Any]) -> None:
    before = sandbox.http.get("/_sandbox/config").json()
    assert sandbox.http.patch("/_sandbox/config", json=body).status_code == 422
    assert sandbox.http.get("/_sandbox/config").json() == before


def test_reset_with_a_profile_then_without(make_sandbox: Callable[..., Sandbox]) -> None:
    sandbox = make_sandbox(profile="pessimistic")
    folder = sandbox.folder("f")
    ids = [sandbox.upload(f"p_v{n}.mov", folder)["id"] for n in (1, 2)]
    stack = sandbox.stack(folder, ids)
    body = {"data": {"target_file_id": ids[0], "move_to": "top"}}
    assert sandbox.api("PATCH", f"/version_stacks/{stack['id']}/versions", json=body).status_code == 404
    make_sandbox()
    assert sandbox.http.get("/_sandbox/config").json()["reorder_requires_experimental"] is False


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_sandbox_arguments(parser)
    return parser.parse_args(list(argv))


def test_cli_profile_flag_and_overrides() -> None:
    assert config_from_args(_parse("--profile", "pessimistic")) == SandboxConfig(**PESSIMISTIC)
    config = config_from_args(_parse("--profile", "pessimistic", "--type-list", "honoured", "--read-lag-ms", "5"))
    assert (config.type_list, config.read_lag_ms, config.head_version_in_listings) == ("honoured", 5.0, False)
    with pytest.raises(SystemExit):
        _parse("--profile", "cheerful")


def test_the_user_flow_secret_is_never_shown(sandbox: Sandbox) -> None:
    shown = sandbox.http.get("/_sandbox/config").json()
    assert shown["oauth_web_client_secret"] == HIDDEN
    assert SandboxConfig().oauth_web_client_secret not in sandbox.http.get("/_sandbox/config").text
    assert SandboxConfig().oauth_web_client_secret not in repr(SandboxConfig())
