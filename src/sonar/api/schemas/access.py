"""Request and response models for sign-in, break-glass, consent, dissent and the access log."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

_STRICT = ConfigDict(extra="forbid", strict=True)


class TokenIssued(BaseModel):
    """An OAuth2 bearer token (RFC 6749 section 5.1)."""

    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int = Field(description="Seconds until the token expires.")


class BreakGlassCreate(BaseModel):
    model_config = _STRICT
    reason: str = Field(min_length=10, max_length=1000,
                        description="Why the record must be opened now; reviewed afterwards.")


class BreakGlassGranted(BaseModel):
    patient_id: str
    position: int
    expires_at: str


class FamilyNotificationConsentCreate(BaseModel):
    model_config = _STRICT
    family_member: str = Field(min_length=1, max_length=200, description="Named person.")
    relationship: str = Field(min_length=1, max_length=100)
    contact_channel: str = Field(description="phone, text_message, email, letter, in_person")
    contact_address: str | None = Field(
        None, max_length=300, description="Email address, phone number or postal address "
        "for the channel (required except for in_person).")


class FamilyNotificationConsentRevoke(BaseModel):
    model_config = _STRICT
    family_member: str = Field(min_length=1, max_length=200)


class SharingDissentCreate(BaseModel):
    model_config = _STRICT
    organisation: str = Field(min_length=1, max_length=100,
                              description="The agency the patient does not want to share with.")
