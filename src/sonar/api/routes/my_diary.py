"""The released person's own diary (role patient): their appointments, and confirming
attendance themselves. The patient is taken from their token, never from the URL, so a
patient can reach no one else's diary."""

from __future__ import annotations

from html import escape
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict

from sonar.api.deps import BusDep, ContextDep, ReadStoreDep
from sonar.api.errors import ProblemError
from sonar.api.responses import accepted
from sonar.api.routes.commands import field_of
from sonar.api.schemas.common import CommandAccepted
from sonar.api.schemas.release import AppointmentDiary
from sonar.api.security import get_principal
from sonar.auth.tokens import Principal
from sonar.commands.reset import RecordAttendance, RecordReminderContact
from sonar.readmodels import diary

router = APIRouter(prefix="/api/v1/me", tags=["my diary (ReSet)"])


def own_patient(principal: Annotated[Principal, Depends(get_principal)]) -> UUID:
    if principal.patient_id is None:
        raise ProblemError(403, "diary.not_a_patient", "Not a patient account",
                           "Only a released person's own account has a diary here.")
    return UUID(principal.patient_id)


OwnPatient = Annotated[UUID, Depends(own_patient)]
# A step on the caller's own record: 404 if the account names a record the log does not hold.
OWN_RECORD: dict[int | str, dict[str, object]] = {404: {"description": "No such record."}}


@router.get("/diary", summary="My appointments")
def my_diary(patient_id: OwnPatient, store: ReadStoreDep) -> AppointmentDiary:
    return AppointmentDiary.model_validate({"items": diary.diary(store, str(patient_id))})


@router.get("/diary/page", response_class=HTMLResponse, summary="My appointments (phone page)")
def my_diary_page(patient_id: OwnPatient, store: ReadStoreDep) -> HTMLResponse:
    items = "".join(
        f"<li><strong>{escape(a['starts_at'][:16].replace('T', ' '))}</strong> "
        f"{escape(a['kind'].replace('_', ' '))} with {escape(a['agency'])}, "
        f"{escape(a['place'])} <em>({escape(a['status'])})</em></li>"
        for a in diary.diary(store, str(patient_id)))
    return HTMLResponse(
        "<!doctype html><html lang=en><meta charset=utf-8><meta name=viewport "
        "content='width=device-width,initial-scale=1'><title>My appointments</title><style>"
        "body{font:18px/1.5 sans-serif;margin:1em;color:#0b0c0c}li{margin:.75em 0}</style>"
        f"<h1>My appointments</h1><ul>{items or '<li>No appointments yet</li>'}</ul></html>")


@router.post("/diary/{appointment_id}/attendance", status_code=201,
             summary="I went to this appointment", responses=OWN_RECORD)
def confirm_attendance(patient_id: OwnPatient, appointment_id: Annotated[
        str, Path(max_length=40, pattern="^[0-9a-f]+$")], bus: BusDep, ctx: ContextDep,
        response: Response) -> CommandAccepted:
    return accepted(bus.handle(ctx, RecordAttendance(
        patient_id=patient_id, appointment_id=appointment_id, confirmed_by="person")), response)


class MyReminderContact(BaseModel):
    """Where to send my appointment reminders (the reminder step's own fields and rules,
    without the patient: that is the caller); ``channel`` null stops them."""

    model_config = ConfigDict(extra="forbid", strict=True)
    channel: str | None = field_of(RecordReminderContact, "channel")
    address: str | None = field_of(RecordReminderContact, "address")


@router.post("/reminder-contact", status_code=201,
             summary="Remind me of my appointments by text or email (null channel: stop)",
             responses=OWN_RECORD)
def my_reminder_contact(patient_id: OwnPatient, body: MyReminderContact, bus: BusDep,
                        ctx: ContextDep, response: Response) -> CommandAccepted:
    return accepted(bus.handle(ctx, RecordReminderContact(
        patient_id=patient_id, channel=body.channel, address=body.address)), response)
