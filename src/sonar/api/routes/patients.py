"""Patients: look up by NHS number, and the whole record from the write model."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query

from sonar.api.deps import AppDep, TodayDep
from sonar.domain.identity import NhsNumber
from sonar.readmodels.record_view import record_view

router = APIRouter(prefix="/api/v1/patients", tags=["patients"])


@router.get("", summary="Find a patient by NHS number")
def find_patient(app: AppDep,
                 nhs_number: Annotated[str, Query(max_length=20)]) -> dict[str, list[str]]:
    patient_id = app.find_by_nhs_number(NhsNumber(nhs_number))
    return {"patient_ids": [str(patient_id)] if patient_id else []}


@router.get("/{patient_id}", summary="The care record as it stands now")
def get_record(patient_id: UUID, app: AppDep, today: TodayDep) -> dict[str, Any]:
    return record_view(app.get_record(patient_id), today)
