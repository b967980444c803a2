"""What ``autostack doctor`` concludes from what it saw. Pure: observations in, verdicts out.

Each check ends in one :class:`Check` (ok, warn or fail, one line, and what to do); the probe's
:class:`Observations` become a :class:`~workers.frameio.platform.Platform`, one small inference per
undocumented answer (``docs/frameio.md`` §10). Nothing here reads message text: only statuses,
ids, names and keys.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from workers.frameio.platform import Platform

Level = Literal["ok", "warn", "fail"]
WEBHOOK_PATH = "/webhooks/frameio"
MIN_SECRET_LENGTH = 16


@dataclass(frozen=True)
class Check:
    """One line of the doctor's report; ``todo`` says what to do about a warn or a fail."""

    name: str
    level: Level
    summary: str
    todo: str = ""


def passed(checks: Sequence[Check]) -> bool:
    """True when nothing failed (warnings allowed)."""
    return all(check.level != "fail" for check in checks)


# -- webhooks ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Webhook:
    id: str
    url: str
    events: frozenset[str]
    active: bool


def webhook_from_json(data: Mapping[str, Any]) -> Webhook:
    """A listed webhook; ``active`` is absent on some answers, and then counts as on."""
    events = data.get("events")
    return Webhook(
        id=str(data.get("id", "")),
        url=str(data.get("url", "")),
        events=frozenset(e for e in events if isinstance(e, str)) if isinstance(events, list) else frozenset(),
        active=data.get("active", True) is not False,
    )


def _register_todo(workspace_id: str, url: str | None) -> str:
    return (
        f"run `autostack webhooks register --workspace {workspace_id} --url {url or 'https://HOST/webhooks/frameio'}`"
    )


def webhook_check(hooks: Sequence[Webhook], url: str | None, events: Sequence[str], workspace_id: str) -> Check:
    """Is there one active webhook pointing at ``url`` (or, without one, at a ``/webhooks/frameio``
    path) that sends every event in ``events``?"""
    mine = [h for h in hooks if h.url == url] if url else [h for h in hooks if h.url.rstrip("/").endswith(WEBHOOK_PATH)]
    if not mine:
        elsewhere = sorted({h.url for h in hooks if h.url.rstrip("/").endswith(WEBHOOK_PATH)})
        where = f"; webhooks point at {', '.join(elsewhere)}" if elsewhere else ""
        return Check(
            "webhook",
            "fail",
            f"no webhook points at {url or 'a /webhooks/frameio URL'}{where}",
            _register_todo(workspace_id, url),
        )
    active = [h for h in mine if h.active]
    if not active:
        return Check(
            "webhook",
            "fail",
            f"webhook {mine[0].id} is inactive: nothing is delivered",
            "turn it on (PATCH the webhook with active: true) or register a new one",
        )
    best = max(active, key=lambda h: len(h.events & set(events)))
    missing = [event for event in events if event not in best.events]
    if missing:
        return Check(
            "webhook",
            "fail",
            f"webhook {best.id} does not send {', '.join(missing)}",
            f"add the events (PATCH the webhook's events) or {_register_todo(workspace_id, url)}",
        )
    if len(active) > 1:
        return Check(
            "webhook",
            "warn",
            f"{len(active)} active webhooks point at {best.url}: each event arrives {len(active)} times",
            "delete all but one (keep the one whose secret is configured)",
        )
    if url is None:
        return Check(
            "webhook",
            "warn",
            f"webhook {best.id} is active and sends {', '.join(events)} to {best.url}",
            "give --url to check it is this deployment's address",
        )
    return Check("webhook", "ok", f"webhook {best.id} is active and sends {', '.join(events)} to {best.url}")


# -- webhook secrets --------------------------------------------------------------------------


def _malformed(secret: str) -> bool:
    return len(secret) < MIN_SECRET_LENGTH or not secret.isascii() or not secret.isprintable() or " " in secret


