"""The browser session: the user's bearer token in an HttpOnly, SameSite=Strict cookie.

HttpOnly keeps the token from page scripts; SameSite=Strict means another site cannot
make the browser post a form here with it (the UI's defence against cross-site forgery).
The claims are read only to label pages ("my caseload"); the API verifies the token.
"""

from __future__ import annotations

from dataclasses import dataclass

import jwt
from fastapi import Request, Response

COOKIE = "sonar_session"


@dataclass(frozen=True)
class SessionUser:
    """Who the token says is signed in: for display and defaults, never for authorisation."""

    token: str
    actor_id: str
    role: str
    site: str


def current_user(request: Request) -> SessionUser | None:
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    return SessionUser(token, str(claims.get("sub", "")), str(claims.get("role", "")),
                       str(claims.get("site", "")))


def start(response: Response, request: Request, token: str, seconds: int) -> None:
    response.set_cookie(COOKIE, token, max_age=seconds, path="/ui", httponly=True,
                        samesite="strict", secure=request.url.scheme == "https")


def end(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/ui", httponly=True, samesite="strict")
