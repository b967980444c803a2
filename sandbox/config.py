"""Every knob of the sandbox, with defaults chosen as the least convenient plausible answer.

Frame.io documents some behaviour and leaves the rest open (``docs/frameio.md`` §10). Where
the documentation is silent, the default is whichever plausible answer makes a client work
hardest, so that code written against the sandbox survives the real service either way.

Knobs can be changed at start-up (``sandbox/cli.py`` flags) and at run time
(``PATCH /_sandbox/config``); :func:`apply_updates` validates both paths the same way.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import itertools
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Literal, get_args, get_origin


class ConfigError(ValueError):
    """A knob name or value that the sandbox cannot accept."""


@dataclass
class SandboxConfig:
    """All sandbox knobs; see ``sandbox/README.md`` for the reasoning behind each default."""

    # --- identity -------------------------------------------------------------------------
    token: str = "sandbox-token"  # noqa: S105 - a well-known fake token, by design
    """The bearer token of the seeded API user; any other token (unless registered) gets 401."""
    extra_tokens: list[str] = field(default_factory=list)
    """More accepted bearer tokens, each standing for a user of its own (same account)."""
    account_tokens: Literal["own", "shared"] = "own"
    """An account added by ``POST /_sandbox/accounts`` has its own API user and token, which no
    other account accepts (403); ``shared``: the seeded API user's token reaches it too."""
    seed: int | None = None
    """Seeds ids and every random choice (jitter, duplicates, reorders); None = fresh randomness."""

    # --- latency and rate limits ----------------------------------------------------------
    latency_s: float = 0.0
    """Added to every API call."""
    account_latency_s: list[str] = field(default_factory=list)
    """More latency for one account's calls, as ``<account id>=<seconds>`` entries (a slow account)."""
    rate_limits: bool = True
    """Enforce Frame.io's per-endpoint leaky buckets (429 when empty)."""
    rate_window_scale: float = 1.0
    """Multiplies every rate-limit window: 0.0333 turns a 60 s window into 2 s."""
    rate_limit_scope: Literal["account", "account_user"] = "account"
    """The guide says limits are enforced per account (all tokens share one bucket)."""
    retry_after_on_429: bool = False
    """Frame.io documents no Retry-After header; set True to send one anyway."""

    # --- user sign-in (IMS authorization_code + refresh_token; sandbox/oauth.py) ----------
    user_access_token_lifetime_s: float = 3600.0
    """``expires_in`` of access tokens from the user grants (Frame.io: "typically ~1 h")."""
    refresh_token_lifetime_s: float = 14 * 86400.0
    """How long a refresh token can be used (Adobe's user refresh tokens last 14 days)."""
    refresh_token_rotation: Literal["rotate", "reuse"] = "rotate"  # noqa: S105 - a policy, not a secret
    """Each refresh returns a new refresh token and retires the old one; or keeps the old one."""
    refresh_token_grace_s: float = 0.0
    """After a rotation, the retired refresh token still works for this long (0: not at all)."""
    oauth_web_client_id: str = "sandbox-web-client"
    """The registered Web App (confidential) client: needs the secret; PKCE checked if used."""
    oauth_web_client_secret: str = field(default="sandbox-web-secret", repr=False)
    """The Web App client's secret (never shown by ``GET /_sandbox/config``)."""
    oauth_spa_client_ids: list[str] = field(default_factory=lambda: ["sandbox-spa-client"])
    """Registered public clients (SPA, native app): no secret, PKCE S256 required."""

    # --- stacks (``docs/frameio.md`` §10) -------------------------------------------------
    move_lands: Literal["bottom", "top"] = "bottom"
    """Where a file moved into a stack lands (open question 1)."""
    children_order: Literal["top_first", "bottom_first"] = "top_first"
    """Order of unsorted stack children listings (open question 2)."""
    create_requires_uploaded: bool = True
    """Creating a stack with a file still in status `created` answers 422 (open question 9)."""
    move_requires_uploaded: bool = True
    """Moving a file still in status `created` into a stack answers 422 (open question 1)."""
    emptied_stack: Literal["gone", "left_empty"] = "gone"
    """A stack whose last file moves out is deleted, or stays as an empty stack (open question 3)."""
    single_file_stack: Literal["survives", "dissolves"] = "survives"
    """A stack left with one file keeps it, or dissolves (the file returns to the folder)."""
    stack_name: Literal["frozen", "follows_head"] = "frozen"
    """Stack name = the head's name at creation, never updated; or always the current head's."""
    reorder_event_on_noop: bool = True
    """A reorder that changes nothing still emits `file.versioned`."""
    reorder_requires_experimental: bool = False
    """Reorder without ``api-version: experimental`` answers 404, as an unknown route does."""
    stack_as_folder: Literal["404", "400", "422"] = "404"
    """The answer when a version stack's id is used as a folder id (show folder, folder children)."""

    # --- listings -------------------------------------------------------------------------
    folder_default_sort: str = "updated_at_desc"
    """Order of folder children when no `sort` is given: changes reshuffle pages."""
    include_lists: bool = False
    """Accept comma-separated `include` values (the SDK types only single values)."""
    type_list: Literal["honoured", "refused_422", "first_only"] = "honoured"
    """Folder children ``type=file,version_stack``: filter by all, answer 422, or use only the first."""
    head_version_in_listings: bool = True
    """Stacks in folder children and in list_stacks carry ``head_version`` (False: left out)."""
    head_version_in_show_stack: bool = True
    """show_stack carries ``head_version`` (False: left out)."""
    read_lag_ms: float = 0.0
    """Reads within this many ms of a write (create, move, copy, reorder) show the state before it."""

    # --- uploads and processing -----------------------------------------------------------
    transcode_delay_s: float = 5.0
    """Seconds from `uploaded` (file.upload.completed) to `transcoded` (file.ready)."""
    upload_part_size: int = 25 * 1024 * 1024
    """Bytes per upload URL returned by local_upload."""
    upload_requires_acl: bool = True
    """PUTs to upload URLs must carry `x-amz-acl: private` (Frame.io's S3 bucket policy)."""
    media_type_before_upload: Literal["set", "null"] = "set"
    """A file's ``media_type`` while it is still ``created``: guessed from the name, or null."""

    # --- webhook deliveries ---------------------------------------------------------------
    delivery_time_scale: float = 1.0
    """Scales the retry backoff (15 s base) and the 5 s answer timeout (never below 0.5 s)."""
    delivery_attempts: int = 5
    """Attempts in all (Frame.io: the first plus four retries)."""
    duplicate_delivery_rate: float = 0.0
    """Probability that an event is delivered twice (two independent deliveries)."""
    reorder_delivery_rate: float = 0.0
    """Probability that a delivery is held back until a later one to the same URL went out."""
    retry_reuses_timestamp: bool = False
    """Retries carry the first attempt's ``X-Frameio-Request-Timestamp`` (and its signature)."""

    # --- Custom Actions ----------------------------------------------------------------------
    action_timeout_s: float = 10.0
    """How long Frame.io waits for an action's answer before the attempt counts as failed."""
    action_attempts: int = 5
    """Attempts in all at one step of a click (Frame.io's guide: it retries up to 5 times)."""
    action_retry_s: float = 1.0
    """The wait between attempts (undocumented: short, as a person is watching)."""

    def latency_of(self, account_id: str | None) -> float:
        """The extra latency ``account_latency_s`` gives this account's calls (0 when none)."""
        for entry in self.account_latency_s:
            name, _, seconds = entry.partition("=")
            if name == account_id:
                return float(seconds)
        return 0.0

    def delivery_timeout_s(self) -> float:
        """How long a receiver may take to answer before the attempt counts as failed."""
        return max(0.5, 5.0 * self.delivery_time_scale)

    def backoff_s(self, failed_attempt: int, jitter: float) -> float:
        """Wait after attempt ``failed_attempt`` (1-based): 15 s doubled each time, plus jitter."""
        base: float = 15.0 * 2.0 ** (failed_attempt - 1)
        return base * (1.0 + jitter) * self.delivery_time_scale