def secrets_check(secrets: Sequence[str]) -> Check:
    """FRAMEIO_WEBHOOK_SECRETS set and well-formed. Never shows a secret, only its position."""
    if not secrets:
        return Check(
            "secrets",
            "fail",
            "FRAMEIO_WEBHOOK_SECRETS is not set: every delivery is refused",
            "set it to the secret `autostack webhooks register` printed, then restart the web tier",
        )
    bad = [str(number) for number, secret in enumerate(secrets, start=1) if _malformed(secret)]
    if bad:
        return Check(
            "secrets",
            "fail",
            f"secret number {', '.join(bad)} of FRAMEIO_WEBHOOK_SECRETS is malformed "
            f"(shorter than {MIN_SECRET_LENGTH} characters, or spaces or non-ASCII)",
            "copy the secret again, whole, from where you stored it; separate secrets with commas",
        )
    if len(set(secrets)) < len(secrets):
        return Check("secrets", "warn", "FRAMEIO_WEBHOOK_SECRETS holds the same secret twice", "remove the copy")
    unverifiable = (
        "well-formed; whether Frame.io signs with it can't be checked from here (it shows a "
        "secret only at creation and has no test delivery): upload a file and see it in `autostack status`"
    )
    if len(secrets) > 2:
        return Check(
            "secrets",
            "warn",
            f"{len(secrets)} secrets set, {unverifiable}",
            "after a rotation, remove the old secrets once their webhooks are gone",
        )
    return Check("secrets", "ok", f"{len(secrets)} secret(s) set, {unverifiable}")


# -- Redis ------------------------------------------------------------------------------------


def redis_checks(config: Mapping[str, str] | None) -> list[Check]:
    """AOF on and ``noeviction``, from ``CONFIG GET``; None when Redis refuses CONFIG (managed Redis)."""
    if config is None:
        return [
            Check(
                "redis-config",
                "warn",
                "Redis refuses INFO and CONFIG GET (managed?): AOF and the eviction policy could not be checked",
                "check in the provider's settings: appendonly yes, maxmemory-policy noeviction (README, Deployment)",
            )
        ]
    return [_redis_setting(config, *setting) for setting in REDIS_SETTINGS]


#: (check, CONFIG key, the value autostack needs, why, what goes wrong otherwise, what to do)
REDIS_SETTINGS = (
    ("redis-aof", "appendonly", "yes", "queued jobs survive a restart",
     "a restart loses queued jobs, and Frame.io does not deliver them again",
     "set appendonly yes (and appendfsync everysec) in redis.conf; CONFIG SET appendonly yes turns it on now"),
    ("redis-memory", "maxmemory-policy", "noeviction", "a full Redis refuses writes, it never drops keys",
     "a full Redis drops jobs, locks and dedupe keys",
     "set maxmemory-policy noeviction in redis.conf; CONFIG SET maxmemory-policy noeviction for now"),
)  # fmt: skip


def _redis_setting(
    config: Mapping[str, str], name: str, key: str, wanted: str, good: str, bad: str, todo: str
) -> Check:
    value = config.get(key, "unknown")
    if value == wanted:
        return Check(name, "ok", f"{key} {value}: {good}")
    return Check(name, "fail", f"{key} is {value}: {bad}", todo)


# -- what the probe saw, and what it means ----------------------------------------------------


@dataclass(frozen=True)
class Observations:
    """What the probe saw in its scratch folder. Ids are the probe's files: ``bottom`` and ``top``
    stacked by create (oldest first), ``moved`` moved in afterwards, ``bottom`` then reordered to
    the top. None: not seen (the step failed or was not reached)."""

    bottom: str = ""
    top: str = ""
    moved: str = ""
    media_type_mid_upload: tuple[str, str | None] | None = None  # (status, media_type) before the PUTs
    children_after_create: tuple[str, ...] | None = None  # stack children ids, unsorted listing
    children_after_move: tuple[str, ...] | None = None
    reorder_status: int | None = None  # reorder without the api-version header
    reorder_experimental_status: int | None = None  # with it (asked only when the first was refused)
    head_version_in_listing: bool | None = None
    head_version_in_show_stack: bool | None = None
    type_list: tuple[int, frozenset[str]] | None = None  # status and kinds listed for type=file,version_stack
    stack_as_folder_status: int | None = None
    stack_names: tuple[str, str, str] | None = None  # (name at create, name after the reorder, new head's name)
    read_lag_ms: float | None = None


