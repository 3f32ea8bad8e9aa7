"""The UI's only door to data: the public API, called in-process over HTTP.

Pages never touch the application or the read models: they call the same endpoints any
client would, with the signed-in user's bearer token, so the API's authentication,
authorisation, validation and access logging apply to every page exactly as to any client.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.types import ASGIApp

_BASE = "http://sonar.internal"  # never resolved: the transport calls the app directly


@dataclass(frozen=True)
class FieldProblem:
    """One problem from an API answer: the API's field name (or None) and its message."""

    field: str | None
    message: str


@dataclass(frozen=True)
class ApiAnswer:
    """An API response, decoded: status, JSON body, and any problem details."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def title(self) -> str:
        return str(self.body.get("title", "")) if isinstance(self.body, dict) else ""

    @property
    def detail(self) -> str:
        return str(self.body.get("detail", "")) if isinstance(self.body, dict) else ""

    def problems(self) -> list[FieldProblem]:
        """RFC 9457 ``errors[]`` as field problems; the detail alone when there are none."""
        errors = self.body.get("errors") if isinstance(self.body, dict) else None
        if isinstance(errors, list) and errors:
            return [FieldProblem(_field_name(e), str(e.get("detail") or self.title))
                    for e in errors if isinstance(e, dict)]
        return [FieldProblem(None, self.detail or self.title or f"Error {self.status}")]


def _field_name(error: dict[str, Any]) -> str | None:
    name = error.get("field")
    return str(name) if isinstance(name, str) and name else None


class Api:
    """The API as one signed-in user (or anonymously, to sign in)."""

    def __init__(self, app: ASGIApp, token: str | None = None) -> None:
        self._app = app
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self._app), base_url=_BASE,
                                 headers=self._headers, timeout=30.0)

    async def get(self, path: str, params: dict[str, Any] | None = None) -> ApiAnswer:
        async with self._client() as client:
            return _answer(await client.get(path, params=_drop_none(params or {})))

    async def items(self, path: str, params: dict[str, Any] | None = None,
                    most: int = 2000) -> tuple[ApiAnswer, list[Any]]:
        """Every item of a paged list (up to ``most``); the first refusal ends the walk."""
        found: list[Any] = []
        query = {**(params or {}), "limit": 500, "offset": 0}
        while True:
            answer = await self.get(path, query)
            if not answer.ok:
                return answer, found
            found += answer.body.get("items", [])
            following = answer.body.get("next_offset")
            if following is None or len(found) >= most:
                return answer, found[:most]
            query["offset"] = following

    async def post(self, path: str, body: dict[str, Any]) -> ApiAnswer:
        async with self._client() as client:
            return _answer(await client.post(path, json=body))

    async def sign_in(self, username: str, password: str) -> ApiAnswer:
        async with self._client() as client:
            return _answer(await client.post("/api/v1/auth/token",
                                             data={"username": username, "password": password}))


def _drop_none(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if v not in (None, "")}


def _answer(response: httpx.Response) -> ApiAnswer:
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    return ApiAnswer(response.status_code, body, dict(response.headers))
