"""Cross-site request forgery: every UI POST must carry a token bound to this browser's session.

The SameSite=Strict session cookie already keeps other sites' forms from carrying the
session; the token is a second, independent guard. It is an HMAC keyed by the HttpOnly
session token, so only a page this server rendered for this session can know it. Before
sign-in a random HttpOnly cookie stands in for the session, so the sign-in form is guarded
too (a forged sign-in could otherwise put a clinician in someone else's session).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Request, Response

from sonar.ui._session import COOKIE as SESSION_COOKIE

FIELD = "csrf_token"
PRE_SESSION_COOKIE = "sonar_pre_session"


class Forged(Exception):
    """A POST without this session's token: refused before anything is written."""


def _key(request: Request) -> str | None:
    return request.cookies.get(SESSION_COOKIE) or request.cookies.get(PRE_SESSION_COOKIE)


def _sign(key: str) -> str:
    return hmac.new(key.encode(), b"sonar-ui-form", hashlib.sha256).hexdigest()


def token(request: Request) -> tuple[str, str | None]:
    """The token for this page's forms, and a new pre-session key to set (None if not needed)."""
    key = _key(request)
    if key is not None:
        return _sign(key), None
    fresh = secrets.token_urlsafe(32)
    return _sign(fresh), fresh


def remember(response: Response, request: Request, fresh: str) -> None:
    response.set_cookie(PRE_SESSION_COOKIE, fresh, path="/ui", httponly=True,
                        samesite="strict", secure=request.url.scheme == "https")


def check(request: Request, sent: str | list[str] | None) -> None:
    """Raise ``Forged`` unless ``sent`` is this session's token."""
    key = _key(request)
    if key is None or not isinstance(sent, str) or not hmac.compare_digest(sent, _sign(key)):
        raise Forged
