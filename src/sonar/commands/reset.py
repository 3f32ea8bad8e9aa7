"""ReSet commands: plan release, keep the released person's diary, record attendance and
misses, and where reminders go."""

from __future__ import annotations

import hashlib
from typing import Any, Self
from uuid import uuid4

from pydantic import BaseModel, ConfigDict, Field

from sonar.commands.base import (
    AppointmentId,
    CommandConfig,
    PatientCommand,
    PlausibleDate,
    PlausibleMoment,
    Step,
    coded,
)
from sonar.commands.context import CommandContext
from sonar.domain.attribution import Attribution
from sonar.domain.care_record import CareRecord
from sonar.domain.reset import (
    APPOINTMENT_KIND,
    ATTENDANCE_CONFIRMED_BY,
    Appointment,
    MedicineSupply,
    ReleasePlan,
)


class MedicineOnRelease(BaseModel):
    """A medicine supplied on release and for how many days."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    name: str = Field(max_length=200, title="Medicine")
    days: int = Field(ge=0, le=28, title="Days supplied")


class PlanRelease(PatientCommand):
    """Plan release (revises any earlier plan)."""

    step = Step("/release-plans", "write_pathway", "Plan release", "Release plan recorded",
                tag="release (ReSet)")

    expected_release_date: PlausibleDate = Field(title="Expected release date")
    release_area: str = Field(max_length=200, title="Release area",
                              description="The town or local authority area the person is "
                                          "released to.")
    gp_registered: bool = Field(title="Registered with a GP")
    gp_practice: str | None = Field(None, max_length=200, title="GP practice (if registered)")
    community_treatment_referral: bool = Field(title="Referred to community treatment")
    community_service: str | None = Field(None, max_length=200,
                                          title="Community treatment service (if referred)")
    reconnect_referral: bool = Field(title="Referred to RECONNECT")
    medicines: list[MedicineOnRelease] = Field(default_factory=list, max_length=30,
                                               title="Medicines supplied")
    ost_bridging: bool = Field(False, title="Opioid substitution therapy (OST) bridging "
                                            "prescription")
    naloxone_supplied: bool = Field(title="Naloxone supplied")

    def apply(self, record: CareRecord, at: Attribution) -> None:
        record.plan_release(ReleasePlan(
            self.expected_release_date, self.release_area, self.gp_registered,
            self.gp_practice, self.community_treatment_referral, self.community_service,
            self.reconnect_referral, tuple(MedicineSupply(m.name, m.days) for m in self.medicines),
            self.ost_bridging, self.naloxone_supplied), at)


class BookAppointment(PatientCommand):
    """Book an appointment in the diary."""

    step = Step("/appointments", "write_custody", "Book an appointment after release",
                "Appointment booked", tag="release (ReSet)",
                derived=frozenset({"appointment_id"}), answer=(("appointment_id", str),))

    kind: str = coded(APPOINTMENT_KIND, "Appointment with")
    agency: str = Field(max_length=100, title="Agency")
    agency_contact: str | None = Field(None, max_length=200,
                                       title="Contact at the agency (if known)")
    starts_at: PlausibleMoment = Field(title="Starts")
    ends_at: PlausibleMoment = Field(title="Ends")
    place: str = Field(max_length=200, title="Place")
    appointment_id: str = Field("", max_length=40)

    def prepare(self, ctx: CommandContext, config: CommandConfig) -> Self:
        """With an Idempotency-Key the id is derived from it, so a retried request answers
        with the same id as the booking it repeats."""
        del config
        key = ctx.idempotency_key
        made = (hashlib.sha256(f"{ctx.actor.actor_id}\n{key}".encode()).hexdigest()[:12]
                if key else uuid4().hex[:12])
        return self.model_copy(update={"appointment_id": made})

    def apply(self, record: CareRecord, at: Attribution) -> None:
        record.book_appointment(Appointment(self.appointment_id, self.kind, self.agency,
                                            self.agency_contact, self.starts_at, self.ends_at,
                                            self.place), at)

    def details(self, record: CareRecord, ctx: CommandContext,
                written: bool) -> dict[str, Any]:
        return {"appointment_id": self.appointment_id}


class RecordAttendance(PatientCommand):
    """Record that the person attended an appointment."""

    step = Step("/appointments/{appointment_id}/attendance", "write_custody", "Record attendance",
                "Attendance recorded", tag="release (ReSet)", by_patient=True)

    appointment_id: AppointmentId
    confirmed_by: str = coded(ATTENDANCE_CONFIRMED_BY, "Confirmed by")

    def apply(self, record: CareRecord, at: Attribution) -> None:
        record.record_attendance(self.appointment_id, self.confirmed_by, at)


class CancelAppointment(PatientCommand):
    """Cancel an appointment, with the reason."""

    step = Step("/appointments/{appointment_id}/cancellation", "write_custody",
                "Cancel the appointment", "Appointment cancelled", tag="release (ReSet)")

    appointment_id: AppointmentId
    reason: str = Field(max_length=500, title="Why is it cancelled?")

    def apply(self, record: CareRecord, at: Attribution) -> None:
        record.cancel_appointment(self.appointment_id, self.reason, at)


class RecordReminderContact(PatientCommand):
    """Where the person wants appointment reminders (null channel: none)."""

    step = Step("/reminder-contact", "write_custody", "Set where reminders go",
                "Reminder contact saved", tag="release (ReSet)", by_patient=True)

    channel: str | None = Field(None, title="Send reminders by",
                                description="text_message or email; null: no reminders")
    address: str | None = Field(None, max_length=254, title="Mobile number or email address")

    def apply(self, record: CareRecord, at: Attribution) -> None:
        record.record_reminder_contact(self.channel, self.address, at)


class RecordMissedAppointment(PatientCommand):
    """Record an appointment as missed (past its end and grace period, not attended)."""

    step = Step(None, "write_custody", "Record a missed appointment", "Missed appointment recorded",
                tag="release (ReSet)")

    appointment_id: AppointmentId

    def apply(self, record: CareRecord, at: Attribution) -> None:
        record.record_missed_appointment(self.appointment_id, at)


COMMANDS: tuple[type[PatientCommand], ...] = (
    PlanRelease, BookAppointment, RecordAttendance, CancelAppointment, RecordReminderContact,
    RecordMissedAppointment)
