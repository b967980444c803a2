"""``autostack actions register``: create (or update) autostack's Custom Actions in a workspace
and show each new action's secret, once.

Actions are matched to ours by their event key (``autostack.why`` …); one that exists is updated
(name, description, URL), and Frame.io does not show its secret again, so it keeps the one already
in ``FRAMEIO_ACTION_SECRETS``. A new one is created and its secret printed.
"""

from __future__ import annotations

import argparse
from typing import TextIO

from service.action_menu import ACTIONS
from workers import runtime
from workers.settings import ConfigError, Settings


def add_actions_register_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workspace", required=True, help="the workspace id (actions are per workspace)")
    parser.add_argument("--url", required=True, help="where Frame.io posts: https://HOST/actions/frameio")
    parser.add_argument("--account", default=None, help="the account id (default: FRAMEIO_ACCOUNT_ID)")


def register_actions_main(
    args: argparse.Namespace, settings: Settings, out: TextIO, rt: runtime.Runtime | None = None
) -> int:
    account_id = settings.account_for(args.account)
    if not args.url.startswith(("https://", "http://")):
        raise ConfigError("--url must be an http(s) URL ending in /actions/frameio")
    settings.require_frameio_credentials()
    client = (rt or runtime.Runtime(settings)).frameio()
    existing = {str(item.get("event")): str(item.get("id")) for item in client.list_actions(account_id, args.workspace)}
    secrets: list[str] = []
    for spec in ACTIONS:
        fields = {"name": spec.name, "description": spec.description, "event": spec.event, "url": args.url}
        if spec.event in existing:
            client.update_action(account_id, existing[spec.event], fields)
            print(
                f"Updated action {existing[spec.event]} {spec.name!r} ({spec.event}); its secret is unchanged", file=out
            )
            continue
        created = client.create_action(account_id, args.workspace, fields)
        secrets.append(str(created.get("secret", "")))
        print(f"Created action {created.get('id')} {spec.name!r} ({spec.event}) -> {args.url}", file=out)
    if secrets:
        print(f"\nThe new actions' secrets (Frame.io shows them only now):\n\n    {','.join(secrets)}\n", file=out)
        print(
            "Put them first in FRAMEIO_ACTION_SECRETS on the web tier (keep the secrets of actions that\n"
            "still exist after them), store them in your secret manager, and restart the web tier.",
            file=out,
        )
    return 0
