"""``autostack doctor`` against the in-process sandbox and throwaway Redis servers: every check's
ok, warn and fail, the probe's prompt and refusals, its table and what it stores, exit codes."""

from __future__ import annotations

import argparse
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from service.cli import main
from service.doctor import doctor_main
from service.processes import start_redis
from tests.inprocess_sandbox import InProcessSandbox
from workers.frameio.platform import PLATFORM_KEY, Platform
from workers.runtime import Runtime
from workers.settings import ConfigError, load_settings
from workers.tools.probe import Clock

URL = "https://autostack.example/webhooks/frameio"
SECRET = "0123456789abcdef" * 4
EVENTS = ["file.upload.completed", "file.ready"]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(scope="module")
def aof_redis_url() -> Iterator[str]:
    child, url = start_redis(appendonly=True)
    try:
        yield url
    finally:
        child.stop()


def _locked_down_redis(directory: Path, settings: str) -> Iterator[str]:
    conf = directory / "redis.conf"
    conf.write_text(f'dir {directory}\nsave ""\n{settings}')
    child, url = start_redis(config=conf)
    try:
        yield url
    finally:
        child.stop()


@pytest.fixture(scope="module")
def no_config_redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Redis that refuses CONFIG, as managed ones do, but answers INFO (and evicts)."""
    settings = 'rename-command CONFIG ""\nappendonly yes\nmaxmemory-policy allkeys-lru\n'
    yield from _locked_down_redis(tmp_path_factory.mktemp("redis"), settings)


@pytest.fixture(scope="module")
def no_config_no_info_redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Redis that refuses both CONFIG and INFO: nothing can be checked."""
    settings = 'rename-command CONFIG ""\nrename-command INFO ""\n'
    yield from _locked_down_redis(tmp_path_factory.mktemp("redis"), settings)


def webhook(sandbox: InProcessSandbox, url: str = URL, events: list[str] = EVENTS) -> str:
    path = f"/v4/accounts/{sandbox.account}/workspaces/{sandbox.state['workspace_id']}/webhooks"
    answer = sandbox.http.post(
        path, json={"data": {"name": "autostack", "url": url, "events": events}}, headers=sandbox.auth()
    )
    hook_id: str = answer.json()["data"]["id"]
    return hook_id


def arguments(**given: Any) -> argparse.Namespace:
    defaults = {
        "account": None,
        "project": None,
        "workspace": None,
        "url": URL,
        "probe": False,
        "folder": None,
        "yes": False,
    }
    return argparse.Namespace(**{**defaults, **given})


def doctor(
    sandbox: InProcessSandbox,
    redis_url: str,
    stdin: io.StringIO | None = None,
    env: dict[str, str] | None = None,
    **given: Any,
) -> tuple[int, str]:
    environment = {
        "REDIS_URL": redis_url,
        "FRAMEIO_BASE_URL": "http://sandbox",
        "FRAMEIO_TOKEN": sandbox.state["token"],
        "FRAMEIO_ACCOUNT_ID": sandbox.account,
        "FRAMEIO_WEBHOOK_SECRETS": SECRET,
        "AUTOSTACK_PROJECTS": sandbox.state["project_id"],
        **(env or {}),
    }
    settings = load_settings({key: value for key, value in environment.items() if value})
    out = io.StringIO()
    rt = Runtime(settings, transport=sandbox.transport(), foreground=True)
    clock = Clock(sleep=lambda seconds: None)
    code = doctor_main(arguments(**given), settings, out, stdin or io.StringIO(), rt, clock)
    return code, out.getvalue()


def levels(report: str) -> dict[str, str]:
    """check name -> level, from the report's lines."""
    found = {}
    for line in report.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] in ("ok", "warn", "fail"):
            found[parts[1]] = parts[0]
    return found


def test_a_healthy_deployment_passes_and_no_secret_is_printed(sandbox: InProcessSandbox, aof_redis_url: str) -> None:
    webhook(sandbox)
    code, report = doctor(sandbox, aof_redis_url)
    assert code == 0, report
    assert set(levels(report).values()) == {"ok"}
    assert set(levels(report)) >= {
        "credentials",
        "account",
        "project",
        "workspace",
        "webhook",
        "secrets",
        "redis",
        "rules",
    }
    assert SECRET not in report and sandbox.state["token"] not in report


