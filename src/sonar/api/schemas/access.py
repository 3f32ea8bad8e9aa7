"""Models for sign-in, a patient's sharing choices, and the access log."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, Field

from sonar.api.schemas.common import Answer, Moment, code
from sonar.domain import codes


class TokenIssued(BaseModel):
    """An OAuth2 bearer token (RFC 6749 section 5.1)."""

    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int = Field(description="Seconds until the token expires.")


class FamilyNotificationConsent(Answer):
    """Consent to tell a named family member about missed appointments."""

    family_member: str
    relationship: str
    contact_channel: str
    contact_address: str | None = Field(
        description="Null for in person, or a consent recorded before addresses were asked.")
    delivered_by: str | None = Field(description="email or sms; null when not sent by SONAR.")


class SharingPreferences(Answer):
    """The patient's consents and dissents about sharing their record."""

    patient_id: UUID
    family_notification_consents: list[FamilyNotificationConsent]
    sharing_dissents: list[str] = Field(
        description="Organisations the patient does not want their record shared with.")


class AccessLogEntry(Answer):
    """One read of identifiable data: who, as what, why, which route and patients, how."""

    id: int
    at: Moment
    actor_id: str
    role: str = code(codes.ROLE, "The reader's role")
    organisation: str
    site: str
    purpose: str = Field(description="Purpose of use given (unrecognised if not a known code).")
    method: str
    route: str = Field(description="The route template read, e.g. /api/v1/patients/{patient_id}.")
    patient_ids: list[str] = Field(description="The patients read, or listed in the answer.")
    status: int = Field(description="The HTTP status answered.")
    break_glass: bool = Field(description="Whether break-glass access allowed the read.")
    correlation_id: str


class AccessLogPage(Answer):
    """Reads of identifiable data, oldest first."""

    items: list[AccessLogEntry]
    limit: int = Field(description="The most entries asked for.")