def infer(seen: Observations, learned_at: float | None = None) -> Platform:
    """The platform answers the observations settle; a field stays None when they don't."""
    order = children_order(seen)
    return Platform(
        move_lands=move_lands(seen, order),
        children_order=order,
        reorder_needs_experimental=reorder_needs_experimental(seen.reorder_status, seen.reorder_experimental_status),
        type_list=type_list(seen.type_list),
        head_version_in_listings=seen.head_version_in_listing,
        head_version_in_show_stack=seen.head_version_in_show_stack,
        stack_as_folder_status=seen.stack_as_folder_status if _is_refusal(seen.stack_as_folder_status) else None,
        media_type_before_upload=media_type_before_upload(seen.media_type_mid_upload),
        stack_name=stack_name(seen.stack_names),
        read_lag_ms=seen.read_lag_ms,
        learned_at=learned_at,
    )


def _is_refusal(status: int | None) -> bool:
    return status is not None and 400 <= status < 500


def children_order(seen: Observations) -> Literal["top_first", "bottom_first"] | None:
    if seen.children_after_create == (seen.top, seen.bottom):
        return "top_first"
    if seen.children_after_create == (seen.bottom, seen.top):
        return "bottom_first"
    return None


def move_lands(seen: Observations, order: str | None) -> Literal["bottom", "top"] | None:
    if seen.children_after_move is None or order is None or len(seen.children_after_move) != 3:
        return None
    top_first = seen.children_after_move if order == "top_first" else seen.children_after_move[::-1]
    if top_first[0] == seen.moved:
        return "top"
    return "bottom" if top_first[-1] == seen.moved else None


def reorder_needs_experimental(plain: int | None, experimental: int | None) -> bool | None:
    if plain is not None and 200 <= plain < 300:
        return False
    if plain == 404 and experimental is not None and 200 <= experimental < 300:
        return True
    return None


def type_list(seen: tuple[int, frozenset[str]] | None) -> Literal["honoured", "refused_422", "first_only"] | None:
    """Asked in a folder holding a file and a stack."""
    if seen is None:
        return None
    status, kinds = seen
    if status == 422:
        return "refused_422"
    if status != 200:
        return None
    if kinds == {"file", "version_stack"}:
        return "honoured"
    return "first_only" if kinds == {"file"} else None


def media_type_before_upload(seen: tuple[str, str | None] | None) -> Literal["set", "null"] | None:
    if seen is None or seen[0] != "created":
        return None
    return "null" if seen[1] is None else "set"


def stack_name(names: tuple[str, str, str] | None) -> Literal["frozen", "follows_head"] | None:
    if names is None:
        return None
    at_create, after, new_head = names
    if after == new_head != at_create:
        return "follows_head"
    return "frozen" if after == at_create != new_head else None


#: What each learned field means, for the probe's table.
MEANINGS: dict[str, str] = {
    "move_lands": "where a file moved into a stack lands",
    "children_order": "a stack's children listing, unsorted",
    "reorder_needs_experimental": "reorder needs the header api-version: experimental",
    "type_list": "folder children with type=file,version_stack",
    "head_version_in_listings": "folder listings name a stack's head",
    "head_version_in_show_stack": "show stack names the head",
    "stack_as_folder_status": "a stack's id used as a folder answers",
    "media_type_before_upload": "a file's media_type before its upload completes",
    "stack_name": "a stack's name after its head changes",
    "read_lag_ms": "how long a read may miss a write (ms)",
}


def platform_rows(platform: Platform) -> list[tuple[str, str, str]]:
    """(field, learned value or "not learned", meaning), one row per undocumented answer."""
    return [
        (name, "not learned" if getattr(platform, name) is None else _shown(getattr(platform, name)), meaning)
        for name, meaning in MEANINGS.items()
    ]


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
