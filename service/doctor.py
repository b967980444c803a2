"""``autostack doctor``: check a deployment against the real account, one line per check; with
``--probe``, learn Frame.io's undocumented answers in a scratch folder and store them for the
workers. Exit 0 when nothing failed, 1 otherwise, 2 for bad usage or configuration."""

from __future__ import annotations

import argparse
from typing import TextIO

import redis

from service.tables import table_lines
from workers import runtime
from workers.frameio.accounts import TokenSource
from workers.frameio.platform import PLATFORM_KEY
from workers.settings import ConfigError, Settings
from workers.tools.doctor import (
    Reached,
    Target,
    account_credential_check,
    frameio_checks,
    redis_report,
    report_lines,
    rules_check,
)
from workers.tools.doctor_api import Api
from workers.tools.doctor_verdicts import Check, passed, platform_rows, secrets_check
from workers.tools.probe import Clock, ProbeResult, run_probe, store_platform

PROBE_PROMPT = (
    "The probe creates a scratch folder under {parent}, uploads three tiny PNGs into it, stacks,\n"
    "moves and reorders them, then deletes the folder. Nothing outside it is touched. Run it? [y/N] "
)


def add_doctor_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--account", default=None, help="the account id (default: FRAMEIO_ACCOUNT_ID)")
    parser.add_argument("--project", default=None, help="the project id (default: the one in AUTOSTACK_PROJECTS)")
    parser.add_argument("--workspace", default=None, help="the workspace id (default: the project's)")
    parser.add_argument("--url", default=None, help="the webhook URL Frame.io should deliver to")
    parser.add_argument("--probe", action="store_true", help="learn Frame.io's undocumented answers (writes)")
    parser.add_argument("--folder", default=None, help="with --probe: make the scratch folder here, not in the root")
    parser.add_argument("--yes", action="store_true", help="with --probe: don't ask first")


def doctor_main(
    args: argparse.Namespace,
    settings: Settings,
    out: TextIO,
    stdin: TextIO,
    rt: runtime.Runtime | None = None,
    clock: Clock | None = None,
) -> int:
    target = _target(args, settings)
    if args.probe and not args.yes and not stdin.isatty():
        raise ConfigError("--probe writes to Frame.io: give --yes to run it without a terminal to ask on")
    if args.folder and not args.probe:
        raise ConfigError("--folder is for --probe")
    if args.probe and not (args.folder or target.project_id):
        raise ConfigError("--probe needs --project (or AUTOSTACK_PROJECTS with one project) or --folder")
    rt = rt or runtime.Runtime(settings, foreground=True)
    tokens = rt.account_tokens()
    account = target.account_id or ""
    api = _api(settings, rt, tokens(account)) if tokens.covers(account) else None
    try:
        return _doctor(args, settings, api, target, rt, out, stdin, clock)
    finally:
        if api is not None:
            api.close()


def _doctor(
    args: argparse.Namespace,
    settings: Settings,
    api: Api | None,
    target: Target,
    rt: runtime.Runtime,
    out: TextIO,
    stdin: TextIO,
    clock: Clock | None,
) -> int:
    reached = frameio_checks(api, target) if api is not None else Reached([_no_credentials(settings)])
    checks = [
        *reached.checks,
        *_account_checks(settings, rt),
        secrets_check([secret.get_secret_value() for secret in settings.frameio_webhook_secrets]),
        *redis_report(rt.redis()),
        rules_check(settings.autostack_rules),
    ]
    for line in report_lines(checks):
        print(line, file=out)
    if args.probe:
        checks += _probe(args, api, target, reached, rt, out, stdin, clock)
    return 0 if passed(checks) else 1


def _target(args: argparse.Namespace, settings: Settings) -> Target:
    projects = settings.autostack_projects
    return Target(
        account_id=args.account or settings.frameio_account_id,
        project_id=args.project or (projects[0] if len(projects) == 1 else None),
        workspace_id=args.workspace,
        webhook_url=args.url,
        event_types=settings.autostack_event_types,
    )


def _api(settings: Settings, rt: runtime.Runtime, token: TokenSource) -> Api:
    """The doctor's Frame.io caller with one of the workers' sign-ins (from the runtime)."""
    return Api(settings.frameio_base_url, token, transport=rt.transport, timeout=settings.frameio_timeout_s)


def _account_checks(settings: Settings, rt: runtime.Runtime) -> list[Check]:
    """One line per account of the accounts file: its own credential signs in and reaches it."""
    tokens = rt.account_tokens()
    checks = []
    for account in settings.frameio_accounts:
        api = _api(settings, rt, tokens(account))
        try:
            checks.append(account_credential_check(api, account))
        finally:
            api.close()
    return checks


def _no_credentials(settings: Settings) -> Check:
    if settings.frameio_accounts:
        todo = "give --account (an account of FRAMEIO_ACCOUNTS_FILE) or set a default credential"
        return Check("credentials", "fail", "no Frame.io credential for the account to check", todo)
    todo = "set FRAMEIO_TOKEN, or FRAMEIO_CLIENT_ID and FRAMEIO_CLIENT_SECRET"
    return Check("credentials", "fail", "no Frame.io credentials are set", todo)


def _probe(
    args: argparse.Namespace,
    api: Api | None,
    target: Target,
    reached: Reached,
    rt: runtime.Runtime,
    out: TextIO,
    stdin: TextIO,
    clock: Clock | None,
) -> list[Check]:
    """Ask (unless --yes), run the probe, print what it learned and store it; its report lines."""
    parent = args.folder or reached.root_folder_id
    if api is None or not target.account_id or not parent or not passed(reached.checks):
        skipped = Check("probe", "fail", "not run: Frame.io checks failed", "fix the lines marked fail first")
        return _print([skipped], out)
    if not args.yes:
        print(PROBE_PROMPT.format(parent=parent), end="", file=out, flush=True)
        if stdin.readline().strip().lower() not in ("y", "yes"):
            return _print([Check("probe", "ok", "not run (answered no)")], out)
    result = run_probe(api, target.account_id, parent, clock)
    print("", *table_lines(("answer", "learned", "meaning"), platform_rows(result.platform)), "", sep="\n", file=out)
    return _print(_probe_checks(result, rt.redis()), out)


def _probe_checks(result: ProbeResult, client: redis.Redis) -> list[Check]:
    checks = []
    if not result.cleaned_up:
        todo = "delete it in Frame.io (it holds only the probe's files)"
        checks.append(Check("cleanup", "fail", f"the scratch folder {result.folder_id} could not be deleted", todo))
    if result.failed is not None:
        todo = "run it again; a 429 means wait a minute first"
        return [*checks, Check("probe", "fail", f"stopped at {result.failed}; nothing stored", todo)]
    try:
        store_platform(client, result.platform)
    except redis.RedisError as exc:
        return [*checks, Check("probe", "fail", f"learned, but not stored ({type(exc).__name__})", "check REDIS_URL")]
    summary = f"learned; stored under {PLATFORM_KEY}, read by each worker at start"
    return [*checks, Check("probe", "ok", summary, "restart the workers to use it")]


def _print(checks: list[Check], out: TextIO) -> list[Check]:
    for line in report_lines(checks):
        print(line, file=out)
    return checks
