"""Sign-in: the OAuth2 password flow issuing SONAR's short-lived bearer tokens."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import structlog
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from sonar.api.errors import ProblemError
from sonar.api.schemas.access import TokenIssued
from sonar.auth.tokens import TokenService
from sonar.auth.users import UserDirectory

router = APIRouter(prefix="/api/v1/auth", tags=["authentication"])
log = structlog.get_logger("sonar.auth")
_FORM = {"application/x-www-form-urlencoded": {"schema": {
    "type": "object", "required": ["username", "password"],
    "properties": {"grant_type": {"type": "string", "enum": ["password"]},
                   "username": {"type": "string", "minLength": 1, "maxLength": 100},
                   "password": {"type": "string", "minLength": 1, "maxLength": 1000}}}}}


async def _fields(request: Request) -> dict[str, str]:
    """Form fields (the OAuth2 standard), or a JSON object for convenience."""
    raw = await request.body()
    try:
        if request.headers.get("content-type", "").startswith("application/json"):
            data = json.loads(raw)
            return {k: v for k, v in data.items() if isinstance(v, str)} if isinstance(
                data, dict) else {}
        return {k: v[0] for k, v in parse_qs(raw.decode(), max_num_fields=10).items()}
    except (ValueError, UnicodeDecodeError):
        return {}


@router.post("/token", summary="Sign in (OAuth2 password flow) for a short-lived bearer token",
             openapi_extra={"requestBody": {"required": True, "content": _FORM}},
             responses={400: {"description": "A grant type other than password, or a body "
                                             "that could not be read."},
                        401: {"description": "Wrong username or password."}})
async def issue_token(request: Request) -> TokenIssued:
    fields = await _fields(request)
    if fields.get("grant_type", "password") != "password":
        raise ProblemError(400, "auth.unsupported_grant_type", "Unsupported grant type",
                           "Only grant_type=password is supported here.")
    username, password = fields.get("username", ""), fields.get("password", "")
    if not username or not password or len(username) > 100 or len(password) > 1000:
        raise ProblemError(422, "auth.credentials_required", "Give a username and password",
                           "Send username and password as form fields.",
                           errors=[{"field": f, "in": "body", "rule": "auth.credentials_required",
                                    "detail": "required"} for f in ("username", "password")
                                   if not fields.get(f)])
    users: UserDirectory = request.app.state.users
    user = await run_in_threadpool(users.authenticate, username, password)
    if user is None:
        log.info("sign_in_refused")  # no username: it may be a mistyped password
        raise ProblemError(401, "auth.invalid_credentials", "Sign-in refused",
                           "The username or password is wrong, or the account is disabled.")
    tokens: TokenService = request.app.state.tokens
    token, seconds = tokens.issue(user)
    log.info("signed_in", actor_id=user.actor_id, role=user.role)
    return TokenIssued(access_token=token, expires_in=seconds)
