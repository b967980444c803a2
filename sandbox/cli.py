"""``autostack sandbox``: run the Frame.io V4 stand-in under uvicorn.

:func:`add_sandbox_arguments` adds ``--host``, ``--port``, ``--profile`` and one flag per knob;
:func:`sandbox_main` prints the seeded ids and serves until SIGTERM or SIGINT (uvicorn shuts
down gracefully on either). Exit codes: 0 after a clean shutdown, 2 for a bad knob value.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import signal
import sys
import typing
from typing import Any, get_args, get_origin

import uvicorn

from sandbox.app import create_app
from sandbox.config import PROFILES, ConfigError, SandboxConfig, apply_updates, knob_docs

#: knob -> flag name where the flag does not simply spell the knob with dashes
FLAG_NAMES = {
    "latency_s": "--latency-ms",
    "duplicate_delivery_rate": "--duplicate-deliveries",
    "reorder_delivery_rate": "--reorder-deliveries",
    "extra_tokens": "--extra-token",
}
DEFAULT_PORT = 8090


def _flag(name: str) -> str:
    return FLAG_NAMES.get(name, "--" + name.replace("_", "-"))


def _add_knob(group: argparse._ArgumentGroup, knob: dataclasses.Field[Any], annotation: Any, meaning: str) -> None:
    flag, dest = _flag(knob.name), knob.name
    default = SandboxConfig().__getattribute__(knob.name)
    meaning = meaning.replace("%", "%%")  # argparse formats help with %
    doc = f"{meaning} (default: {default})"
    if annotation is bool:
        group.add_argument(flag, dest=dest, action=argparse.BooleanOptionalAction, default=None, help=doc)
    elif get_origin(annotation) is typing.Literal:
        group.add_argument(flag, dest=dest, choices=get_args(annotation), default=None, help=doc)
    elif get_origin(annotation) is list:
        group.add_argument(
            flag, dest=dest, action="append", default=None, metavar="TEXT", help=f"{meaning} (may be repeated)"
        )
    elif knob.name == "latency_s":
        help_ms = f"{meaning} In milliseconds (default: 0)"
        group.add_argument(flag, dest=dest, type=float, default=None, metavar="MS", help=help_ms)
    else:
        kind = float if annotation is float else int if annotation in (int, int | None) else str
        metavar = "S" if knob.name.endswith("_s") else {float: "X", int: "N"}.get(kind, "TEXT")
        group.add_argument(flag, dest=dest, type=kind, default=None, metavar=metavar, help=doc)


def add_sandbox_arguments(parser: argparse.ArgumentParser) -> None:
    """``--host``, ``--port`` and one flag per :class:`SandboxConfig` knob."""
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default: {DEFAULT_PORT})")
    group = parser.add_argument_group("sandbox knobs (see sandbox/README.md)")
    group.add_argument(
        "--profile",
        choices=sorted(PROFILES),
        default=None,
        help="start from a named set of knobs (other flags override it); pessimistic = every unkind answer",
    )
    hints = typing.get_type_hints(SandboxConfig)
    docs = knob_docs()
    for knob in dataclasses.fields(SandboxConfig):
        _add_knob(group, knob, hints[knob.name], docs[knob.name])


def config_from_args(args: argparse.Namespace) -> SandboxConfig:
    """The knobs given on the command line over the profile (if any) over the defaults; raises ConfigError."""
    updates: dict[str, Any] = {}
    if getattr(args, "profile", None) is not None:
        updates["profile"] = args.profile
    for knob in dataclasses.fields(SandboxConfig):
        value = getattr(args, knob.name, None)
        if value is not None:
            updates[knob.name] = value / 1000.0 if knob.name == "latency_s" else value
    return apply_updates(SandboxConfig(), updates)


def sandbox_main(args: argparse.Namespace) -> int:
    try:
        config = config_from_args(args)
    except ConfigError as exc:
        print(f"autostack sandbox: {exc}", file=sys.stderr)
        return 2
    app = create_app(config)
    state = app.state.sandbox.state_view()
    print(f"Frame.io V4 sandbox on http://{args.host}:{args.port}", flush=True)
    for key, value in state.items():
        print(f"  {key} = {value}", flush=True)
    print(json.dumps(state), flush=True)
    _exit_quietly_after_shutdown()
    server = uvicorn.Server(uvicorn.Config(app, host=args.host, port=args.port, log_level="warning", ws="none"))
    try:
        server.run()
    except SystemExit as exit_:  # uvicorn exits 1 when it cannot bind the port
        return exit_.code if isinstance(exit_.code, int) else 1
    return 0 if server.started else 1


def _exit_quietly_after_shutdown() -> None:
    """uvicorn shuts down gracefully on SIGTERM or SIGINT, then raises the signal again against the
    handlers it found: with these, the sandbox then returns and exits 0 (a stop, not a crash)."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, frame: None)
