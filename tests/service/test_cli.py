"""The command line: help everywhere, exit codes, and the operator commands on the sandbox."""

from __future__ import annotations

import argparse
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import redis

from service.cli import build_parser, main
from service.explain import explain_file
from service.registration import register_main
from service.status import run_status
from tests.inprocess_sandbox import InProcessSandbox
from workers import decisions
from workers.runtime import Runtime
from workers.settings import load_settings

COMMANDS = [
    ["serve"],
    ["worker"],
    ["sandbox"],
    ["demo"],
    ["explain"],
    ["backfill"],
    ["webhooks"],
    ["webhooks", "register"],
    ["actions", "register"],
    ["status"],
    ["undo"],
    ["unstack"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args([*command, "--help"])
    assert exited.value.code == 0
    assert "usage: autostack" in capsys.readouterr().out


def test_a_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["backfill"])  # --folder is required
    assert exited.value.code == 2


def test_a_bad_setting_exits_2_with_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("REDIS_URL", "http://not-redis")
    assert main(["status"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "REDIS_URL" in err[0]


def test_a_bad_accounts_file_stops_a_command_with_one_line_naming_the_file(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    accounts = tmp_path / "accounts.toml"
    accounts.write_text('[acc]\ntoken = "secret-in-a-bad-row"\nclient_id = "c"\nclient_secret = "x"\n')
    monkeypatch.setenv("FRAMEIO_ACCOUNTS_FILE", str(accounts))
    assert main(["worker"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert str(accounts) in line and "has both a token and a client" in line and "secret-in-a-bad-row" not in line


def test_a_missing_account_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FRAMEIO_TOKEN", "t")
    monkeypatch.delenv("FRAMEIO_ACCOUNT_ID", raising=False)
    assert main(["webhooks", "register", "--workspace", "w", "--url", "https://x/webhooks/frameio"]) == 2
    assert "FRAMEIO_ACCOUNT_ID" in capsys.readouterr().err


def test_webhooks_register_creates_the_webhook_and_shows_the_secret_once(
    sandbox: InProcessSandbox, redis_url: str
) -> None:
    settings = load_settings({"REDIS_URL": redis_url, "FRAMEIO_TOKEN": sandbox.state["token"]})
    runtime = Runtime(settings, transport=sandbox.transport(), foreground=True)
    args = argparse.Namespace(
        workspace=sandbox.state["workspace_id"],
        url="https://autostack.example/webhooks/frameio",
        account=sandbox.account,
        name="autostack",
        events="file.upload.completed,file.ready",
    )
    out = io.StringIO()
    assert register_main(args, settings, out, runtime) == 0
    path = f"/v4/accounts/{sandbox.account}/workspaces/{sandbox.state['workspace_id']}/webhooks"
    (webhook,) = sandbox.http.get(path, headers=sandbox.auth()).json()["data"]
    assert webhook["url"] == args.url
    assert sorted(webhook["events"]) == ["file.ready", "file.upload.completed"]
    assert "secret" not in webhook  # Frame.io shows it only at creation ...
    text = out.getvalue()
    assert "FRAMEIO_WEBHOOK_SECRETS" in text
    assert webhook["id"] in text


def test_status_shows_the_queue_and_the_last_decisions(redis_url: str, redis_client: redis.Redis) -> None:
    decisions.record(
        redis_client,
        decisions.Decision("acc", "f1", "declined", "camera original (ARRI clip name)", name="A004C010.mov"),
        100,
    )
    out = io.StringIO()
    assert run_status(load_settings({"REDIS_URL": redis_url}), out) == 0
    text = out.getvalue()
    assert "queue autostack: 0 job(s) waiting" in text
    assert "A004C010.mov: camera original (ARRI clip name)" in text


def test_status_says_when_redis_does_not_answer(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:9/0")
    assert main(["status"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Redis at REDIS_URL cannot be reached" in err


def test_explain_file_lists_a_files_decisions_newest_first(redis_client: redis.Redis) -> None:
    decisions.record(
        redis_client, decisions.Decision("acc", "f1", "waiting", "gathering", event="file.upload.completed"), 100
    )
    decisions.record(
        redis_client, decisions.Decision("acc", "f1", "stacked", "created a stack", event="file.upload.completed"), 100
    )
    out = io.StringIO()
    assert explain_file(redis_client, "f1", out) == 0
    lines = out.getvalue().splitlines()
    assert "stacked" in lines[1] and "waiting" in lines[2]
    assert explain_file(redis_client, "nope", io.StringIO()) == 1


def test_a_worker_with_a_bad_rules_file_stops_at_start_up_naming_the_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text('annotation_words = ["ok"]\n[toggles]\nlast_token_wins = "yes"\n')
    monkeypatch.setenv("FRAMEIO_TOKEN", "t")
    monkeypatch.setenv("AUTOSTACK_RULES", str(rules))
    assert main(["worker"]) == 2
    err = capsys.readouterr().err
    assert "AUTOSTACK_RULES" in err and "last_token_wins" in err and "line 3" in err


def test_the_clis_log_lines_carry_utc_times_whatever_the_local_zone() -> None:
    script = (
        "import logging, time\n"
        "from service.cli import main\n"
        "main(['explain', 'a_v1.mov'])\n"
        "logging.getLogger('probe').info('hello')\n"
        "print(time.strftime('%H', time.gmtime()), time.strftime('%H', time.localtime()))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "TZ": "Asia/Kathmandu"},  # +05:45: no hour of it matches UTC's
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    utc_hour, local_hour = done.stdout.splitlines()[-1].split()
    assert utc_hour != local_hour
    line = next(line for line in done.stderr.splitlines() if line.endswith("INFO probe hello"))
    assert re.fullmatch(rf"\d{{4}}-\d\d-\d\d {utc_hour}:\d\d:\d\d UTC INFO probe hello", line)
