"""The ``autostack`` command line. Exit codes: 0 ok, 2 usage or configuration error, 1 failure.

Each command builds the one settings object from the environment at start-up and passes it on;
commands import what they run lazily, so ``autostack explain`` does not load uvicorn.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from service import __version__
from workers.logs import configure_logging
from workers.settings import Settings, load_settings

if TYPE_CHECKING:
    import redis

Command = Callable[[argparse.Namespace], int]
DEBUG_HELP = "show the traceback of a failure instead of one line"
LOG_TIME = "%Y-%m-%d %H:%M:%S UTC"


def _settings() -> Settings:
    return load_settings(os.environ)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from service.app import create_app
    from service.metrics_port import start_metrics
    from service.serving import GracefulServer

    settings = _settings()
    configure_logging(settings.autostack_log_format)
    app = create_app(settings)
    _warn_about_redis(app.state.webhooks.redis)
    metrics_server = start_metrics(app.state.webhooks, app.state.actions.outcomes)
    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        timeout_graceful_shutdown=args.graceful_timeout,
        access_log=False,
        log_config=None,  # keep the JSON logging configured above
    )
    server = GracefulServer(config)
    try:
        server.run()
    finally:
        if metrics_server is not None:
            metrics_server.shutdown()
    return 0 if server.started else 1


def _warn_about_redis(client: redis.Redis) -> None:
    """One loud warning line when Redis may lose autostack's work (``autostack doctor`` fails it)."""
    from workers.tools.doctor import durability_warning

    warning = durability_warning(client)
    if warning is not None:
        logging.getLogger("autostack.redis").warning(warning)


def cmd_worker(args: argparse.Namespace) -> int:
    if args.alive:
        from service.upkeep import liveness_verdict

        code, line = liveness_verdict(_settings(), time.time())
        print(line, file=sys.stdout if code == 0 else sys.stderr)
        return code
    _stop_quietly_until_rq_listens()
    from service.worker import run_worker

    settings = _settings()
    configure_logging(settings.autostack_log_format)
    return run_worker(settings, burst=args.burst, name=args.name, on_start=_warn_about_redis)


def _stop_quietly_until_rq_listens() -> None:
    """A worker stopped while it starts (a deployment scaling down, a test) has taken no job yet:
    it exits 0 at once. RQ installs its own graceful handlers once it listens on the queue."""

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(0)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, stop)


def cmd_sandbox(args: argparse.Namespace) -> int:
    from sandbox.cli import sandbox_main

    return sandbox_main(args)


def cmd_demo(args: argparse.Namespace) -> int:
    from service.demo import run_demo

    return run_demo(keep_logs=args.keep_logs)


def cmd_explain(args: argparse.Namespace) -> int:
    from service.explain import explain_file, explain_main

    settings = _settings()
    if args.file is None:
        return explain_main(args, sys.stdin, sys.stdout, sys.stderr, rules_file=settings.autostack_rules)
    import redis

    client = redis.Redis.from_url(settings.redis_url, socket_timeout=5)
    try:
        return explain_file(client, args.file, sys.stdout, as_json=args.json)
    finally:
        client.close()


def cmd_backfill(args: argparse.Namespace) -> int:
    from service.backfill import backfill_main

    return backfill_main(args, _settings(), sys.stdout)


def cmd_rules_suggest(args: argparse.Namespace) -> int:
    from service.rules_suggest import suggest_main

    return suggest_main(args, _settings(), sys.stdout, sys.stderr)


