"""ReSet over HTTP: release plan, summary, and the released person's appointment diary."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import HTMLResponse

from sonar.api.deps import AppDep, ContextDep, ReadStoreDep, at_time
from sonar.api.responses import accepted
from sonar.api.schemas.common import CommandAccepted
from sonar.api.schemas.reset import (
    AppointmentCreate,
    AttendanceCreate,
    CancellationCreate,
    ReleasePlanCreate,
    ReminderContactCreate,
)
from sonar.commands import reset
from sonar.readmodels import diary
from sonar.reports.release_summary import (
    release_summary,
    release_summary_html,
    release_summary_pdf,
)

router = APIRouter(prefix="/api/v1/patients/{patient_id}", tags=["release (ReSet)"])
AppointmentId = Annotated[str, Path(max_length=40, pattern="^[0-9a-f]+$")]


@router.post("/release-plans", status_code=201, summary="Plan release (revises any earlier plan)")
def plan_release(patient_id: UUID, body: ReleasePlanCreate, app: AppDep, ctx: ContextDep,
                 response: Response) -> CommandAccepted:
    return accepted(reset.plan_release(app, at_time(ctx, body.occurred_at), patient_id,
                                       body.to_domain()), response)


@router.get("/release-summary", summary="Release summary (handover pack): JSON, HTML or PDF",
            responses={200: {"content": {"text/html": {}, "application/pdf": {}}}})
def get_release_summary(patient_id: UUID, request: Request, app: AppDep) -> Any:
    summary = release_summary(app.get_record(patient_id))
    accept = request.headers.get("accept", "")
    if "application/pdf" in accept:
        return Response(release_summary_pdf(summary), media_type="application/pdf",
                        headers={"Content-Disposition": 'inline; filename="release-summary.pdf"'})
    if "text/html" in accept:
        return HTMLResponse(release_summary_html(summary))
    return summary


@router.post("/appointments", status_code=201, summary="Book an appointment in the diary")
def book_appointment(patient_id: UUID, body: AppointmentCreate, app: AppDep, ctx: ContextDep,
                     response: Response) -> dict[str, Any]:
    result, appointment_id = reset.book_appointment(
        app, at_time(ctx, body.occurred_at), patient_id, kind=body.kind, agency=body.agency,
        agency_contact=body.agency_contact, starts_at=body.starts_at, ends_at=body.ends_at,
        place=body.place)
    return {**accepted(result, response).model_dump(mode="json"),
            "appointment_id": appointment_id}


@router.get("/appointments", summary="The appointment diary")
def get_diary(patient_id: UUID, store: ReadStoreDep) -> dict[str, Any]:
    return {"items": diary.diary(store, str(patient_id))}


@router.post("/appointments/{appointment_id}/attendance", status_code=201)
def record_attendance(patient_id: UUID, appointment_id: AppointmentId, body: AttendanceCreate,
                      app: AppDep, ctx: ContextDep, response: Response) -> CommandAccepted:
    return accepted(reset.record_attendance(app, at_time(ctx, body.occurred_at), patient_id,
                                            appointment_id, body.confirmed_by), response)


@router.post("/appointments/{appointment_id}/cancellation", status_code=201)
def cancel_appointment(patient_id: UUID, appointment_id: AppointmentId, body: CancellationCreate,
                       app: AppDep, ctx: ContextDep, response: Response) -> CommandAccepted:
    return accepted(reset.cancel_appointment(app, at_time(ctx, body.occurred_at), patient_id,
                                             appointment_id, body.reason), response)


@router.post("/reminder-contact", status_code=201,
             summary="Where the person wants appointment reminders (null channel: none)")
def record_reminder_contact(patient_id: UUID, body: ReminderContactCreate, app: AppDep,
                            ctx: ContextDep, response: Response) -> CommandAccepted:
    return accepted(reset.record_reminder_contact(app, at_time(ctx, body.occurred_at),
                                                  patient_id, body.channel, body.address),
                    response)
