"""Reads of one patient from the read models: current record, timeline, search."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from sonar.api.deps import ActorDep, AppDep, ReadStoreDep, TodayDep
from sonar.api.errors import ProblemError
from sonar.api.responses import page
from sonar.api.schemas.records import (
    PatientRecord,
    PatientRecordAsOf,
    PatientSearchPage,
    TimelinePage,
)
from sonar.audit.time_travel import record_as_of
from sonar.commands.base import PlausibleDate, PlausibleMoment
from sonar.domain.access import break_glass_until
from sonar.domain.attribution import day_starts
from sonar.readmodels import record, timeline

router = APIRouter(prefix="/api/v1/patients", tags=["records"])
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]


@router.get("/search", summary="Find patients by NHS number, prison number, or name + DOB")
def search(store: ReadStoreDep, today: TodayDep,
           nhs_number: Annotated[str | None, Query(max_length=20)] = None,
           prison_number: Annotated[str | None, Query(max_length=20)] = None,
           family_name: Annotated[str | None, Query(max_length=100)] = None,
           date_of_birth: PlausibleDate | None = None, limit: Limit = 50,
           offset: Offset = 0) -> PatientSearchPage:
    if not (nhs_number or prison_number or (family_name and date_of_birth)):
        raise ProblemError(422, "search.criteria", "Search needs identifying details",
                           "Give an NHS number, a prison number, or a family name with a date "
                           "of birth.", errors=[{"field": "nhs_number", "in": "query",
                                                 "rule": "search.criteria",
                                                 "detail": "no search criteria"}])
    found = record.search(store, today, nhs_number=(nhs_number or "").replace(" ", "") or None,
                          prison_number=prison_number.upper() if prison_number else None,
                          family_name=family_name, date_of_birth=date_of_birth,
                          limit=limit + 1, offset=offset)
    return PatientSearchPage.model_validate(page(found, limit, offset))


@router.get("/{patient_id}/record",
            summary="The current record (read model), or as it stood at a recorded time")
def get_record(patient_id: UUID, store: ReadStoreDep, today: TodayDep, application: AppDep,
               actor: ActorDep,
               as_of: Annotated[PlausibleMoment | None, Query(
                   description="Recorded time (ISO 8601 with offset): the record exactly as "
                               "it stood then, replayed from the log.")] = None,
               ) -> PatientRecord | PatientRecordAsOf:
    if as_of is not None:
        found = record_as_of(application, patient_id, as_of)
        if found is None:
            raise ProblemError(404, "patient.not_yet_registered", "No record at that time",
                               f"The record {patient_id} did not exist at {as_of.isoformat()}.")
        return PatientRecordAsOf.model_validate(found)
    found = record.get_record(store, str(patient_id), today)
    if found is None:
        raise ProblemError(404, "patient.not_found", "Patient not found",
                           f"No care record has id {patient_id}.")
    until = break_glass_until(application.get_record(patient_id), actor, application.clock())
    return PatientRecord.model_validate(
        {**found, "break_glass_until": until.isoformat() if until is not None else None})


@router.get("/{patient_id}/timeline", summary="Every event of the patient, with attribution")
def get_timeline(patient_id: UUID, store: ReadStoreDep,
                 event_type: Annotated[list[str] | None, Query(max_length=30)] = None,
                 episode: Annotated[int | None, Query(ge=1)] = None,
                 start: Annotated[PlausibleDate | None, Query(
                     alias="from", description="First clinical day (England), inclusive")] = None,
                 end: Annotated[PlausibleDate | None, Query(
                     alias="to", description="Last clinical day (England), inclusive")] = None,
                 limit: Limit = 100, offset: Offset = 0) -> TimelinePage:
    if start and end and end < start:
        raise ProblemError(422, "period.order", "The period is not valid",
                           "'to' is before 'from'.", errors=[
                               {"field": "to", "in": "query", "rule": "period.order",
                                "detail": "'to' must not be before 'from'"}])
    items = timeline.timeline(
        store, str(patient_id), event_types=event_type or (), episode=episode,
        occurred_from=day_starts(start) if start else None,
        occurred_before=day_starts(end + timedelta(days=1)) if end else None,
        limit=limit + 1, offset=offset)
    return TimelinePage.model_validate(page(items, limit, offset))