def _add_rules(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from service.rules_suggest import add_suggest_arguments

    parser = sub.add_parser("rules", help="the naming rules file")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    suggest = actions.add_parser(
        "suggest", help="read a folder tree's names (read-only) and suggest rules for the shapes not read"
    )
    add_suggest_arguments(suggest)
    suggest.set_defaults(func=cmd_rules_suggest)


def cmd_webhooks_register(args: argparse.Namespace) -> int:
    from service.registration import register_main

    return register_main(args, _settings(), sys.stdout)


def cmd_actions_register(args: argparse.Namespace) -> int:
    from service.action_registration import register_actions_main

    return register_actions_main(args, _settings(), sys.stdout)


def cmd_status(args: argparse.Namespace) -> int:
    from service.status import run_status

    return run_status(_settings(), sys.stdout, last=args.last, as_json=args.json)


def cmd_login(args: argparse.Namespace) -> int:
    from service.login import login_main

    return login_main(args, _settings(), sys.stdout, sys.stdin)


def cmd_logout(args: argparse.Namespace) -> int:
    from service.login import logout_main

    return logout_main(args, _settings(), sys.stdout)


def _add_login(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from service.login import add_login_arguments

    parser = sub.add_parser("login", help="sign in to Frame.io as a user; every worker then uses that sign-in")
    add_login_arguments(parser)
    parser.set_defaults(func=cmd_login)
    logout = sub.add_parser("logout", help="revoke the user sign-in at Adobe IMS and delete it from Redis")
    logout.set_defaults(func=cmd_logout)


def cmd_doctor(args: argparse.Namespace) -> int:
    from service.doctor import doctor_main

    return doctor_main(args, _settings(), sys.stdout, sys.stdin)


def _add_doctor(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from service.doctor import add_doctor_arguments

    parser = sub.add_parser(
        "doctor",
        help="check the deployment against the account; --probe learns Frame.io's undocumented answers",
        description="Read-only checks, one line each (ok / warn / fail and what to do). Exit 0 when "
        "nothing failed, 1 otherwise, 2 for bad usage. --probe writes, in a scratch folder it deletes.",
    )
    add_doctor_arguments(parser)
    parser.set_defaults(func=cmd_doctor)


def _add_serve(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("serve", help="run the webhook receiver (uvicorn)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    parser.add_argument("--graceful-timeout", type=int, default=20, help="seconds to finish in-flight requests")
    parser.set_defaults(func=cmd_serve)


def _add_worker(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("worker", help="run an RQ worker that stacks files (every worker also moves due jobs)")
    parser.add_argument("--burst", action="store_true", help="exit when the queue is empty")
    parser.add_argument("--name", default=None, help="worker name (default: RQ's)")
    parser.add_argument(
        "--alive",
        action="store_true",
        help="the liveness probe: exit 1 unless this machine's worker reached Redis within AUTOSTACK_LIVENESS_S",
    )
    parser.set_defaults(func=cmd_worker)


def _add_sandbox(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from sandbox.cli import add_sandbox_arguments

    parser = sub.add_parser("sandbox", help="run the local Frame.io V4 stand-in")
    add_sandbox_arguments(parser)
    parser.set_defaults(func=cmd_sandbox)


def _add_demo(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("demo", help="run everything locally and stack a few uploads")
    parser.add_argument("--keep-logs", action="store_true", help="keep the child processes' logs")
    parser.set_defaults(func=cmd_demo)


def _add_explain(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from service.explain import add_explain_arguments

    parser = sub.add_parser("explain", help="show how names parse (group key, version, rule, reason)")
    add_explain_arguments(parser)
    parser.set_defaults(func=cmd_explain)


def _add_status(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from service.status import add_status_arguments

    parser = sub.add_parser(
        "status", help="the sign-in, inboxes, queue, workers, last webhook and sweep, and the last decisions"
    )
    add_status_arguments(parser)
    parser.set_defaults(func=cmd_status)


def cmd_undo(args: argparse.Namespace) -> int:
    from service.undo import undo_main

    return undo_main(args, _settings(), sys.stdout, sys.stderr)


def cmd_unstack(args: argparse.Namespace) -> int:
    from service.undo import unstack_main

    return unstack_main(args, _settings(), sys.stdout, sys.stderr)


def _add_undo(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from service.undo import add_undo_arguments

    parser = sub.add_parser("undo", help="take files autostack stacked back out to their folder")
    add_undo_arguments(parser)
    parser.set_defaults(func=cmd_undo)


def _add_unstack(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from service.undo import add_unstack_arguments

    parser = sub.add_parser("unstack", help="move every file of a version stack back to its folder, bottom first")
    add_unstack_arguments(parser)
    parser.set_defaults(func=cmd_unstack)


def _add_backfill(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from service.backfill import add_backfill_arguments

    parser = sub.add_parser("backfill", help="stack the versions uploaded before autostack was listening")
    add_backfill_arguments(parser)
    parser.set_defaults(func=cmd_backfill)


def _add_register_group(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    helps: tuple[str, str],
    add_arguments: Callable[[argparse.ArgumentParser], None],
    func: Callable[[argparse.Namespace], int],
) -> None:
    """``autostack NAME register``: ``helps`` is (the group's help, register's help)."""
    parser = sub.add_parser(name, help=helps[0])
    verbs = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    register = verbs.add_parser("register", help=helps[1])
    add_arguments(register)
    register.set_defaults(func=func)


def _add_webhooks(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from service.registration import add_register_arguments

    helps = ("manage the Frame.io webhook", "create the webhook and print its secret once")
    _add_register_group(sub, "webhooks", helps, add_register_arguments, cmd_webhooks_register)


def _add_actions(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from service.action_registration import add_actions_register_arguments

    helps = (
        "manage autostack's Custom Actions in Frame.io's menu",
        "create or update the actions and print new secrets once",
    )
    _add_register_group(sub, "actions", helps, add_actions_register_arguments, cmd_actions_register)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="autostack", description="Stack Frame.io uploads by their names.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands = (
        _add_serve,
        _add_worker,
        _add_sandbox,
        _add_demo,
        _add_explain,
        _add_backfill,
        _add_webhooks,
        _add_actions,
        _add_status,
        _add_undo,
        _add_unstack,
        _add_login,
        _add_doctor,
        _add_rules,
    )
    for add in commands:
        add(sub)
    parser.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    for command in sub.choices.values():
        # Also after the command's name; SUPPRESS keeps a --debug given before it.
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=DEBUG_HELP)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command. A failure is one line naming its cause and fix (service.failures), exit
    1 or 2; its traceback only with --debug."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s", datefmt=LOG_TIME)
    for handler in logging.getLogger().handlers:
        if handler.formatter is not None:
            handler.formatter.converter = time.gmtime  # every time the CLI prints is UTC, zone shown
    logging.getLogger("httpx").setLevel(logging.WARNING)
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader (``| head``) took what it wanted: end quietly, as Python's docs advise.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:
        if args.debug:
            raise
        from service.failures import failure_for

        failure = failure_for(exc)
        print(failure.line(" ".join(filter(None, (args.command, getattr(args, "action", None))))), file=sys.stderr)
        return failure.exit_code
    return code


if __name__ == "__main__":
    sys.exit(main())
