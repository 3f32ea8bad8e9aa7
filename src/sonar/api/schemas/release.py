"""What the ReSet reads answer: the release summary (handover pack) and the diary."""

from __future__ import annotations

from uuid import UUID

from pydantic import Field

from sonar.api.schemas.common import Answer, Day, Moment, code
from sonar.domain import codes
from sonar.domain.reset import APPOINTMENT_KIND

AppointmentStatus = Field(description="booked, attended, missed or cancelled.")


class RiskSummary(Answer):
    level: str | None = code(codes.RISK_LEVEL, "Latest risk level; null if not assessed")
    named_risks: list[str]


class Needs(Answer):
    substances: list[str] = Field(description="From the referral: primary first.")
    dual_diagnosis: str | None = code(codes.DUAL_DIAGNOSIS, "Co-occurring mental health need")
    mental_health_concern: bool = Field(description="Raised at any reception screen.")
    self_harm_risk: bool = Field(description="Raised at any reception screen.")


class MedicineSupply(Answer):
    name: str
    days: int = Field(description="Days supplied (0 to 28).")


class ReleasePlan(Answer):
    """The latest release plan."""

    expected_release_date: Day
    release_area: str
    gp_registered: bool
    gp_practice: str | None
    community_treatment_referral: bool
    community_service: str | None
    reconnect_referral: bool
    medicines: list[MedicineSupply] = Field(description="Medicines supplied on release.")
    ost_bridging: bool = Field(description="Opioid substitution prescription bridged.")
    naloxone_supplied: bool


class CarePlan(Answer):
    """The latest care plan (not marked in error)."""

    goals: list[str]
    interventions: list[str] = Field(description="Interventions agreed (SNOMED CT or local codes).")
    named_worker: str
    next_review_date: Day


class BookedAppointment(Answer):
    appointment_id: str
    kind: str = code(APPOINTMENT_KIND, "The kind of appointment")
    agency: str
    agency_contact: str | None = Field(description="Where the agency is alerted of a miss.")
    starts_at: Moment
    ends_at: Moment
    place: str
    status: str = AppointmentStatus


class FamilyContact(Answer):
    family_member: str
    relationship: str
    channel: str
    address: str | None


class ReleaseSummary(Answer):
    """The handover pack: who, risks, needs, the release and care plans, what is booked."""

    patient_id: UUID
    name: str
    date_of_birth: Day
    nhs_number: str | None
    prison_number: str | None
    setting: str | None = code(codes.SETTING, "Where the person is now")
    location: str | None
    risk: RiskSummary
    needs: Needs
    release_plan: ReleasePlan | None
    care_plan: CarePlan | None
    appointments: list[BookedAppointment] = Field(description="Appointments still booked.")
    contacts: list[FamilyContact] = Field(
        description="Family members the person agreed may be told of a missed appointment.")


class DiaryAppointment(Answer):
    """An appointment in the diary and what became of it."""

    patient_id: UUID
    appointment_id: str
    kind: str = code(APPOINTMENT_KIND, "The kind of appointment")
    agency: str
    starts_at: Moment
    ends_at: Moment
    place: str
    status: str = AppointmentStatus
    confirmed_by: str | None = Field(description="Who confirmed attendance: person or agency.")


class AppointmentDiary(Answer):
    """A released person's appointments, earliest first."""

    items: list[DiaryAppointment]
