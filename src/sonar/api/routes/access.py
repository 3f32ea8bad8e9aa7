"""A patient's sharing: family notification consents and dissents (written by commands)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from sonar.api.deps import AppDep
from sonar.api.schemas.access import SharingPreferences

router = APIRouter(prefix="/api/v1/patients/{patient_id}", tags=["access"])


@router.get("/sharing", summary="The patient's consents and dissents about sharing")
def get_sharing(patient_id: UUID, app: AppDep) -> SharingPreferences:
    record = app.get_record(patient_id)
    return SharingPreferences.model_validate({"patient_id": patient_id,
            "family_notification_consents": [
                {"family_member": member, "relationship": c.relationship,
                 "contact_channel": c.channel, "contact_address": c.address,
                 "delivered_by": c.delivered_by}
                for member, c in record.family_notification_consents.items()],
            "sharing_dissents": list(record.sharing_dissents)})
