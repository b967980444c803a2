"""The one settings object, read from the environment once at start-up and passed explicitly.

Nothing else in autostack reads ``os.environ``: the command line builds a :class:`Settings` with
:func:`load_settings` and hands it to whatever it starts. A missing or malformed value stops
start-up with a :class:`ConfigError` that names the variable (and never echoes a secret).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from workers.frameio.ratelimit import parse_limits

DEFAULT_EVENT_TYPES = ("file.upload.completed", "file.ready")
# The SDK's user scopes (docs/frameio.md section 7); offline_access brings the refresh token.
DEFAULT_USER_SCOPES = "openid AdobeID email profile offline_access additional_info.roles"
AuthMode = Literal["static", "server_to_server", "user"]
NO_CREDENTIALS = (
    "set FRAMEIO_TOKEN, or FRAMEIO_CLIENT_ID and FRAMEIO_CLIENT_SECRET (server-to-server), "
    "or FRAMEIO_AUTH=user and FRAMEIO_CLIENT_ID and run `autostack login`, to call Frame.io"
)


def metrics_listen(address: str) -> tuple[str, int]:
    """``host:port`` (``[::1]:9464`` for IPv6) as (host, port); ValueError when malformed."""
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError("must be host:port, e.g. 0.0.0.0:9464 (empty: no metrics listener)")
    return host.strip("[]"), int(port)


class ConfigError(Exception):
    """A configuration value is missing or malformed; the message names it."""


_TOML_POSITION = re.compile(r"\((at line \d+, column \d+|at end of document)\)")
ACCOUNT_KEYS = frozenset({"token", "client_id", "client_secret"})
ACCOUNTS_FIX = (
    'give each account a table [<account id>] with either token = "..." or client_id = "..." and client_secret = "..."'
)


class AccountCredential(BaseModel):
    """One row of ``FRAMEIO_ACCOUNTS_FILE``: the account's static token, or its server-to-server
    client (the same IMS flow as the default credential's, its token shared through Redis)."""

    model_config = ConfigDict(frozen=True)

    token: SecretStr | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None

    @property
    def mode(self) -> Literal["static", "server_to_server"]:
        return "static" if self.token is not None else "server_to_server"


def read_accounts_file(path: Path) -> dict[str, AccountCredential]:
    """The accounts file's rows by account id; ValueError naming the file, what is wrong and the
    fix (never a value read from it)."""
    where = f"FRAMEIO_ACCOUNTS_FILE {path}"
    try:
        with path.open("rb") as handle:
            tables = tomllib.load(handle)
    except FileNotFoundError:
        raise ValueError(f"{where} does not exist; point FRAMEIO_ACCOUNTS_FILE at the accounts file") from None
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        raise ValueError(f"{where} cannot be read ({why}); check the path and its permissions") from None
    except tomllib.TOMLDecodeError as exc:
        # Only the position is repeated: tomllib's text may quote a character of a secret.
        at = _TOML_POSITION.search(str(exc))
        raise ValueError(f"{where} is not valid TOML{' ' + at.group(1) if at else ''}; {ACCOUNTS_FIX}") from None
    if not tables:
        raise ValueError(f"{where} names no account; {ACCOUNTS_FIX}, or unset FRAMEIO_ACCOUNTS_FILE")
    return {account: _account_row(where, account, row) for account, row in tables.items()}


def _account_row(where: str, account: str, row: object) -> AccountCredential:
    if not isinstance(row, dict):
        raise ValueError(f"{where}: {account!r} is a value, not a table; {ACCOUNTS_FIX}")
    unknown = sorted(set(row) - ACCOUNT_KEYS)
    if unknown:
        raise ValueError(f"{where}: [{account}] has unknown key(s) {', '.join(unknown)}; {ACCOUNTS_FIX}")
    blank = sorted(key for key, value in row.items() if not isinstance(value, str) or not value.strip())
    if blank:
        raise ValueError(f"{where}: [{account}] {', '.join(blank)} must be a non-empty string; {ACCOUNTS_FIX}")
    has_token, has_client = "token" in row, bool({"client_id", "client_secret"} & set(row))
    if has_token == has_client:
        kinds = "both a token and a client" if has_token else "neither a token nor a client"
        raise ValueError(f"{where}: [{account}] has {kinds}; {ACCOUNTS_FIX}")
    if has_client and len({"client_id", "client_secret"} & set(row)) != 2:
        raise ValueError(f"{where}: [{account}] needs both client_id and client_secret; {ACCOUNTS_FIX}")
    return AccountCredential.model_validate(row)


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    """Every knob of the service. Field names are the environment variable names, lower-cased."""

    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore", frozen=True)

    # May carry a password (redis://:pw@host), so it is kept out of repr like the secrets.
    redis_url: str = Field(default="redis://localhost:6379/0", repr=False)
    frameio_base_url: str = "https://api.frame.io"
    # The account the command-line tools (backfill, webhooks register) act in.
    frameio_account_id: str | None = None
    frameio_token: SecretStr | None = None
    frameio_client_id: str | None = None
    frameio_client_secret: SecretStr | None = None
    frameio_ims_url: str = "https://ims-na1.adobelogin.com"
    frameio_ims_scopes: str = "openid AdobeID frame.s2s.all"
    # One credential per account (README, "Many accounts"): a TOML file, a table per account id.
    # Accounts it does not name use the default credential above, which may then be unset.
    frameio_accounts_file: Path | None = None
    # Read from FRAMEIO_ACCOUNTS_FILE (never from the environment itself).
    frameio_accounts: Mapping[str, AccountCredential] = Field(default_factory=dict)
    # How autostack signs in; unset: FRAMEIO_TOKEN if set, else server-to-server.
    frameio_auth: AuthMode | None = None
    # The user sign-in (FRAMEIO_AUTH=user, `autostack login`): where IMS sends the browser back,
    # and the scopes asked for (offline_access brings the refresh token).
    frameio_redirect_uri: str = "http://127.0.0.1:8765/callback"
    frameio_user_scopes: str = DEFAULT_USER_SCOPES
    # A token expiring within this many seconds is reported as "expiring".
    autostack_token_expiring_s: float = Field(default=3600.0, ge=0)
    frameio_timeout_s: float = Field(default=10.0, gt=0)
    # Newest first: during a rotation both the new and the old secret verify.
    frameio_webhook_secrets: Annotated[tuple[SecretStr, ...], NoDecode] = ()
    # The Custom Actions' secrets (one per action, newest first for a rotation, like the webhooks').
    frameio_action_secrets: Annotated[tuple[SecretStr, ...], NoDecode] = ()
    # How long an action's interaction (a click, then its form) is remembered: its answers repeat.
    autostack_action_ttl_s: int = Field(default=3600, ge=60)
    # How long an action's answer may wait on queued work before it says "still working" (Frame.io
    # waits 10 s in all).
    autostack_action_wait_s: float = Field(default=5.0, ge=0, le=8)

    autostack_log_format: Literal["json", "text"] = "json"
    # Where `autostack serve` publishes /metrics (host:port), apart from the public webhook port;
    # empty: no metrics listener. Kubernetes sets 0.0.0.0:9464 so Prometheus can scrape the pod.
    autostack_metrics_address: str = "127.0.0.1:9464"
    autostack_rules: Path | None = None
    autostack_dry_run: bool = False
    autostack_queue: str = Field(default="autostack", min_length=1)
    autostack_event_types: Annotated[tuple[str, ...], NoDecode] = DEFAULT_EVENT_TYPES
    # Scope: when non-empty, only events from these projects are acted upon.
    autostack_projects: Annotated[tuple[str, ...], NoDecode] = ()
    # Scope by folder: ids, or paths from the project's root ("/Dailies"); empty = everywhere.
    autostack_folders: Annotated[tuple[str, ...], NoDecode] = ()
    autostack_max_body_bytes: int = Field(default=256 * 1024, gt=0)
    autostack_timestamp_tolerance_s: int = Field(default=300, gt=0)
    autostack_dedupe_ttl_s: int = Field(default=24 * 3600, gt=0)
    autostack_job_timeout_s: int = Field(default=120, gt=0)
    autostack_worker_ttl_s: int = Field(default=35, ge=10)
    autostack_maintenance_interval_s: int = Field(default=30, ge=5)
    # How long past its last heartbeat a running job waits before it counts as abandoned (RQ: 60).
    autostack_abandoned_grace_s: int = Field(default=5, ge=5, le=600)
    # A running job's heartbeat: every this many seconds (RQ: a third of the worker TTL).
    autostack_job_heartbeat_s: int = Field(default=2, ge=1, le=60)
    # Every worker looks for due jobs this often; one holds the lease to move them, for this long
    # unless renewed (a dead holder's lease is taken over within it).
    autostack_due_interval_s: float = Field(default=0.5, gt=0, le=10)
    autostack_due_lease_s: int = Field(default=3, ge=1, le=60)
    # A worker that cannot reach Redis retries with backoff for this long, then exits (its
    # supervisor restarts it).
    autostack_redis_away_s: float = Field(default=60.0, ge=0)
    # The worker stamps this file each time it reached Redis; `autostack worker --alive` fails when
    # the stamp is older than AUTOSTACK_LIVENESS_S (the liveness probe). Empty: no stamp.
    autostack_liveness_file: str = ""
    autostack_liveness_s: float = Field(default=20.0, gt=0)
    autostack_web_redis_timeout_s: float = Field(default=0.4, gt=0)
    autostack_not_ready_retry_s: int = Field(default=10, gt=0)
    autostack_decision_log_max: int = Field(default=100_000, gt=0)
    # How long `autostack explain --file` can look back: a file's decisions are kept this many
    # days after its last one (its cost per upload per day: README, Performance).
    autostack_decision_retention_days: int = Field(default=90, ge=1, le=3650)
    # Versions of one group arriving within this window are stacked by one create (0 = off).
    autostack_coalesce_window_s: float = Field(default=2.0, ge=0, le=60)
    # Deliveries go to the account's inbox, decided by one drain job per account a folder at a
    # time; false: one job per delivery, each reading its own file.
    autostack_inbox: bool = True
    # While a folder still receives files, a group smaller than its largest waits at most this long.
    autostack_burst_hold_s: float = Field(default=30.0, ge=0, le=600)
    # A group lock's lease: renewed every third of it while its holder lives; a dead holder's
    # group is free again this soon.
    autostack_lock_timeout_s: float = Field(default=6.0, ge=1)
    # The same version number twice: "stack" puts the later upload above, "decline" leaves it out.
    autostack_duplicate_versions: Literal["stack", "decline"] = "stack"
    # Only video with video, image with image, audio with audio.
    autostack_separate_media_kinds: bool = True
    # The shared rate limiter: on by default with Frame.io's documented numbers; overrides as
    # "create_stack=10/60,show_file=10/1"; the scale shrinks every window (benchmarks, tests).
    # The reconciliation sweep: every interval, re-scan the folders seen within the lookback.
    autostack_sweep_interval_s: float = Field(default=300.0, ge=0)
    autostack_sweep_lookback_s: float = Field(default=3600.0, gt=0)
    # How long a folder listing is shared by the workers (0 = never shared).
    autostack_listing_cache_s: float = Field(default=5.0, ge=0, le=300)
    autostack_rate_limiter: bool = True
    autostack_rate_limits: str = ""
    autostack_rate_window_scale: float = Field(default=1.0, gt=0, le=100)
    # Multiplies the retry policy's waits. Frame.io asks for >= 30 s after a 5xx: keep 1 in
    # production; tests and benchmarks shrink it.
    autostack_retry_scale: float = Field(default=1.0, gt=0, le=1)
    autostack_max_inline_wait_s: float = Field(default=2.0, ge=0, le=30)

    @model_validator(mode="before")
    @classmethod
    def _read_accounts(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        given = data.get("frameio_accounts_file")
        if given is None or (isinstance(given, str) and not given.strip()):
            return data  # unset (`FRAMEIO_ACCOUNTS_FILE=` too): the default credential only
        return {**data, "frameio_accounts": read_accounts_file(Path(given))}

    @field_validator(
        "frameio_token",
        "frameio_client_id",
        "frameio_client_secret",
        "autostack_rules",
        "frameio_auth",
        "frameio_accounts_file",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # `FRAMEIO_TOKEN=` in an env file means "not set", not "an empty token".
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator(
        "frameio_webhook_secrets",
        "frameio_action_secrets",
        "autostack_event_types",
        "autostack_projects",
        "autostack_folders",
        mode="before",
    )
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("autostack_rate_limits")
    @classmethod
    def _limits(cls, value: str) -> str:
        parse_limits(value)  # raises ValueError naming the bad entry
        return value

    @field_validator("frameio_base_url", "frameio_ims_url", "frameio_redirect_uri")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("autostack_metrics_address")
    @classmethod
    def _metrics_address(cls, value: str) -> str:
        value = value.strip()
        if value:
            metrics_listen(value)  # raises ValueError naming what is wrong
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str) -> str:
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @model_validator(mode="after")
    def _client_credentials_come_in_pairs(self) -> Settings:
        if self.frameio_auth == "user":
            if self.frameio_client_id is None:
                raise ValueError("FRAMEIO_AUTH=user needs FRAMEIO_CLIENT_ID (the IMS OAuth client's id)")
        elif (self.frameio_client_id is None) != (self.frameio_client_secret is None):
            raise ValueError("FRAMEIO_CLIENT_ID and FRAMEIO_CLIENT_SECRET must be set together")
        if self.frameio_auth == "static" and self.frameio_token is None:
            raise ValueError("FRAMEIO_AUTH=static needs FRAMEIO_TOKEN")
        if self.frameio_auth == "server_to_server" and self.frameio_client_id is None:
            raise ValueError("FRAMEIO_AUTH=server_to_server needs FRAMEIO_CLIENT_ID and FRAMEIO_CLIENT_SECRET")
        return self

    def auth_mode(self) -> AuthMode:
        """How autostack signs in: FRAMEIO_AUTH, else inferred (a token, else server-to-server);
        :class:`ConfigError` when nothing to sign in with is set."""
        mode = self.default_auth()
        if mode is None:
            raise ConfigError(NO_CREDENTIALS)
        return mode

    def default_auth(self) -> AuthMode | None:
        """The default credential's kind (the one for accounts the accounts file does not name);
        None when none is set."""
        if self.frameio_auth is not None:
            return self.frameio_auth
        if self.frameio_token is not None:
            return "static"
        if self.frameio_client_id is not None:
            return "server_to_server"
        return None

    def has_credential_for(self, account_id: str) -> bool:
        """Whether calls in ``account_id`` have a credential: its row of the accounts file, or the default."""
        return account_id in self.frameio_accounts or self.default_auth() is not None

    def declines_account(self, account_id: str) -> bool:
        """Whether the web tier declines ``account_id``'s deliveries: an accounts file is set, it has
        no row for the account, and no default credential is set (without a file, a missing
        credential stops the workers, and deliveries wait for them)."""
        return bool(self.frameio_accounts) and not self.has_credential_for(account_id)

    def needs_ims(self) -> bool:
        """Whether any credential (the default, an account's) signs in through Adobe IMS."""
        default = self.default_auth()
        return default not in (None, "static") or any(row.mode != "static" for row in self.frameio_accounts.values())

    @property
    def decision_retention_s(self) -> int:
        return self.autostack_decision_retention_days * 86400

    def require_webhook_secrets(self) -> None:
        if not self.frameio_webhook_secrets:
            raise ConfigError("FRAMEIO_WEBHOOK_SECRETS is not set: the webhook endpoint cannot verify deliveries")

    def require_frameio_credentials(self) -> None:
        """A credential is set: the default one, or rows in the accounts file."""
        if not self.frameio_accounts:
            self.auth_mode()

    def account_for(self, given: str | None) -> str:
        """The account a command acts on: ``--account`` when given, else FRAMEIO_ACCOUNT_ID."""
        account_id = given or self.frameio_account_id
        if not account_id:
            raise ConfigError("set --account or FRAMEIO_ACCOUNT_ID")
        return account_id


def load_settings(environ: Mapping[str, str], **overrides: object) -> Settings:
    """Build the settings from ``environ`` (the process environment, passed in) plus overrides.

    Raises :class:`ConfigError` with one line per bad variable; values are never echoed.
    """
    try:
        # The accounts' credentials come from FRAMEIO_ACCOUNTS_FILE only, never the environment.
        fields = Settings.model_fields.keys() - {"frameio_accounts"}
        lowered = {key.lower(): value for key, value in environ.items() if key.lower() in fields}
        return Settings.model_validate({**lowered, **overrides})
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None


def _describe(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors(include_input=False, include_url=False):
        where = ".".join(str(part) for part in error["loc"]).upper()
        message = error["msg"].removeprefix("Value error, ")
        lines.append(f"{where}: {message}" if where else message)
    return "; ".join(lines)
