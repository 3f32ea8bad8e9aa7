"""The clinicians' web UI at /ui: server-rendered pages that are a client of the public API.

The UI is its own small app, dispatched to before the API's middleware: a browser carries
a session cookie rather than a bearer header, so the API's token check cannot apply to the
pages themselves. Every read and write a page makes goes back into the API with the user's
token, where authentication, authorisation and access logging apply as for any client.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from sonar.ui import _pages, _record, _reports
from sonar.ui._csrf import Forged
from sonar.ui._web import SignInNeeded, render

__all__ = ["create_ui", "mount_ui"]


def create_ui(api: ASGIApp) -> FastAPI:
    """The UI app; its pages call ``api`` in-process over HTTP."""
    ui = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    ui.state.api = api
    for pages in (_pages.router, _record.router, _reports.router):  # /patients/search first
        ui.include_router(pages)
    ui.mount("/ui/static", StaticFiles(directory=Path(__file__).with_name("static")),
             name="ui-static")

    @ui.exception_handler(SignInNeeded)
    def _sign_in(request: Request, exc: Exception) -> RedirectResponse:
        return RedirectResponse("/ui/sign-in", status_code=303)

    @ui.exception_handler(Forged)
    def _forged(request: Request, exc: Exception) -> Response:
        return render(request, "forged.html", 403)

    @ui.middleware("http")
    async def _headers(request: Request,
                       call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        # Everything is local: no CDN, no inline script, no framing of clinical pages.
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'")
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    return ui


class _Dispatch:
    """Send /ui requests to the UI app and everything else on to the API."""

    def __init__(self, app: ASGIApp, ui: ASGIApp) -> None:
        self.app = app
        self.ui = ui

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        target = self.ui if path == "/ui" or path.startswith("/ui/") else self.app
        await target(scope, receive, send)


def mount_ui(api: FastAPI) -> None:
    """Serve the UI at /ui beside ``api`` (outermost, so the pages skip the bearer check)."""
    api.add_middleware(_Dispatch, ui=create_ui(api))
