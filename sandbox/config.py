"""Every knob of the sandbox, with defaults chosen as the least convenient plausible answer.

Frame.io documents some behaviour and leaves the rest open (``frameio-v4.md`` section 10). Where
the documentation is silent, the default is whichever plausible answer makes a client work
hardest, so that code written against the sandbox survives the real service either way.

Knobs can be changed at start-up (``sandbox/cli.py`` flags) and at run time
(``PATCH /_sandbox/config``); :func:`apply_updates` validates both paths the same way.
"""

from __future__ import annotations

import dataclasses
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
    seed: int | None = None
    """Seeds ids and every random choice (jitter, duplicates, reorders); None = fresh randomness."""

    # --- latency and rate limits ----------------------------------------------------------
    latency_s: float = 0.0
    """Added to every API call."""
    rate_limits: bool = True
    """Enforce Frame.io's per-endpoint leaky buckets (429 when empty)."""
    rate_window_scale: float = 1.0
    """Multiplies every rate-limit window: 0.0333 turns a 60 s window into 2 s."""
    rate_limit_scope: Literal["account", "account_user"] = "account"
    """The guide says limits are enforced per account (all tokens share one bucket)."""
    retry_after_on_429: bool = False
    """Frame.io documents no Retry-After header; set True to send one anyway."""

    # --- stacks (frameio-v4.md section 10) -------------------------------------------------
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

    # --- listings -------------------------------------------------------------------------
    folder_default_sort: str = "updated_at_desc"
    """Order of folder children when no `sort` is given: changes reshuffle pages."""
    include_lists: bool = False
    """Accept comma-separated `include` values (the SDK types only single values)."""

    # --- uploads and processing -----------------------------------------------------------
    transcode_delay_s: float = 5.0
    """Seconds from `uploaded` (file.upload.completed) to `transcoded` (file.ready)."""
    upload_part_size: int = 25 * 1024 * 1024
    """Bytes per upload URL returned by local_upload."""
    upload_requires_acl: bool = True
    """PUTs to upload URLs must carry `x-amz-acl: private` (Frame.io's S3 bucket policy)."""

    # --- webhook deliveries ---------------------------------------------------------------
    delivery_time_scale: float = 1.0
    """Scales the retry backoff (15 s base) and the 5 s answer timeout (never below 0.5 s)."""
    delivery_attempts: int = 5
    """Attempts in all (Frame.io: the first plus four retries)."""
    duplicate_delivery_rate: float = 0.0
    """Probability that an event is delivered twice (two independent deliveries)."""
    reorder_delivery_rate: float = 0.0
    """Probability that a delivery is held back until a later one to the same URL went out."""

    def delivery_timeout_s(self) -> float:
        """How long a receiver may take to answer before the attempt counts as failed."""
        return max(0.5, 5.0 * self.delivery_time_scale)

    def backoff_s(self, failed_attempt: int, jitter: float) -> float:
        """Wait after attempt ``failed_attempt`` (1-based): 15 s doubled each time, plus jitter."""
        base: float = 15.0 * 2.0 ** (failed_attempt - 1)
        return base * (1.0 + jitter) * self.delivery_time_scale


KNOB_NAMES: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(SandboxConfig))


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
    "duplicate_delivery_rate": (0.0, 1.0),
    "reorder_delivery_rate": (0.0, 1.0),
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


def apply_updates(config: SandboxConfig, updates: dict[str, Any]) -> SandboxConfig:
    """A copy of ``config`` with ``updates`` applied; raises :class:`ConfigError` on bad input."""
    unknown = sorted(set(updates) - set(KNOB_NAMES))
    if unknown:
        raise ConfigError(f"unknown knob(s): {', '.join(unknown)}")
    hints = typing.get_type_hints(SandboxConfig)
    checked = {name: _check_type(name, hints[name], value) for name, value in updates.items()}
    updated = dataclasses.replace(config, **checked)
    validate(updated)
    return updated


def as_dict(config: SandboxConfig) -> dict[str, Any]:
    """The knobs as plain JSON-ready values."""
    return dataclasses.asdict(config)
