"""The ``autostack`` command line. Exit codes: 0 ok, 2 usage or configuration error, 1 failure.

Each command builds the one settings object from the environment at start-up and passes it on;
commands import what they run lazily, so ``autostack explain`` does not load uvicorn.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence

from workers.settings import ConfigError, Settings, load_settings

Command = Callable[[argparse.Namespace], int]


def _settings() -> Settings:
    return load_settings(os.environ)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from service.app import create_app

    settings = _settings()
    app = create_app(settings)
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        timeout_graceful_shutdown=args.graceful_timeout,
        access_log=False,
    )
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from service.worker import run_worker

    return run_worker(_settings(), burst=args.burst, name=args.name)


def cmd_sandbox(args: argparse.Namespace) -> int:
    from sandbox.cli import sandbox_main

    return sandbox_main(args)


def cmd_demo(args: argparse.Namespace) -> int:
    from service.demo import run_demo

    return run_demo(keep_logs=args.keep_logs)


def cmd_explain(args: argparse.Namespace) -> int:
    from service.explain import explain_main

    return explain_main(args, sys.stdin, sys.stdout, sys.stderr)


def cmd_status(args: argparse.Namespace) -> int:
    from service.status import run_status

    return run_status(_settings(), sys.stdout, last=args.last)


def _add_serve(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("serve", help="run the webhook receiver (uvicorn)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    parser.add_argument("--graceful-timeout", type=int, default=20, help="seconds to finish in-flight requests")
    parser.set_defaults(func=cmd_serve)


def _add_worker(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("worker", help="run an RQ worker (with the scheduler) that stacks files")
    parser.add_argument("--burst", action="store_true", help="exit when the queue is empty")
    parser.add_argument("--name", default=None, help="worker name (default: RQ's)")
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
    parser = sub.add_parser("status", help="queue depths, failed jobs, workers and the last decisions")
    parser.add_argument("--last", type=int, default=20, help="how many decisions to show")
    parser.set_defaults(func=cmd_status)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="autostack", description="Stack Frame.io uploads by their names.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (_add_serve, _add_worker, _add_sandbox, _add_demo, _add_explain, _add_status):
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except ConfigError as exc:
        print(f"autostack: configuration error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
