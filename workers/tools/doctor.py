"""``autostack doctor``'s read-only checks: Frame.io, the webhook, the secrets, Redis, the rules.

Each check reads, never writes, and ends in one :class:`~workers.tools.doctor_verdicts.Check`; the
verdicts themselves are pure (:mod:`.doctor_verdicts`). The probe that writes is :mod:`.probe`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import redis

from workers.frameio.errors import FrameioError
from workers.naming.rules import RulesError, load_rules
from workers.tools.doctor_api import Answer, Api
from workers.tools.doctor_verdicts import Check, redis_checks, webhook_check, webhook_from_json


@dataclass(frozen=True)
class Target:
    """Where autostack acts: from the command line, else from the settings."""

    account_id: str | None
    project_id: str | None
    workspace_id: str | None
    webhook_url: str | None
    event_types: tuple[str, ...]


@dataclass(frozen=True)
class Reached:
    """What the Frame.io checks found: the report lines, and the project's root folder if reached."""

    checks: list[Check]
    root_folder_id: str | None = None


def _refused(name: str, what: str, answer: Answer, todo: str) -> Check:
    reason = {401: "the token is refused", 403: "no access", 404: "not found"}.get(answer.status, "")
    return Check(name, "fail", f"{what}: HTTP {answer.status}{', ' + reason if reason else ''}", todo)


def frameio_checks(api: Api, target: Target) -> Reached:
    """Whose credentials, then the account, project, workspace and webhook, each only when the one
    before it answered."""
    try:
        return _frameio_checks(api, target)
    except FrameioError as exc:
        return Reached([Check("frameio", "fail", f"Frame.io does not answer ({exc})", "check FRAMEIO_BASE_URL")])


def _frameio_checks(api: Api, target: Target) -> Reached:
    me = api.request("GET", "/me")
    if not me.ok:
        todo = "check FRAMEIO_TOKEN, or FRAMEIO_CLIENT_ID and FRAMEIO_CLIENT_SECRET"
        return Reached([_refused("credentials", "GET /v4/me", me, todo)])
    user = me.data()
    checks = [Check("credentials", "ok", f"signed in as {user.get('name')} <{user.get('email')}> ({user.get('id')})")]
    if not target.account_id:
        checks.append(Check("account", "fail", "no account id", "set FRAMEIO_ACCOUNT_ID or give --account"))
        return Reached(checks)
    account = _account_check(api, target.account_id)
    checks.append(account)
    if account.level == "fail":
        return Reached(checks)
    project, root, workspace_id = _project_check(api, target)
    checks.append(project)
    workspace_id = target.workspace_id or workspace_id
    if not workspace_id:
        todo = "give --workspace (or --project, whose workspace is then used)"
        checks.append(Check("workspace", "fail", "no workspace id: the webhook can't be checked", todo))
        return Reached(checks, root)
    workspace = _workspace_check(api, target.account_id, workspace_id)
    checks.append(workspace)
    if workspace.level != "fail":
        checks.append(_webhook_check(api, target, workspace_id))
    return Reached(checks, root)


def _account_check(api: Api, account_id: str) -> Check:
    status, accounts = api.listing("/accounts")
    if status != 200:
        return _refused("account", "GET /v4/accounts", Answer(status, {}), "check the token's user")
    found = next((account for account in accounts if account.get("id") == account_id), None)
    if found is None:
        todo = f"set FRAMEIO_ACCOUNT_ID to one of: {', '.join(str(a.get('id')) for a in accounts) or 'none'}"
        return Check("account", "fail", f"account {account_id} is not among the user's accounts", todo)
    return Check("account", "ok", f"account {found.get('display_name')} ({account_id})")


def account_credential_check(api: Api, account_id: str) -> Check:
    """An account's own credential (its row of the accounts file): it signs in, and its user
    reaches the account. Named by the account id; the credential itself is never shown."""
    name = f"account {account_id}"
    todo = f"fix account {account_id}'s row of FRAMEIO_ACCOUNTS_FILE"
    try:
        me = api.request("GET", "/me")
        if not me.ok:
            return _refused(name, "its credential, GET /v4/me", me, todo)
        status, accounts = api.listing("/accounts")
    except FrameioError as exc:
        return Check(name, "fail", f"its credential cannot sign in ({exc})", todo)
    if status != 200:
        return _refused(name, "its credential, GET /v4/accounts", Answer(status, {}), todo)
    user = me.data()
    if not any(account.get("id") == account_id for account in accounts):
        return Check(name, "fail", f"{user.get('name')} ({user.get('id')}) is not a member of the account", todo)
    return Check(name, "ok", f"its credential signs in as {user.get('name')} ({user.get('id')}) and reaches it")


