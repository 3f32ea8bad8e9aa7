"""Models for sign-in."""

from __future__ import annotations

from pydantic import BaseModel, Field


class TokenIssued(BaseModel):
    """An OAuth2 bearer token (RFC 6749 section 5.1)."""

    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int = Field(description="Seconds until the token expires.")