@pytest.mark.parametrize(
    ("setup", "level"),
    [
        ("elsewhere", "fail"),
        ("missing_event", "fail"),
        ("inactive", "fail"),
        ("none", "fail"),
        ("two", "warn"),
    ],
)
def test_the_webhook_check(sandbox: InProcessSandbox, aof_redis_url: str, setup: str, level: str) -> None:
    if setup == "elsewhere":
        webhook(sandbox, url="https://other.example/webhooks/frameio")
    elif setup == "missing_event":
        webhook(sandbox, events=["file.upload.completed"])
    elif setup == "inactive":
        hook = webhook(sandbox)
        path = f"/v4/accounts/{sandbox.account}/webhooks/{hook}"
        sandbox.http.patch(path, json={"data": {"active": False}}, headers=sandbox.auth()).raise_for_status()
    elif setup == "two":
        webhook(sandbox)
        webhook(sandbox)
    code, report = doctor(sandbox, aof_redis_url)
    assert levels(report)["webhook"] == level
    assert code == (1 if level == "fail" else 0)


def test_without_url_the_webhook_is_found_by_its_path_and_warned_about(
    sandbox: InProcessSandbox, aof_redis_url: str
) -> None:
    webhook(sandbox)
    code, report = doctor(sandbox, aof_redis_url, url=None)
    assert (code, levels(report)["webhook"]) == (0, "warn")


def test_redis_without_aof_fails(sandbox: InProcessSandbox, redis_url: str) -> None:
    webhook(sandbox)
    client = redis.Redis.from_url(redis_url)
    assert client.config_get("appendonly")["appendonly"] == "no"
    code, report = doctor(sandbox, redis_url)
    assert (code, levels(report)["redis"], levels(report)["redis-aof"]) == (1, "ok", "fail")


def test_a_wrong_redis_password_is_named_as_such(sandbox: InProcessSandbox, tmp_path: Path) -> None:
    child, url = start_redis(password="right", data_dir=tmp_path / "redis")
    try:
        code, report = doctor(sandbox, url.replace(":right@", ":wrong@"))
    finally:
        child.stop()
    assert (code, levels(report)["redis"]) == (1, "fail")
    assert "Redis refused the password" in report and "wrong" not in report


def test_redis_refusing_config_is_read_from_info(sandbox: InProcessSandbox, no_config_redis_url: str) -> None:
    webhook(sandbox)
    code, report = doctor(sandbox, no_config_redis_url)
    assert (code, levels(report)["redis"], levels(report)["redis-aof"]) == (1, "ok", "ok")
    assert levels(report)["redis-memory"] == "fail"  # allkeys-lru, read from INFO memory
    assert "maxmemory-policy is allkeys-lru" in report


def test_redis_refusing_config_and_info_is_a_warning(
    sandbox: InProcessSandbox, no_config_no_info_redis_url: str
) -> None:
    webhook(sandbox)
    code, report = doctor(sandbox, no_config_no_info_redis_url)
    assert (code, levels(report)["redis"]) == (0, "ok")
    assert levels(report)["redis-config"] == "warn"


@pytest.mark.parametrize(
    ("env", "check"),
    [
        ({"FRAMEIO_TOKEN": ""}, "credentials"),
        ({"FRAMEIO_TOKEN": "not-the-token"}, "credentials"),
        ({"FRAMEIO_ACCOUNT_ID": "00000000-0000-4000-8000-000000000000"}, "account"),
        ({"AUTOSTACK_PROJECTS": "00000000-0000-4000-8000-000000000000"}, "project"),
        ({"FRAMEIO_WEBHOOK_SECRETS": ""}, "secrets"),
        ({"FRAMEIO_WEBHOOK_SECRETS": "tiny-s3cret"}, "secrets"),
        ({"AUTOSTACK_RULES": "/nonexistent/rules.toml"}, "rules"),
    ],
)
def test_each_misconfiguration_fails_its_check(
    sandbox: InProcessSandbox, aof_redis_url: str, env: dict[str, str], check: str
) -> None:
    webhook(sandbox)
    code, report = doctor(sandbox, aof_redis_url, env=env)
    assert (code, levels(report)[check]) == (1, "fail")
    assert "tiny-s3cret" not in report and "not-the-token" not in report


