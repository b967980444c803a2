"""``autostack status``: the Frame.io sign-in (who autostack acts as, its state, when its token
expires) and each account's own credential (``FRAMEIO_ACCOUNTS_FILE``), the files waiting in each
account's inbox, the queue, failed jobs, workers, the last webhook accepted, the last sweep and the
last decisions with reasons; ``--json`` for one object.

Every time is UTC, shown with its zone (ISO 8601 with the offset in JSON). A Redis that does not
answer raises; the command line says so in one line (:mod:`service.failures`).
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any, TextIO

import redis
from rq import Queue, Worker

from service.tables import utc_iso, utc_text
from workers import credentials, decisions
from workers.ingest import activity
from workers.ingest.inbox import Inbox, accounts_with_entries
from workers.settings import Settings


def add_status_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--last", type=_count, default=20, metavar="N", help="how many decisions to show (0: none; default 20)"
    )
    parser.add_argument("--json", action="store_true", help="one JSON object instead of text")


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative: give 0 or more")
    return value


def run_status(settings: Settings, out: TextIO, last: int = 20, as_json: bool = False) -> int:
    client = redis.Redis.from_url(settings.redis_url, socket_timeout=5, socket_connect_timeout=5)
    try:
        client.ping()
        facts = gather(settings, client, time.time(), last)
    finally:
        client.close()
    if as_json:
        out.write(json.dumps(_iso_times(facts), ensure_ascii=False, indent=2) + "\n")
    else:
        print_status(facts, out)
    return 0


def gather(settings: Settings, client: redis.Redis, now: float, last: int) -> dict[str, Any]:
    """Every fact ``status`` shows; times (keys ``at`` and ``*_at``) in seconds since the epoch."""
    credential, accounts = credentials.inspect_all(settings, client, now)
    queue = Queue(settings.autostack_queue, connection=client)
    marks = activity.read(client)
    return {
        "now_at": now,
        "sign_in": _sign_in(credential, now) if credential else NO_DEFAULT,
        "accounts": [{"account": account, **_sign_in(found, now, account)} for account, found in accounts.items()],
        "inbox": _inboxes(client),
        "queue": {
            "name": queue.name,
            "waiting": queue.count,
            "running": queue.started_job_registry.count,
            "scheduled": queue.scheduled_job_registry.count,
            "failed": queue.failed_job_registry.count,
        },
        "workers": [{"name": w.name, "state": w.get_state()} for w in Worker.all(connection=client)],
        "last_webhook_at": marks.last_webhook_at,
        "last_sweep": {"at": marks.last_sweep_at, "queued": marks.last_sweep_queued},
        "decisions": [_decision(d) for d in decisions.latest(client, last)] if last > 0 else [],
    }


NO_DEFAULT = {
    "mode": "none",
    "state": None,
    "identity": None,
    "token_expires_at": None,
    "action": "",
    "line": "Frame.io sign-in: no default credential; accounts without a row in FRAMEIO_ACCOUNTS_FILE are declined",
}


def _sign_in(credential: credentials.Credential, now: float, account: str | None = None) -> dict[str, Any]:
    return {
        "mode": credential.mode,
        "state": credential.state,
        "identity": credential.identity,
        "token_expires_at": credential.expires_at,
        "action": credential.action,
        "line": credentials.describe(credential, now, account),
    }


def _inboxes(client: redis.Redis) -> list[dict[str, Any]]:
    rows = []
    for account in accounts_with_entries(client):
        inbox = Inbox(client, account)
        rows.append({"account": account, "waiting": inbox.size(), "oldest_at": inbox.oldest_at()})
    return rows


def _decision(decision: decisions.Decision) -> dict[str, Any]:
    return {
        "at": decision.at,
        "outcome": decision.outcome,
        "file_id": decision.file_id,
        "name": decision.name,
        "code": decision.code,
        "reason": decision.reason,
    }


def print_status(facts: dict[str, Any], out: TextIO) -> None:
    print(facts["sign_in"]["line"], file=out)
    for row in facts["accounts"]:
        print(f"  {row['line']}", file=out)
    inbox = facts["inbox"]
    waiting = sum(row["waiting"] for row in inbox)
    print(f"inbox: {waiting} file(s) waiting for a drain", file=out)
    for row in inbox:
        since = f", the oldest accepted {_when(row['oldest_at'])}" if row["oldest_at"] else ""
        print(f"  account {row['account']}: {row['waiting']}{since}", file=out)
    queue = facts["queue"]
    print(f"queue {queue['name']}: {queue['waiting']} job(s) waiting", file=out)
    for key in ("running", "scheduled", "failed"):
        print(f"  {key + ':':<10} {queue[key]}", file=out)
    print(f"workers: {len(facts['workers'])}", file=out)
    for worker in facts["workers"]:
        print(f"  {worker['name']}: {worker['state']}", file=out)
    print(f"last webhook accepted: {_when(facts['last_webhook_at'], 'none in the last 7 days')}", file=out)
    sweep = facts["last_sweep"]
    swept = f"{_when(sweep['at'])}, {sweep['queued']} job(s) queued" if sweep["at"] else "none in the last 7 days"
    print(f"last sweep: {swept}", file=out)
    print(f"last {len(facts['decisions'])} decisions:", file=out)
    for decision in facts["decisions"]:
        who = decision["name"] or decision["file_id"]
        print(f"  {_when(decision['at'])}  {decision['outcome']:<9} {who}: {decision['reason']}", file=out)


def _when(at: float | None, missing: str = "-") -> str:
    return missing if at is None else utc_text(at)


def _iso_times(value: Any, key: str = "") -> Any:
    """The facts for JSON: every time as ISO 8601 with its UTC offset."""
    if isinstance(value, dict):
        return {k: _iso_times(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_iso_times(item) for item in value]
    if key == "at" or key.endswith("_at"):
        return utc_iso(value)
    return value
