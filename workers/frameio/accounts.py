"""One credential per Frame.io account: :class:`AccountTokens` answers the token source of an
account (its own row of ``FRAMEIO_ACCOUNTS_FILE``, else the default credential).

:class:`~workers.frameio.client.FrameioClient` asks it before every call with the call's account,
so a 401 invalidates only that account's token, and an account with no credential at all fails
the call with :class:`NoCredential` (permanent: nothing is sent, no retry can help).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from workers.frameio.errors import PermanentError

TokenSource = Callable[[], str]


class NoCredential(PermanentError):
    """No credential for the account: the accounts file has no row for it and no default is set."""

    code = "no-credential"

    def __init__(self, account_id: str) -> None:
        super().__init__("credentials", None, f"no Frame.io credential for account {account_id}")
        self.account_id = account_id


class AccountTokens:
    """The token source of each account, with a default for the accounts it does not name."""

    __slots__ = ("_accounts", "_default")

    def __init__(self, default: TokenSource | None, accounts: Mapping[str, TokenSource] | None = None) -> None:
        self._default = default
        self._accounts = dict(accounts or {})

    def __call__(self, account_id: str) -> TokenSource:
        found = self._accounts.get(account_id, self._default)
        if found is None:
            raise NoCredential(account_id)
        return found

    def covers(self, account_id: str) -> bool:
        """Whether a call in ``account_id`` has a credential to send."""
        return self._default is not None or account_id in self._accounts

    @property
    def accounts(self) -> tuple[str, ...]:
        """The accounts with a credential of their own."""
        return tuple(self._accounts)

    def __repr__(self) -> str:  # the sources' own reprs hide their secrets; only ids here
        return f"AccountTokens(accounts={sorted(self._accounts)!r}, default={self._default is not None})"
