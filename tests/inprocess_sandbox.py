"""The sandbox in-process, behind an httpx.MockTransport: unit tests talk to the same Frame.io
stand-in as the end-to-end tests, with no server and no sockets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from starlette.testclient import TestClient

from workers.frameio.client import FrameioClient


@dataclass
class InProcessSandbox:
    http: TestClient
    state: dict[str, str]

    @property
    def account(self) -> str:
        return self.state["account_id"]

    def transport(self) -> httpx.MockTransport:
        def forward(request: httpx.Request) -> httpx.Response:
            answer = self.http.request(
                request.method, request.url.raw_path.decode(), content=request.content, headers=dict(request.headers)
            )
            return httpx.Response(
                answer.status_code, headers=list(answer.headers.multi_items()), content=answer.content
            )

        return httpx.MockTransport(forward)

    def client(self) -> FrameioClient:
        return FrameioClient("http://sandbox", lambda: self.state["token"], transport=self.transport())

    def folder(self, name: str) -> str:
        path = f"/v4/accounts/{self.account}/folders/{self.state['root_folder_id']}/folders"
        answer = self.http.post(path, json={"data": {"name": name}}, headers=self.auth())
        answer.raise_for_status()
        folder_id: str = answer.json()["data"]["id"]
        return folder_id

    def upload(self, folder_id: str, name: str) -> str:
        answer = self.http.post("/_sandbox/upload", json={"folder_id": folder_id, "name": name})
        answer.raise_for_status()
        file_id: str = answer.json()["data"]["id"]
        return file_id

    def tree(self, folder_id: str) -> dict[str, Any]:
        tree: dict[str, Any] = self.http.get("/_sandbox/tree", params={"folder_id": folder_id}).json()
        return tree

    def stacks(self, folder_id: str) -> list[list[str]]:
        """Each stack's children names, top first."""
        return [[child["name"] for child in stack["children"]] for stack in self.tree(folder_id)["stacks"]]

    def calls(self, endpoint: str) -> int:
        rows = self.http.get("/_sandbox/calls").json()["calls"]
        return sum(row["count"] for row in rows if row["endpoint"] == endpoint)

    def configure(self, **knobs: Any) -> None:
        self.http.patch("/_sandbox/config", json=knobs).raise_for_status()

    def auth(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.state['token']}"}
