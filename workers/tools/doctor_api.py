"""The doctor's view of Frame.io: a request answers its status and JSON body, and never raises on a
4xx or 5xx, because the doctor reads status codes as data (which refusal is itself the answer).

The stacking client (:class:`workers.frameio.client.FrameioClient`) maps every status to an
exception and knows only the endpoints the workers call; the doctor also needs ``/me``, projects,
workspaces, webhooks, folders, uploads and a header of its own, so it has this thin caller on the
same base URL, token source and transport.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from workers.frameio.accounts import TokenSource
from workers.frameio.client import fresh_token
from workers.frameio.errors import TransportError

MAX_PAGES = 20


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def data(self) -> dict[str, Any]:
        """The ``data`` object, or ``{}``."""
        found = self.body.get("data")
        return found if isinstance(found, dict) else {}

    def items(self) -> list[dict[str, Any]]:
        """The ``data`` list's objects, or ``[]``."""
        found = self.body.get("data")
        return [item for item in found if isinstance(item, dict)] if isinstance(found, list) else []

    def next_cursor(self) -> str | None:
        links = self.body.get("links")
        link = links.get("next") if isinstance(links, dict) else None
        cursor = parse_qs(urlsplit(link).query).get("after") if isinstance(link, str) else None
        return cursor[0] if cursor else None


class Api:
    """One request at a time to ``{base_url}/v4``; a 401 is retried once with a fresh token."""

    def __init__(
        self, base_url: str, token: TokenSource, *, transport: httpx.BaseTransport | None = None, timeout: float = 10.0
    ) -> None:
        self._token = token
        self._http = httpx.Client(
            base_url=base_url.rstrip("/") + "/v4",
            transport=transport,
            timeout=timeout,
            headers={"user-agent": "autostack-doctor/0.1", "accept": "application/json"},
            follow_redirects=False,
        )

    def close(self) -> None:
        self._http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        """``path`` below ``/v4``; raises :class:`TransportError` when Frame.io does not answer."""
        token = self._token()
        answer = self._send(method, path, json, params, {**(headers or {}), "authorization": f"Bearer {token}"})
        fresh = fresh_token(self._token, token) if answer.status == 401 else None
        if fresh is not None:
            answer = self._send(method, path, json, params, {**(headers or {}), "authorization": f"Bearer {fresh}"})
        return answer

    def listing(self, path: str, params: dict[str, str] | None = None) -> tuple[int, list[dict[str, Any]]]:
        """Every item of a paged listing, with the status of the first refused page (or 200)."""
        items: list[dict[str, Any]] = []
        after: str | None = None
        for _ in range(MAX_PAGES):
            answer = self.request("GET", path, params={**(params or {}), **({"after": after} if after else {})})
            if not answer.ok:
                return answer.status, items
            items += answer.items()
            after = answer.next_cursor()
            if after is None:
                break
        return 200, items

    def put(self, url: str, content: bytes, headers: dict[str, str]) -> int:
        """A PUT of bytes to a pre-signed upload URL (absolute, no token); answers the status."""
        try:
            return self._http.put(url, content=content, headers=headers).status_code
        except httpx.HTTPError as exc:
            raise TransportError("upload_part", None, type(exc).__name__) from None

    def _send(
        self,
        method: str,
        path: str,
        payload: dict[str, Any] | None,
        params: dict[str, str] | None,
        headers: dict[str, str],
    ) -> Answer:
        try:
            response = self._http.request(method, path, json=payload, params=params, headers=headers)
        except httpx.HTTPError as exc:
            raise TransportError(f"{method} {path}", None, type(exc).__name__) from None
        try:
            body = response.json() if response.content else {}
        except ValueError:
            body = {}
        return Answer(response.status_code, body if isinstance(body, dict) else {})