KNOB_NAMES: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(SandboxConfig))


def knob_docs() -> dict[str, str]:
    """Each knob's meaning: the docstring under its field in :class:`SandboxConfig`, on one line
    (for ``autostack sandbox --help``; read from this module's source, the one place they are)."""
    tree = ast.parse(inspect.getsource(SandboxConfig))
    body = next(node for node in tree.body if isinstance(node, ast.ClassDef)).body
    docs: dict[str, str] = {}
    for field_node, doc_node in itertools.pairwise(body):
        if not isinstance(field_node, ast.AnnAssign) or not isinstance(field_node.target, ast.Name):
            continue
        if isinstance(doc_node, ast.Expr) and isinstance(doc_node.value, ast.Constant):
            docs[field_node.target.id] = " ".join(str(doc_node.value.value).split())
    return docs


PROFILES: dict[str, dict[str, Any]] = {
    "pessimistic": {
        "reorder_requires_experimental": True,
        "type_list": "first_only",
        "head_version_in_listings": False,
        "head_version_in_show_stack": False,
        "read_lag_ms": 2000.0,
        "stack_as_folder": "422",
        "media_type_before_upload": "null",
        "retry_reuses_timestamp": True,
        "rate_limit_scope": "account",
        "retry_after_on_429": False,
    },
}
"""Named sets of knobs. ``pessimistic``: the unkind answer to every question the docs leave open
that has a knob (the defaults keep today's behaviour for some of them). Apply one with
``apply_updates(config, {"profile": name})``, ``PATCH /_sandbox/config``, ``POST /_sandbox/reset``
or ``--profile``; or use the dict directly: ``SandboxConfig(**PROFILES["pessimistic"])``."""


