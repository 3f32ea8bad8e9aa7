"""A patient's access controls: break-glass, family notification consent, sharing dissent."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request, Response

from sonar.api.deps import AppDep, ContextDep
from sonar.api.responses import accepted
from sonar.api.schemas.access import (
    BreakGlassCreate,
    BreakGlassGranted,
    FamilyNotificationConsentCreate,
    FamilyNotificationConsentRevoke,
    SharingDissentCreate,
)
from sonar.api.schemas.common import CommandAccepted
from sonar.commands import access
from sonar.config import Settings

router = APIRouter(prefix="/api/v1/patients/{patient_id}", tags=["access"])


@router.post("/break-glass", status_code=201,
             summary="Open a record without a relationship, for a stated reason (reviewed)")
def break_glass(patient_id: UUID, body: BreakGlassCreate, request: Request, app: AppDep,
                ctx: ContextDep, response: Response) -> BreakGlassGranted:
    settings: Settings = request.app.state.settings
    result = access.break_glass(app, replace(ctx, purpose_of_use="break_glass"), patient_id,
                                body.reason, settings.break_glass_hours)
    accepted(result, response)
    until = app.get_record(patient_id).break_glass_grants[ctx.actor.actor_id]
    return BreakGlassGranted(patient_id=str(patient_id), position=result.position,
                             expires_at=until.isoformat())


@router.get("/sharing", summary="The patient's consents and dissents about sharing")
def get_sharing(patient_id: UUID, app: AppDep) -> dict[str, Any]:
    record = app.get_record(patient_id)
    return {"patient_id": str(patient_id),
            "family_notification_consents": [
                {"family_member": member, "relationship": c.relationship,
                 "contact_channel": c.channel, "contact_address": c.address,
                 "delivered_by": c.delivered_by}
                for member, c in record.family_notification_consents.items()],
            "sharing_dissents": list(record.sharing_dissents)}


@router.post("/sharing/family-notification-consents", status_code=201,
             summary="Record consent to notify a named family member")
def record_family_consent(patient_id: UUID, body: FamilyNotificationConsentCreate,
                          app: AppDep, ctx: ContextDep, response: Response) -> CommandAccepted:
    return accepted(access.record_family_notification_consent(
        app, ctx, patient_id, body.family_member, body.relationship, body.contact_channel,
        body.contact_address), response)


@router.post("/sharing/family-notification-consents/revocations", status_code=201,
             summary="Revoke consent to notify a named family member")
def revoke_family_consent(patient_id: UUID, body: FamilyNotificationConsentRevoke,
                          app: AppDep, ctx: ContextDep, response: Response) -> CommandAccepted:
    return accepted(access.revoke_family_notification_consent(
        app, ctx, patient_id, body.family_member), response)


@router.post("/sharing/dissents", status_code=201,
             summary="Record the patient's dissent to share with an organisation")
def record_dissent(patient_id: UUID, body: SharingDissentCreate, app: AppDep, ctx: ContextDep,
                   response: Response) -> CommandAccepted:
    return accepted(access.record_sharing_dissent(app, ctx, patient_id, body.organisation),
                    response)


@router.post("/sharing/dissents/withdrawals", status_code=201,
             summary="Withdraw a dissent to share with an organisation")
def withdraw_dissent(patient_id: UUID, body: SharingDissentCreate, app: AppDep,
                     ctx: ContextDep, response: Response) -> CommandAccepted:
    return accepted(access.withdraw_sharing_dissent(app, ctx, patient_id, body.organisation),
                    response)
