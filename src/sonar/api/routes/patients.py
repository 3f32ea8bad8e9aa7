"""Patients: look up by NHS number, and the whole record from the write model."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from sonar.api.deps import AppDep, TodayDep
from sonar.api.schemas.care_record import CareRecordDetail
from sonar.api.schemas.records import PatientMatches
from sonar.domain.identity import NhsNumber
from sonar.readmodels.record_view import record_view

router = APIRouter(prefix="/api/v1/patients", tags=["patients"])


@router.get("", summary="Find a patient by NHS number")
def find_patient(app: AppDep,
                 nhs_number: Annotated[str, Query(max_length=20)]) -> PatientMatches:
    patient_id = app.find_by_nhs_number(NhsNumber(nhs_number))
    return PatientMatches(patient_ids=[patient_id] if patient_id else [])


@router.get("/{patient_id}", summary="The care record as it stands now")
def get_record(patient_id: UUID, app: AppDep, today: TodayDep) -> CareRecordDetail:
    return CareRecordDetail.model_validate(record_view(app.get_record(patient_id), today))
