"""Patients: register, look up, read the record, trace an NHS number, correct an entry."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Response

from sonar.api.deps import AppDep, ContextDep, at_time
from sonar.api.errors import ProblemError
from sonar.api.responses import accepted
from sonar.api.schemas.common import CommandAccepted
from sonar.api.schemas.patients import EnteredInErrorCreate, NhsNumberTrace, PatientCreate
from sonar.domain.identity import NhsNumber
from sonar.readmodels.record_view import record_view

router = APIRouter(prefix="/api/v1/patients", tags=["patients"])


@router.post("", status_code=201, summary="Register a patient's care record")
def register_patient(body: PatientCreate, app: AppDep, ctx: ContextDep,
                     response: Response) -> CommandAccepted:
    result = app.register_patient(at_time(ctx, body.occurred_at), body.identity(),
                                  body.demographics())
    response.headers["Location"] = f"{router.prefix}/{result.patient_id}"
    return accepted(result, response)


@router.get("", summary="Find a patient by NHS number")
def find_patient(app: AppDep,
                 nhs_number: Annotated[str, Query(max_length=20)]) -> dict[str, list[str]]:
    patient_id = app.find_by_nhs_number(NhsNumber(nhs_number))
    return {"patient_ids": [str(patient_id)] if patient_id else []}


@router.get("/{patient_id}", summary="The care record as it stands now")
def get_record(patient_id: UUID, app: AppDep) -> dict[str, Any]:
    return record_view(app.get_record(patient_id), app.clock().date())


@router.post("/{patient_id}/nhs-number", status_code=201,
             summary="Add an NHS number traced after registration")
def trace_nhs_number(patient_id: UUID, body: NhsNumberTrace, app: AppDep, ctx: ContextDep,
                     response: Response) -> CommandAccepted:
    result = app.trace_nhs_number(at_time(ctx, body.occurred_at), patient_id,
                                  NhsNumber(body.nhs_number))
    return accepted(result, response)


@router.post("/{patient_id}/entries/{entry_version}/entered-in-error", status_code=201,
             summary="Mark a clinical entry as entered in error (nothing is deleted)")
def mark_entered_in_error(patient_id: UUID, entry_version: int, body: EnteredInErrorCreate,
                          app: AppDep, ctx: ContextDep, response: Response) -> CommandAccepted:
    if entry_version < 1:
        raise ProblemError(422, "entry_version.positive", "A value is not valid",
                           "entry_version is the record version of the entry (1 or more).")
    result = app.mark_entered_in_error(at_time(ctx, body.occurred_at), patient_id,
                                       entry_version, body.reason)
    return accepted(result, response)
