"""``autostack undo`` and ``autostack unstack`` as commands: a Runtime on the in-process sandbox's
transport (so every call goes through the shared rate limiter) and a real Redis."""

from __future__ import annotations

import argparse
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
import redis
from starlette.testclient import TestClient

from sandbox.app import create_app
from sandbox.config import SandboxConfig
from service.cli import main
from service.processes import free_port
from service.undo import (
    add_undo_arguments,
    add_unstack_arguments,
    parse_since,
    undo_main,
    unstack_main,
)
from tests.workers.conftest import InProcessSandbox
from workers import decisions
from workers.decisions import Decision
from workers.naming.parser import DEFAULT_RULES
from workers.runtime import Runtime
from workers.settings import Settings, load_settings
from workers.stacking.holds import Holds
from workers.stacking.memory import Memory
from workers.stacking.planner import Policy
from workers.stacking.stacker import Stacker


@dataclass
class Cli:
    sandbox: InProcessSandbox
    redis: redis.Redis
    settings: Settings
    folder: str = ""
    ids: dict[str, str] = field(default_factory=dict)

    def runtime(self) -> Runtime:
        return Runtime(self.settings, transport=self.sandbox.transport())

    def upload(self, *names: str) -> None:
        for name in names:
            self.ids[name] = self.sandbox.upload(self.folder, name)

    def stack(self, name: str) -> str:
        memory = Memory(self.redis)
        stacker = Stacker(self.sandbox.client(), DEFAULT_RULES, Policy(), memory=memory)
        outcome = stacker.run(self.sandbox.account, self.ids[name], not_before=memory.now())
        assert outcome.status in ("stacked", "added"), outcome.reason
        return outcome.stack_id

    def now(self) -> float:
        return Memory(self.redis).now()

    def undo(self, *argv: str) -> tuple[int, str, str]:
        return self._run(add_undo_arguments, undo_main, argv)

    def unstack(self, *argv: str) -> tuple[int, str, str]:
        return self._run(add_unstack_arguments, unstack_main, argv)

    def _run(
        self, add: Callable[[argparse.ArgumentParser], None], main: Callable[..., int], argv: tuple[str, ...]
    ) -> tuple[int, str, str]:
        parser = argparse.ArgumentParser()
        add(parser)
        out, err = io.StringIO(), io.StringIO()
        code = main(parser.parse_args(list(argv)), self.settings, out, err, runtime=self.runtime())
        return code, out.getvalue(), err.getvalue()

    def loose(self) -> list[str]:
        return sorted(file["name"] for file in self.sandbox.tree(self.folder)["files"])


@pytest.fixture
def cli(redis_url: str, redis_client: redis.Redis) -> Iterator[Cli]:
    config = SandboxConfig(seed=7, transcode_delay_s=0.0, rate_limits=False)
    with TestClient(create_app(config)) as http:
        sandbox = InProcessSandbox(http, http.get("/_sandbox/state").json())
        env = {"REDIS_URL": redis_url, "FRAMEIO_BASE_URL": "http://sandbox", "FRAMEIO_TOKEN": sandbox.state["token"]}
        cli = Cli(sandbox, redis_client, load_settings(env))
        cli.folder = sandbox.folder("shots")
        yield cli


def test_undo_a_file_shows_the_plan_then_applies_it_through_the_shared_limiter(cli: Cli) -> None:
    cli.upload("a_v1.mov", "a_v2.mov")
    cli.stack("a_v1.mov")
    account = cli.sandbox.account
    code, out, _ = cli.undo("--file", cli.ids["a_v2.mov"], "--account", account, "--dry-run")
    assert code == 0 and "plan: 2 move(s)" in out and "last file: no stacks of one" in out
    assert "dry run: nothing moved" in out and cli.sandbox.calls("move_file") == 0
    code, out, err = cli.undo("--file", cli.ids["a_v2.mov"], "--account", account, "--by", "bob", "--reason", "oops")
    assert (code, err) == (0, "")
    assert "1/2 moved" in out and "2/2 moved" in out and "is gone" in out
    assert cli.loose() == ["a_v1.mov", "a_v2.mov"] and cli.sandbox.stacks(cli.folder) == []
    assert "asked by bob: oops" in decisions.for_file(cli.redis, cli.ids["a_v2.mov"])[0].reason
    assert cli.redis.keys("autostack:rl*")  # the calls took from the shared buckets


def test_undo_of_a_stack_a_person_made_is_refused_with_the_reason(cli: Cli) -> None:
    cli.upload("a_v1.mov", "a_v2.mov")
    cli.sandbox.client().create_stack(cli.sandbox.account, cli.folder, [cli.ids["a_v1.mov"], cli.ids["a_v2.mov"]])
    code, out, _ = cli.undo("--file", cli.ids["a_v1.mov"], "--account", cli.sandbox.account)
    assert code == 1
    assert "autostack did not stack this file" in out and "[not-autostack]" in out
    assert cli.sandbox.calls("move_file") == 0


def test_undo_since_a_time_lists_the_window_newest_first(cli: Cli) -> None:
    cli.upload("a_v1.mov", "a_v2.mov")
    cli.stack("a_v1.mov")
    since = datetime.fromtimestamp(cli.now(), UTC).isoformat()
    cli.upload("b_v1.mov", "b_v2.mov", "a_v3.mov")
    cli.stack("b_v1.mov")
    cli.stack("a_v3.mov")
    code, out, _ = cli.undo("--since", since, "--account", cli.sandbox.account)
    assert code == 0
    assert "2 autostack write(s) since" in out
    planned = [line.split()[2] for line in out.splitlines() if line.startswith("  ") and line.split()[0].isdigit()]
    assert planned == ["a_v3.mov", "b_v1.mov", "b_v2.mov"]
    assert cli.loose() == ["a_v3.mov", "b_v1.mov", "b_v2.mov"]
    assert cli.sandbox.stacks(cli.folder) == [["a_v2.mov", "a_v1.mov"]]


