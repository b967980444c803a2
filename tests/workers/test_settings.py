"""FRAMEIO_ACCOUNTS_FILE: a credential per account, read once with the settings; every bad file is
one ConfigError line naming the file and the fix, without a value read from it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from workers.settings import ConfigError, load_settings

SECRET = "s3cr3t-value-never-shown"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "accounts.toml"
    path.write_text(text)
    return path


def accounts_env(path: Path, **more: str) -> dict[str, str]:
    return {"FRAMEIO_ACCOUNTS_FILE": str(path), **more}


def test_each_row_is_a_static_token_or_a_server_to_server_client(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f'[acc-one]\ntoken = "{SECRET}"\n\n[acc-two]\nclient_id = "client-2"\nclient_secret = "{SECRET}"\n',
    )
    settings = load_settings(accounts_env(path))
    one, two = settings.frameio_accounts["acc-one"], settings.frameio_accounts["acc-two"]
    assert one.mode == "static" and one.token is not None and one.token.get_secret_value() == SECRET
    assert two.mode == "server_to_server" and two.client_id == "client-2"
    assert two.client_secret is not None and two.client_secret.get_secret_value() == SECRET
    assert SECRET not in repr(settings) and SECRET not in str(settings.frameio_accounts)
    assert settings.needs_ims()  # acc-two signs in through IMS


def test_with_an_accounts_file_the_default_credential_may_be_unset(tmp_path: Path) -> None:
    settings = load_settings(accounts_env(write(tmp_path, '[acc-one]\ntoken = "t"\n')))
    settings.require_frameio_credentials()  # no ConfigError: the file holds credentials
    assert settings.default_auth() is None
    assert settings.has_credential_for("acc-one")
    assert not settings.has_credential_for("acc-unknown")
    assert not settings.needs_ims()
    with_default = load_settings(accounts_env(write(tmp_path, '[acc-one]\ntoken = "t"\n'), FRAMEIO_TOKEN="d"))
    assert with_default.has_credential_for("acc-unknown")


def test_without_a_file_nothing_changes(tmp_path: Path) -> None:
    settings = load_settings({"FRAMEIO_ACCOUNTS_FILE": " ", "FRAMEIO_TOKEN": "d"})
    assert settings.frameio_accounts == {} and settings.frameio_accounts_file is None
    with pytest.raises(ConfigError, match="set FRAMEIO_TOKEN"):
        load_settings({}).require_frameio_credentials()


def test_the_environment_cannot_set_the_accounts_themselves() -> None:
    assert load_settings({"FRAMEIO_ACCOUNTS": '{"acc": {"token": "t"}}'}).frameio_accounts == {}


BAD = {
    "bad TOML": (f"[acc]\ntoken = {SECRET}\n", "is not valid TOML at line 2"),
    "empty": ("", "names no account"),
    "a value, not a table": (f'acc = "{SECRET}"\n', "'acc' is a value, not a table"),
    "neither kind": ("[acc]\n", "has neither a token nor a client"),
    "both kinds": (f'[acc]\ntoken = "{SECRET}"\nclient_id = "c"\nclient_secret = "{SECRET}"\n', "has both"),
    "half a client": (f'[acc]\nclient_secret = "{SECRET}"\n', "needs both client_id and client_secret"),
    "an unknown key": (f'[acc]\ntoken = "{SECRET}"\nscopes = "{SECRET}"\n', "unknown key(s) scopes"),
    "an empty token": ('[acc]\ntoken = ""\n', "token must be a non-empty string"),
    "a number": ("[acc]\ntoken = 12\n", "token must be a non-empty string"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_file_is_one_line_naming_the_file_and_the_fix(tmp_path: Path, case: str) -> None:
    text, problem = BAD[case]
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(accounts_env(path))
    message = str(caught.value)
    assert f"FRAMEIO_ACCOUNTS_FILE {path}" in message and problem in message
    assert "token = " in message or "unset FRAMEIO_ACCOUNTS_FILE" in message  # the fix
    assert SECRET not in message and "\n" not in message


def test_a_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist; point FRAMEIO_ACCOUNTS_FILE"):
        load_settings(accounts_env(tmp_path / "nowhere.toml"))


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_file_says_so(tmp_path: Path) -> None:
    path = write(tmp_path, '[acc]\ntoken = "t"\n')
    path.chmod(0)
    with pytest.raises(ConfigError, match=r"cannot be read .*check the path and its permissions"):
        load_settings(accounts_env(path))
