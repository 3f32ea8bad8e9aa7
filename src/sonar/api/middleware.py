"""The API's two request-wide layers, as plain ASGI (no per-request task group or stream,
which Starlette's ``BaseHTTPMiddleware`` costs on every request):

- ``RequestContext`` (outermost): correlation id, the declared body size, one log line per
  request, and a store failure anywhere below answered as a retryable 503 problem;
- ``BodySizeLimit``: bodies cut off once past the limit, chunked uploads included;
- ``Authenticate``: a valid bearer token on every non-public path (401 otherwise), and, for
  reads of identifiable data, the access log written *before* the response leaves: the
  response is held until the entry is stored, so nothing is ever served unaudited.
"""

from __future__ import annotations

import time
from uuid import uuid4

import structlog
from fastapi import HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sonar.api.errors import BODY_TOO_LARGE, STORE_ERRORS, problem, store_problem
from sonar.api.security import TOKEN_URL, PendingAccess, is_public, log_access
from sonar.auth.tokens import TokenRefused, TokenService

log = structlog.get_logger("sonar.http")


class RequestContext:
    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app, self.max_body_bytes = app, max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        correlation_id = request.headers.get("x-correlation-id", "")[:100] or uuid4().hex
        request.state.correlation_id = correlation_id
        structlog.contextvars.bind_contextvars(correlation_id=correlation_id)
        started = time.perf_counter()
        status: list[int] = []

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
                MutableHeaders(scope=message)["X-Correlation-Id"] = correlation_id
            await send(message)

        try:
            length = request.headers.get("content-length")
            if length and length.isdigit() and int(length) > self.max_body_bytes:
                await problem(request, 413, "http.413", "Request body too large",
                              f"Bodies are limited to {self.max_body_bytes} bytes."
                              )(scope, receive, send_with_id)
            else:
                try:
                    await self.app(scope, receive, send_with_id)
                except STORE_ERRORS as exc:
                    if status:  # too late to answer differently
                        raise
                    # Raised past the app's own handlers (e.g. writing the access log):
                    # still a retryable 503, never a 500.
                    await store_problem(request, exc)(scope, receive, send_with_id)
        finally:
            route = scope.get("route")
            log.info("request", method=request.method,
                     route=getattr(route, "path", "unmatched"),
                     status=status[0] if status else 500,
                     ms=round((time.perf_counter() - started) * 1000, 1))
            structlog.contextvars.clear_contextvars()


class Authenticate:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_public(scope["path"]):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            await problem(request, 401, "auth.token_required", "Sign in first",
                          f"Send 'Authorization: Bearer <token>'; get a token from "
                          f"{TOKEN_URL}.")(scope, receive, send)
            return
        tokens: TokenService = request.app.state.tokens
        try:
            principal = await run_in_threadpool(tokens.verify, token.strip())
        except TokenRefused as refused:
            log.info("token_refused", rule=refused.rule)
            await problem(request, 401, refused.rule, "Sign in again",
                          refused.detail)(scope, receive, send)
            return
        request.state.principal = principal
        structlog.contextvars.bind_contextvars(actor_id=principal.actor.actor_id,
                                               role=principal.actor.role)
        held: list[Message] = []  # the response of an audited read, until it is logged
        failed: list[Exception] = []

        async def audited_send(message: Message) -> None:
            pending: PendingAccess | None = getattr(request.state, "access", None)
            if pending is None:
                await send(message)
                return
            held.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                try:
                    out = await _audited(request, held, pending)
                except Exception as exc:  # raised after the app: it must not handle it
                    failed.append(exc)
                    return
                for message_out in out:
                    await send(message_out)

        await self.app(scope, receive, audited_send)
        if failed:  # not logged, so not served: RequestContext answers (503 for the store)
            raise failed[0]


async def _audited(request: Request, messages: list[Message],
                   pending: PendingAccess) -> list[Message]:
    """Append the access-log entry for a held response, then give its messages back."""
    start = messages[0]
    body = b"".join(m.get("body", b"") for m in messages[1:])
    headers = Headers(raw=list(start.get("headers", [])))
    await log_access(request, int(start["status"]), headers.get("content-type", ""), body,
                     pending)  # raises if the log cannot be written: nothing sent yet
    return [start, {"type": "http.response.body", "body": body, "more_body": False}]


class BodyTooLarge(HTTPException):
    """Raised while a body is read past the limit: answered as a 413 problem (api.errors)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"Bodies are limited to {limit} bytes.")


class BodySizeLimit:
    """Refuse request bodies over ``limit`` bytes, however they are sent.

    A declared Content-Length is checked up front (``RequestContext``); this also cuts off a
    chunked upload, which has none, as soon as the bytes received pass the limit, so no
    endpoint ever buffers more than that.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    # Flagged too: a framework layer may re-wrap the exception on its way out.
                    scope[BODY_TOO_LARGE] = self.limit
                    raise BodyTooLarge(self.limit)
            return message

        await self.app(scope, limited, send)
