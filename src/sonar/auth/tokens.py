"""Bearer tokens: SONAR's own short-lived HS256 JWTs, and optionally an OIDC issuer's RS256.

The algorithm a token may use is chosen by its issuer, never by its header: SONAR's own
tokens are HS256 with SONAR_AUTH_SECRET; OIDC tokens are RS256 with a key from the
issuer's JWKS. A token claiming any other algorithm is refused.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any
from uuid import uuid4

import jwt
import structlog

from sonar.auth.users import User
from sonar.config import Settings
from sonar.domain.attribution import Actor
from sonar.domain.errors import InvalidValue

ISSUER = "sonar"
AUDIENCE = "sonar-api"
log = structlog.get_logger("sonar.auth")
WallClock = Callable[[], datetime]


class TokenRefused(Exception):
    """The token is missing, malformed, expired, forged or from an unknown issuer."""

    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(detail)
        self.rule, self.detail = rule, detail


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: the actor their actions are attributed to."""

    actor: Actor
    username: str
    patient_id: str | None = None
    issuer: str = ISSUER


@cache
def _process_secret() -> str:
    # Development only: tokens die with the process, which is the point of a dev secret.
    log.warning("auth_secret_generated",
                detail="SONAR_AUTH_SECRET is not set; tokens are signed with a random "
                       "per-process secret and will not survive a restart")
    return secrets.token_urlsafe(48)


def signing_secret(settings: Settings) -> str:
    """The configured secret, or (development only; production refuses to start) a random one."""
    if settings.auth_secret is not None:
        return settings.auth_secret.get_secret_value()
    return _process_secret()


def _wall_now() -> datetime:
    return datetime.now(UTC)


class TokenService:
    """Issues SONAR's own tokens and verifies both kinds.

    Token time is wall-clock time (a security boundary), not the application's clinical
    clock, which tests move by hand.
    """

    def __init__(self, settings: Settings, clock: WallClock = _wall_now) -> None:
        self.secret = signing_secret(settings)
        self.lifetime = timedelta(minutes=settings.auth_token_minutes)
        self.clock = clock
        self.oidc_issuer, self.oidc_audience = settings.oidc_issuer, settings.oidc_audience
        self._jwks = (jwt.PyJWKClient(settings.oidc_jwks_url, cache_keys=True, lifespan=300,
                                      timeout=5)
                      if settings.oidc_jwks_url else None)

    def issue(self, user: User) -> tuple[str, int]:
        """A signed token for the user, and its lifetime in seconds."""
        now = self.clock()
        claims: dict[str, Any] = {
            "iss": ISSUER, "aud": AUDIENCE, "sub": user.actor_id, "username": user.username,
            "role": user.role, "org": user.organisation, "site": user.site,
            "iat": now, "nbf": now, "exp": now + self.lifetime, "jti": uuid4().hex}
        if user.patient_id:
            claims["patient_id"] = user.patient_id
        return (jwt.encode(claims, self.secret, algorithm="HS256"),
                int(self.lifetime.total_seconds()))

    def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise TokenRefused("auth.token_malformed", "The bearer token is not a JWT.") from None
        alg = header.get("alg")
        try:
            if alg == "HS256":
                claims = jwt.decode(token, self.secret, algorithms=["HS256"], audience=AUDIENCE,
                                    issuer=ISSUER, options={"require": ["exp", "iat", "sub"]})
            elif alg == "RS256" and self._jwks is not None:
                key = self._jwks.get_signing_key_from_jwt(token)
                claims = jwt.decode(token, key.key, algorithms=["RS256"],
                                    audience=self.oidc_audience, issuer=self.oidc_issuer,
                                    options={"require": ["exp", "iat", "sub"]})
            else:
                raise TokenRefused("auth.token_algorithm",
                                   "The bearer token's signing algorithm is not accepted.")
        except jwt.ExpiredSignatureError:
            raise TokenRefused("auth.token_expired",
                               "The bearer token has expired; sign in again.") from None
        except jwt.PyJWKClientError:
            raise TokenRefused("auth.token_key_unknown",
                               "The token's signing key is not published by the issuer.") from None
        except jwt.PyJWTError:
            raise TokenRefused("auth.token_invalid",
                               "The bearer token is not valid (signature, issuer, audience "
                               "or times).") from None
        return _principal(claims)


def _principal(claims: dict[str, Any]) -> Principal:
    """Map claims (ours or an OIDC issuer's: role, org, site) to the acting user."""
    try:
        actor = Actor(str(claims["sub"]), str(claims.get("role", "")),
                      str(claims.get("org", "")), str(claims.get("site", "")))
    except InvalidValue as e:
        raise TokenRefused("auth.token_claims",
                           f"The token's claims do not name a SONAR user: {e.message}") from None
    patient = claims.get("patient_id")
    return Principal(actor, str(claims.get("username") or claims["sub"]),
                     str(patient) if patient else None, str(claims.get("iss", "")))
