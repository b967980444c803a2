"""The sandbox as a Starlette app: Frame.io V4 routes, upload URLs and ``/_sandbox`` controls.

``create_app(config)`` seeds the world at once (so ids can be printed before serving); the
lifespan starts the webhook delivery task and stops it, and every pending timer, at shutdown.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from sandbox import (
    ims,
    routes_actions,
    routes_control,
    routes_files,
    routes_folders,
    routes_projects,
    routes_stacks,
    routes_webhooks,
)
from sandbox.config import SandboxConfig
from sandbox.errors import error_body
from sandbox.gateway import RAW_SEND
from sandbox.runtime import Sandbox


class SandboxApp(Starlette):
    """Keeps the server's own ``send`` in the scope so a fault can drop the connection."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope[RAW_SEND] = send
        await super().__call__(scope, receive, send)


async def _not_found(request: Request, exc: Exception) -> Response:
    return JSONResponse(error_body(404, f"No route for {request.url.path}"), status_code=404)


async def _wrong_method(request: Request, exc: Exception) -> Response:
    return JSONResponse(error_body(405, f"{request.method} not allowed here"), status_code=405)


def create_app(config: SandboxConfig | None = None) -> Starlette:
    sandbox = Sandbox(config or SandboxConfig())

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await sandbox.start()
        try:
            yield
        finally:
            await sandbox.stop()

    routes = [
        *routes_files.ROUTES,
        *routes_folders.ROUTES,
        *routes_projects.ROUTES,
        *routes_stacks.ROUTES,
        *routes_webhooks.ROUTES,
        *routes_actions.ROUTES,
        *routes_control.ROUTES,
        *ims.ROUTES,
    ]
    app = SandboxApp(routes=routes, lifespan=lifespan, exception_handlers={404: _not_found, 405: _wrong_method})
    app.state.sandbox = sandbox
    return app
