"""AccountTokens: each call sends its account's token, a 401 invalidates that account's token only,
an account with no credential fails without a request, and no secret shows in a repr or a log."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest
import redis
from pydantic import SecretStr

from workers import runtime
from workers.frameio.accounts import AccountTokens, NoCredential
from workers.frameio.auth import StaticToken
from workers.frameio.client import FrameioClient
from workers.frameio.errors import NotFound, PermanentError, Unauthorized, failure_code
from workers.settings import load_settings

FOLDER: dict[str, object] = {"data": [], "links": {}}


class Rotating:
    """A token source that hands out a new token after each invalidation, noting them."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.generation = 1
        self.invalidated: list[str] = []

    def __call__(self) -> str:
        return f"{self.name}-{self.generation}"

    def invalidate(self, token: str) -> None:
        self.invalidated.append(token)
        self.generation += 1


def recording(refuse: set[str]) -> tuple[list[tuple[str, str]], httpx.MockTransport]:
    """A transport answering 401 to the tokens in ``refuse``; notes (account, token) per request."""
    seen: list[tuple[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        account = request.url.path.split("/")[3]
        token = request.headers["authorization"].removeprefix("Bearer ")
        seen.append((account, token))
        return httpx.Response(401 if token in refuse else 200, json=FOLDER)

    return seen, httpx.MockTransport(handler)


def test_each_account_gets_its_own_token_and_the_rest_the_default() -> None:
    one, two, default = Rotating("one"), Rotating("two"), Rotating("default")
    seen, transport = recording(set())
    client = FrameioClient("https://f.test", AccountTokens(default, {"acc-1": one, "acc-2": two}), transport=transport)
    for account in ("acc-1", "acc-2", "acc-3"):
        client.list_folder_children(account, "folder")
    assert seen == [("acc-1", "one-1"), ("acc-2", "two-1"), ("acc-3", "default-1")]


def test_a_401_invalidates_only_that_accounts_token_and_retries_with_its_next() -> None:
    one, two = Rotating("one"), Rotating("two")
    seen, transport = recording({"one-1"})
    client = FrameioClient("https://f.test", AccountTokens(None, {"acc-1": one, "acc-2": two}), transport=transport)
    client.list_folder_children("acc-1", "folder")
    client.list_folder_children("acc-2", "folder")
    assert seen == [("acc-1", "one-1"), ("acc-1", "one-2"), ("acc-2", "two-1")]
    assert one.invalidated == ["one-1"] and two.invalidated == []


def test_an_account_without_a_credential_fails_for_good_and_sends_nothing() -> None:
    seen, transport = recording(set())
    tokens = AccountTokens(None, {"acc-1": Rotating("one")})
    client = FrameioClient("https://f.test", tokens, transport=transport)
    with pytest.raises(NoCredential) as caught:
        client.show_file("acc-9", "file")
    assert isinstance(caught.value, PermanentError) and caught.value.account_id == "acc-9"
    assert "acc-9" in str(caught.value)
    assert seen == []
    assert tokens.covers("acc-1") and not tokens.covers("acc-9") and tokens.accounts == ("acc-1",)


def test_a_refused_account_token_is_noted_for_that_account_alone(
    redis_client: redis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "account-one-secret-token"
    one = StaticToken(SecretStr(secret), redis_client, account="acc-1")
    two = StaticToken(SecretStr("account-two-token"), redis_client, account="acc-2")
    seen, transport = recording({secret})
    client = FrameioClient("https://f.test", AccountTokens(None, {"acc-1": one, "acc-2": two}), transport=transport)
    with caplog.at_level(logging.ERROR, logger="autostack.auth"), pytest.raises(Unauthorized):
        client.list_folder_children("acc-1", "folder")
    client.list_folder_children("acc-2", "folder")  # the other account's token still works
    assert ("acc-2", "account-two-token") in seen
    (line,) = [record.getMessage() for record in caplog.records]
    assert "account acc-1" in line and "FRAMEIO_ACCOUNTS_FILE" in line and secret not in line
    assert secret not in repr(one) and "acc-1" in repr(one)


def test_the_runtime_builds_a_source_per_row(tmp_path: Path, redis_client: redis.Redis) -> None:
    path = tmp_path / "accounts.toml"
    path.write_text('[acc-1]\ntoken = "row-token"\n\n[acc-2]\nclient_id = "c2"\nclient_secret = "row-secret"\n')
    settings = load_settings({"FRAMEIO_ACCOUNTS_FILE": str(path), "FRAMEIO_TOKEN": "default-token"})
    tokens = runtime.account_tokens(settings, redis_client, None)
    assert tokens("acc-1")() == "row-token"
    assert tokens("acc-3")() == "default-token"
    assert "c2" in repr(tokens("acc-2"))
    shown = repr(tokens) + repr(tokens("acc-1")) + repr(tokens("acc-2"))
    assert "row-token" not in shown and "row-secret" not in shown and "default-token" not in shown


def test_a_file_failed_for_want_of_a_credential_says_so_in_its_decision_code() -> None:
    assert failure_code(NoCredential("acct")) == "no-credential"
    assert failure_code(NotFound("show_file", 404)) == "http-404"
