"""The command-line functions: flags for every knob, exit codes, a real run stopped by SIGTERM."""

from __future__ import annotations

import argparse
import dataclasses
import json
import signal
import sys

import httpx
import pytest

from sandbox.cli import add_sandbox_arguments, config_from_args, sandbox_main
from sandbox.config import SandboxConfig, knob_docs
from service.processes import free_port, spawn, wait_http, wait_until


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_sandbox_arguments(parser)
    return parser.parse_args(list(argv))


def test_every_knob_has_a_flag() -> None:
    parser = argparse.ArgumentParser()
    add_sandbox_arguments(parser)
    dests = {action.dest for action in parser._actions}
    assert {field.name for field in dataclasses.fields(SandboxConfig)} <= dests
    assert {"host", "port"} <= dests


def test_no_flags_means_the_defaults() -> None:
    args = _parse()
    assert args.port == 8090 and args.host == "127.0.0.1"
    assert config_from_args(args) == SandboxConfig()


def test_flags_set_their_knobs() -> None:
    config = config_from_args(
        _parse(
            "--move-lands", "top", "--children-order", "bottom_first", "--rate-window-scale", "0.0333",
            "--no-rate-limits", "--latency-ms", "250", "--delivery-time-scale", "0.01",
            "--duplicate-deliveries", "0.2", "--reorder-deliveries", "0.3", "--retry-after-on-429",
            "--seed", "5", "--emptied-stack", "left_empty", "--single-file-stack", "dissolves",
            "--no-create-requires-uploaded", "--extra-token", "a", "--extra-token", "b",
            "--transcode-delay-s", "0.5",
        )
    )  # fmt: skip
    assert (config.move_lands, config.children_order, config.rate_window_scale) == ("top", "bottom_first", 0.0333)
    assert config.rate_limits is False and config.latency_s == 0.25 and config.delivery_time_scale == 0.01
    assert (config.duplicate_delivery_rate, config.reorder_delivery_rate) == (0.2, 0.3)
    assert config.retry_after_on_429 and config.seed == 5 and config.extra_tokens == ["a", "b"]
    assert (config.emptied_stack, config.single_file_stack) == ("left_empty", "dissolves")
    assert config.create_requires_uploaded is False and config.transcode_delay_s == 0.5


def test_a_bad_knob_value_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert sandbox_main(_parse("--duplicate-deliveries", "2")) == 2
    assert "duplicate_delivery_rate" in capsys.readouterr().err


@pytest.mark.e2e
def test_runs_prints_ids_and_stops_cleanly_on_sigterm() -> None:
    port = free_port()
    code = (
        "import sys, argparse; from sandbox.cli import *; p = argparse.ArgumentParser(); "
        "add_sandbox_arguments(p); sys.exit(sandbox_main(p.parse_args()))"
    )
    child = spawn("sandbox-cli", [sys.executable, "-c", code, "--port", str(port), "--seed", "3"])
    try:
        wait_http(child, f"http://127.0.0.1:{port}/_sandbox/state")
        state = httpx.get(f"http://127.0.0.1:{port}/_sandbox/state").json()
        wait_until(lambda: state["account_id"] in child.log(), 5, what="the printed ids")
        printed = json.loads(next(line for line in child.log().splitlines() if line.startswith("{")))
        assert printed["account_id"] == state["account_id"] and printed["root_folder_id"] == state["root_folder_id"]
        child.signal(signal.SIGTERM)
        child.process.wait(10)
        assert child.process.returncode == 0
    finally:
        child.stop()


def test_every_knob_says_what_it_means_in_the_help() -> None:
    parser = argparse.ArgumentParser(prog="sandbox")
    add_sandbox_arguments(parser)
    by_dest = {action.dest: action for action in parser._actions}
    docs = knob_docs()
    for knob in dataclasses.fields(SandboxConfig):
        meaning = docs.get(knob.name, "")
        assert len(meaning.split()) >= 3, f"{knob.name} has no docstring under its field"
        help_text = by_dest[knob.name].help or ""
        assert help_text.startswith(meaning.replace("%", "%%")), knob.name
    assert "(default: True)" in (by_dest["rate_limits"].help or "")
    assert "Enforce Frame.io's per-endpoint leaky buckets" in parser.format_help()