def _check_type(name: str, annotation: Any, value: Any) -> Any:
    origin = get_origin(annotation)
    if origin is Literal:
        if value not in get_args(annotation):
            raise ConfigError(f"{name} must be one of {list(get_args(annotation))}, not {value!r}")
        return value
    if origin in (types.UnionType, typing.Union):
        if value is None and type(None) in get_args(annotation):
            return None
        inner = [a for a in get_args(annotation) if a is not type(None)]
        return _check_type(name, inner[0], value)
    if origin is list:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{name} must be a list of strings")
        return list(value)
    return _check_scalar(name, annotation, value)


def _check_scalar(name: str, annotation: Any, value: Any) -> Any:
    if annotation is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{name} must be true or false")
        return value
    if annotation is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{name} must be a number")
        return float(value)
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{name} must be an integer")
        return value
    if not isinstance(value, str):
        raise ConfigError(f"{name} must be a string")
    return value


_RANGES: dict[str, tuple[float, float]] = {
    "latency_s": (0.0, 600.0),
    "rate_window_scale": (1e-6, 1e6),
    "transcode_delay_s": (0.0, 86400.0),
    "upload_part_size": (1, 5 * 1024**4),
    "delivery_time_scale": (1e-6, 1e6),
    "delivery_attempts": (1, 100),
    "action_timeout_s": (0.05, 600.0),
    "action_attempts": (1, 100),
    "action_retry_s": (0.0, 600.0),
    "duplicate_delivery_rate": (0.0, 1.0),
    "reorder_delivery_rate": (0.0, 1.0),
    "user_access_token_lifetime_s": (1e-3, 10 * 86400.0),
    "refresh_token_lifetime_s": (1e-3, 365 * 86400.0),
    "refresh_token_grace_s": (0.0, 86400.0),
    "read_lag_ms": (0.0, 600_000.0),
}

_SORTS = {f"{key}_{way}" for key in ("name", "created_at", "updated_at") for way in ("asc", "desc")}


def validate(config: SandboxConfig) -> None:
    """Raise :class:`ConfigError` unless every knob holds an acceptable value."""
    hints = typing.get_type_hints(SandboxConfig)
    for name in KNOB_NAMES:
        _check_type(name, hints[name], getattr(config, name))
    for name, (low, high) in _RANGES.items():
        value = getattr(config, name)
        if not low <= value <= high:
            raise ConfigError(f"{name} must be between {low} and {high}, not {value}")
    if config.folder_default_sort not in _SORTS:
        raise ConfigError(f"folder_default_sort must be one of {sorted(_SORTS)}")
    if not config.token:
        raise ConfigError("token must not be empty")
    for entry in config.account_latency_s:
        _check_account_latency(entry)
    if not config.oauth_web_client_id or not config.oauth_web_client_secret:
        raise ConfigError("oauth_web_client_id and oauth_web_client_secret must not be empty")
    if not all(config.oauth_spa_client_ids):
        raise ConfigError("oauth_spa_client_ids must not hold an empty id")


def _check_account_latency(entry: str) -> None:
    name, sep, seconds = entry.partition("=")
    try:
        value = float(seconds)
    except ValueError:
        value = -1.0
    if not sep or not name or not 0.0 <= value <= 600.0:
        raise ConfigError(f"account_latency_s entries must be '<account id>=<seconds 0..600>', not {entry!r}")


def expand_profile(updates: dict[str, Any]) -> dict[str, Any]:
    """``updates`` with a ``"profile"`` entry replaced by that profile's knobs (the others win)."""
    if "profile" not in updates:
        return dict(updates)
    rest = {name: value for name, value in updates.items() if name != "profile"}
    name = updates["profile"]
    if not isinstance(name, str) or name not in PROFILES:
        raise ConfigError(f"profile must be one of {sorted(PROFILES)}, not {name!r}")
    return {**PROFILES[name], **rest}


def apply_updates(config: SandboxConfig, updates: dict[str, Any]) -> SandboxConfig:
    """A copy of ``config`` with ``updates`` applied; raises :class:`ConfigError` on bad input.

    ``updates`` may name a profile (``{"profile": "pessimistic"}``): its knobs are applied first,
    then any knob given beside it.
    """
    updates = expand_profile(updates)
    unknown = sorted(set(updates) - set(KNOB_NAMES))
    if unknown:
        raise ConfigError(f"unknown knob(s): {', '.join(unknown)}")
    hints = typing.get_type_hints(SandboxConfig)
    checked = {name: _check_type(name, hints[name], value) for name, value in updates.items()}
    updated = dataclasses.replace(config, **checked)
    validate(updated)
    return updated


SECRET_KNOBS = frozenset({"oauth_web_client_secret"})
HIDDEN = "<hidden>"


def as_dict(config: SandboxConfig) -> dict[str, Any]:
    """The knobs as plain JSON-ready values (secrets shown as ``"<hidden>"``)."""
    view = dataclasses.asdict(config)
    for name in SECRET_KNOBS:
        view[name] = HIDDEN
    return view
