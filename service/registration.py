"""``autostack webhooks register``: create the Frame.io webhook and show its secret, once."""

from __future__ import annotations

import argparse
from typing import TextIO

from workers import runtime
from workers.settings import DEFAULT_EVENT_TYPES, ConfigError, Settings


def add_register_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workspace", required=True, help="the workspace id (webhooks are per workspace)")
    parser.add_argument("--url", required=True, help="where Frame.io delivers: https://HOST/webhooks/frameio")
    parser.add_argument("--account", default=None, help="the account id (default: FRAMEIO_ACCOUNT_ID)")
    parser.add_argument("--name", default="autostack", help="the webhook's name in Frame.io")
    parser.add_argument("--events", default=",".join(DEFAULT_EVENT_TYPES), help="comma-separated event types")


def register_main(args: argparse.Namespace, settings: Settings, out: TextIO, rt: runtime.Runtime | None = None) -> int:
    account_id = settings.account_for(args.account)
    if not args.url.startswith(("https://", "http://")):
        raise ConfigError("--url must be an http(s) URL ending in /webhooks/frameio")
    settings.require_frameio_credentials()
    rt = rt or runtime.Runtime(settings)
    events = [event.strip() for event in args.events.split(",") if event.strip()]
    webhook = rt.frameio().create_webhook(account_id, args.workspace, args.name, args.url, events)
    print(f"Created webhook {webhook.get('id')} for {', '.join(events)} -> {args.url}", file=out)
    print(f"\nIts secret (Frame.io shows it only now):\n\n    {webhook.get('secret')}\n", file=out)
    print(
        "Put it first in FRAMEIO_WEBHOOK_SECRETS on the web tier (keep the old secret after it until\n"
        "the old webhook is gone), store it in your secret manager, and restart the web tier.",
        file=out,
    )
    return 0