def test_undo_since_a_span_in_one_folder(cli: Cli) -> None:
    cli.upload("a_v1.mov", "a_v2.mov")
    cli.stack("a_v1.mov")
    code, out, _ = cli.undo("--since", "1h", "--folder", "another-folder", "--account", cli.sandbox.account)
    assert code == 0 and "0 autostack write(s)" in out and "plan: nothing to move" in out
    code, out, _ = cli.undo("--since", "1h", "--folder", cli.folder, "--account", cli.sandbox.account, "--dry-run")
    assert code == 0 and "1 autostack write(s)" in out and "plan: 2 move(s)" in out


def test_clear_lets_autostack_stack_an_undone_file_again(cli: Cli) -> None:
    cli.upload("a_v1.mov", "a_v2.mov")
    cli.stack("a_v1.mov")
    file_id = cli.ids["a_v2.mov"]
    assert cli.undo("--file", file_id, "--account", cli.sandbox.account)[0] == 0
    assert Holds(cli.redis).is_held(file_id, "a_v2.mov")
    code, out, _ = cli.undo("--clear", "--file", file_id, "--by", "carol")
    assert code == 0 and "cleared" in out
    assert not Holds(cli.redis).is_held(file_id, "a_v2.mov")
    latest = decisions.for_file(cli.redis, file_id)[0]
    assert (latest.code, latest.account_id) == ("hold-cleared", cli.sandbox.account)
    assert "hold cleared by carol" in latest.reason
    assert "was not held back" in cli.undo("--clear", "--file", file_id)[1]


def test_unstack_reports_a_stack_frameio_leaves_empty(cli: Cli) -> None:
    cli.sandbox.configure(emptied_stack="left_empty")
    cli.upload("a_v1.mov", "a_v2.mov", "a_v3.mov")
    stack_id = cli.stack("a_v1.mov")
    code, out, _ = cli.unstack("--stack", stack_id, "--account", cli.sandbox.account, "--reason", "split shots")
    assert code == 0
    assert "3/3 moved" in out and "is left empty" in out and "no endpoint to delete" in out
    assert cli.loose() == ["a_v1.mov", "a_v2.mov", "a_v3.mov"]


def test_the_account_comes_from_the_decision_log_or_must_be_given(cli: Cli) -> None:
    cli.upload("a_v1.mov", "a_v2.mov")
    stack_id = cli.stack("a_v1.mov")
    code, _, err = cli.undo("--file", cli.ids["a_v2.mov"], "--dry-run")
    assert code == 2 and "pass --account" in err
    decision = Decision(cli.sandbox.account, cli.ids["a_v1.mov"], "stacked", "created", stack_id=stack_id)
    decisions.record(cli.redis, decision, 100)
    assert cli.undo("--file", cli.ids["a_v2.mov"], "--dry-run")[0] == 0  # the one account in the log
    assert cli.unstack("--stack", stack_id, "--dry-run")[0] == 0


def test_usage_errors_exit_2(cli: Cli) -> None:
    code, _, err = cli.undo("--file", "f1", "--folder", "x")
    assert code == 2 and "--folder goes with --since" in err
    code, _, err = cli.undo("--since", "yesterday-ish", "--account", "acc")
    assert code == 2 and "ISO 8601" in err
    code, _, err = cli.undo("--since", "1h", "--clear")
    assert code == 2 and "--clear goes with --file" in err


def test_redis_down_exits_1_with_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    monkeypatch.setenv("FRAMEIO_TOKEN", "t")
    assert main(["undo", "--file", "f1", "--account", "acc"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Redis at REDIS_URL cannot be reached" in err


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", 1_000_000.0 - 1800),
        ("2h", 1_000_000.0 - 7200),
        ("1d", 1_000_000.0 - 86400),
        ("90 s", 1_000_000.0 - 90),
        ("2026-03-01T14:00:00Z", datetime(2026, 3, 1, 14, tzinfo=UTC).timestamp()),
        ("2026-03-01T14:00", datetime(2026, 3, 1, 14, tzinfo=UTC).timestamp()),  # no offset: UTC
        ("2026-03-01T15:00+01:00", datetime(2026, 3, 1, 14, tzinfo=UTC).timestamp()),
    ],
)
def test_parse_since(text: str, expected: float) -> None:
    assert parse_since(text, now=1_000_000.0) == expected


def test_parse_since_refuses_what_it_cannot_read() -> None:
    with pytest.raises(ValueError, match="ISO 8601"):
        parse_since("last tuesday", now=0.0)


def test_unstack_dry_run_says_what_it_reads_and_each_wait(cli: Cli) -> None:
    cli.upload("a_v1.mov", "a_v2.mov")
    stack_id = cli.stack("a_v1.mov")
    cli.sandbox.http.post(
        "/_sandbox/faults", json={"endpoint": "show_stack", "kind": "status", "status": 429, "count": 1}
    )
    code, out, _ = cli.unstack("--stack", stack_id, "--account", cli.sandbox.account, "--dry-run")
    assert code == 0 and "plan: 2 move(s)" in out
    lines = out.splitlines()
    assert lines[0].endswith(f"UTC unstack reading version stack {stack_id} from Frame.io")
    assert "UTC unstack waiting " in lines[1] and "Frame.io (show_stack) is rate limiting autostack" in lines[1]