def test_a_broken_rules_file_fails_with_its_line(sandbox: InProcessSandbox, aof_redis_url: str, tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text("unknown_key = 1\n")
    webhook(sandbox)
    code, report = doctor(sandbox, aof_redis_url, env={"AUTOSTACK_RULES": str(rules)})
    assert (code, levels(report)["rules"]) == (1, "fail")


def test_the_probe_learns_prints_and_stores(sandbox: InProcessSandbox, aof_redis_url: str) -> None:
    webhook(sandbox)
    sandbox.configure(move_lands="top", type_list="refused_422")
    code, report = doctor(sandbox, aof_redis_url, probe=True, yes=True)
    assert code == 0, report
    assert "move_lands" in report and "refused_422" in report
    stored = Platform.from_json(redis.Redis.from_url(aof_redis_url).get(PLATFORM_KEY))
    assert (stored.move_lands, stored.type_list, stored.read_lag_ms) == ("top", "refused_422", 0.0)
    assert stored.learned_at is not None


@pytest.mark.parametrize(("answer", "runs"), [("y\n", True), ("n\n", False), ("\n", False)])
def test_on_a_terminal_the_probe_asks_first(
    sandbox: InProcessSandbox, aof_redis_url: str, answer: str, runs: bool
) -> None:
    webhook(sandbox)
    redis.Redis.from_url(aof_redis_url).delete(PLATFORM_KEY)
    code, report = doctor(sandbox, aof_redis_url, stdin=Terminal(answer), probe=True)
    assert code == 0 and "[y/N]" in report
    assert (sandbox.calls("create_folder") == 1) is runs
    assert (redis.Redis.from_url(aof_redis_url).get(PLATFORM_KEY) is not None) is runs


def test_a_failed_probe_stores_nothing_and_fails(sandbox: InProcessSandbox, aof_redis_url: str) -> None:
    webhook(sandbox)
    redis.Redis.from_url(aof_redis_url).delete(PLATFORM_KEY)
    sandbox.http.post("/_sandbox/faults", json={"endpoint": "create_stack", "kind": "status", "status": 429})
    code, report = doctor(sandbox, aof_redis_url, probe=True, yes=True)
    assert (code, levels(report)["probe"]) == (1, "fail")
    assert redis.Redis.from_url(aof_redis_url).get(PLATFORM_KEY) is None
    assert sandbox.calls("delete_folder") == 1


def test_the_probe_is_not_run_when_frameio_checks_fail(sandbox: InProcessSandbox, aof_redis_url: str) -> None:
    code, report = doctor(sandbox, aof_redis_url, env={"FRAMEIO_TOKEN": "wrong"}, probe=True, yes=True)
    assert (code, levels(report)["probe"]) == (1, "fail")
    assert sandbox.calls("create_folder") == 0


def test_probe_usage_errors(sandbox: InProcessSandbox, aof_redis_url: str) -> None:
    with pytest.raises(ConfigError, match="--yes"):
        doctor(sandbox, aof_redis_url, probe=True)
    with pytest.raises(ConfigError, match="--folder"):
        doctor(sandbox, aof_redis_url, folder="x")
    with pytest.raises(ConfigError, match="--project"):
        doctor(sandbox, aof_redis_url, env={"AUTOSTACK_PROJECTS": ""}, probe=True, yes=True)


def test_the_command_line_exits_2_for_a_probe_without_yes_off_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO())
    assert main(["doctor", "--probe"]) == 2


def test_doctor_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["doctor", "--help"])
    assert exited.value.code == 0
    assert "--probe" in capsys.readouterr().out


def test_each_accounts_credential_is_checked_and_a_failing_one_named(
    sandbox: InProcessSandbox, aof_redis_url: str, tmp_path: Path
) -> None:
    webhook(sandbox)
    added = [sandbox.http.post("/_sandbox/accounts").json() for _ in range(3)]
    good, outsider, refused = (account["account_id"] for account in added)
    accounts = tmp_path / "accounts.toml"
    accounts.write_text(
        f'[{good}]\ntoken = "{added[0]["token"]}"\n\n'
        f'[{outsider}]\ntoken = "{sandbox.state["token"]}"\n\n'  # a real token, of another account's user
        f'[{refused}]\ntoken = "never-issued-token"\n'
    )
    code, report = doctor(sandbox, aof_redis_url, env={"FRAMEIO_ACCOUNTS_FILE": str(accounts)})
    assert code == 1
    lines = {line.split()[2]: line for line in report.splitlines() if line.split()[1:2] == ["account"]}
    assert lines[good].startswith("ok") and "signs in" in lines[good]
    assert lines[outsider].startswith("fail") and "not a member" in lines[outsider]
    assert lines[refused].startswith("fail") and "HTTP 401" in lines[refused]
    assert f"account {refused}'s row of FRAMEIO_ACCOUNTS_FILE" in report
    assert added[0]["token"] not in report and "never-issued-token" not in report
    assert sandbox.state["token"] not in report


def test_without_a_default_credential_the_account_checked_uses_its_own_row(
    sandbox: InProcessSandbox, aof_redis_url: str, tmp_path: Path
) -> None:
    accounts = tmp_path / "accounts.toml"
    accounts.write_text(f'[{sandbox.account}]\ntoken = "{sandbox.state["token"]}"\n')
    env = {"FRAMEIO_ACCOUNTS_FILE": str(accounts), "FRAMEIO_TOKEN": ""}
    webhook(sandbox)
    code, report = doctor(sandbox, aof_redis_url, env=env)
    assert code == 0, report
    code, report = doctor(sandbox, aof_redis_url, env={**env, "FRAMEIO_ACCOUNT_ID": "acc-elsewhere"})
    assert code == 1 and "no Frame.io credential for the account to check" in report