def _project_check(api: Api, target: Target) -> tuple[Check, str | None, str | None]:
    """The check, the project's root folder and its workspace."""
    if not target.project_id:
        todo = "give --project (or set AUTOSTACK_PROJECTS to the one project) to check it and to --probe"
        return Check("project", "warn", "no project given", todo), None, None
    answer = api.request("GET", f"/accounts/{target.account_id}/projects/{target.project_id}")
    if not answer.ok:
        return (
            _refused("project", f"project {target.project_id}", answer, "check --project / AUTOSTACK_PROJECTS"),
            None,
            None,
        )
    data = answer.data()
    root, workspace = data.get("root_folder_id"), data.get("workspace_id")
    check = Check("project", "ok", f"project {data.get('name')} ({target.project_id}), root folder {root}")
    return check, root if isinstance(root, str) else None, workspace if isinstance(workspace, str) else None


def _workspace_check(api: Api, account_id: str, workspace_id: str) -> Check:
    answer = api.request("GET", f"/accounts/{account_id}/workspaces/{workspace_id}")
    if not answer.ok:
        return _refused("workspace", f"workspace {workspace_id}", answer, "check --workspace")
    return Check("workspace", "ok", f"workspace {answer.data().get('name')} ({workspace_id})")


def _webhook_check(api: Api, target: Target, workspace_id: str) -> Check:
    status, hooks = api.listing(f"/accounts/{target.account_id}/workspaces/{workspace_id}/webhooks")
    if status != 200:
        return _refused("webhook", "listing the webhooks", Answer(status, {}), "the token's user must see webhooks")
    found = [webhook_from_json(hook) for hook in hooks]
    return webhook_check(found, target.webhook_url, target.event_types, workspace_id)


def redis_report(client: redis.Redis) -> list[Check]:
    """Redis answers, keeps an append-only file and never evicts."""
    try:
        client.ping()
    except redis.AuthenticationError:
        return [Check("redis", "fail", "Redis refused the password (or user) in REDIS_URL", _REDIS_AUTH_FIX)]
    except redis.RedisError as exc:
        return [Check("redis", "fail", f"Redis does not answer at REDIS_URL ({type(exc).__name__})", "check REDIS_URL")]
    return [Check("redis", "ok", "Redis answers"), *redis_durability(client)]


_REDIS_AUTH_FIX = "set the right one: redis://:PASSWORD@HOST:PORT/DB"


def redis_durability(client: redis.Redis) -> list[Check]:
    """AOF and the eviction policy, from ``INFO`` (most managed Redis allow it), else ``CONFIG GET``;
    one warn when Redis answers neither (they could not be checked)."""
    return redis_checks(redis_settings(client))


def durability_warning(client: redis.Redis) -> str | None:
    """The one loud line a process logs at start-up when Redis may lose autostack's work (no AOF,
    an evicting policy) or could not be checked; None when it is safe or does not answer yet (the
    process meets that on its own)."""
    try:
        checks = redis_durability(client)
    except redis.RedisError:
        return None
    bad = [check for check in checks if check.level != "ok"]
    if not bad:
        return None
    return "REDIS MAY LOSE WORK: " + "; ".join(f"{check.summary} (fix: {check.todo})" for check in bad)


def redis_settings(client: redis.Redis) -> dict[str, str] | None:
    """``appendonly`` and ``maxmemory-policy`` as CONFIG names them; None when Redis refuses both reads."""
    found: dict[str, str] = {}
    try:
        persistence, memory = client.info("persistence"), client.info("memory")
    except redis.ResponseError:
        persistence, memory = {}, {}
    if "aof_enabled" in persistence:
        found["appendonly"] = "yes" if int(persistence["aof_enabled"]) else "no"
    if "maxmemory_policy" in memory:
        found["maxmemory-policy"] = _text(memory["maxmemory_policy"])
    for key in ("appendonly", "maxmemory-policy"):
        if key not in found:
            try:
                found[key] = _text(client.config_get(key).get(key))
            except redis.ResponseError:
                return None
    return found


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def rules_check(path: Path | None) -> Check:
    """The naming rules file loads (or the built-in rules are used)."""
    if path is None:
        return Check("rules", "ok", "the built-in naming rules (AUTOSTACK_RULES is not set)")
    try:
        load_rules(path)
    except RulesError as exc:
        return Check("rules", "fail", f"does not load: {exc}", "fix AUTOSTACK_RULES or the file it names")
    return Check("rules", "ok", f"{path} loads")


def report_lines(checks: Sequence[Check]) -> list[str]:
    """One line per check, and under a warn or a fail what to do."""
    width = max((len(check.name) for check in checks), default=0)
    lines = []
    for check in checks:
        lines.append(f"{check.level:<4}  {check.name:<{width}}  {check.summary}")
        if check.todo and check.level != "ok":
            lines.append(f"      {'':<{width}}  -> {check.todo}")
    return lines
