"""Models for ReSet: release plans, appointments, attendance."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from sonar.api.schemas.common import CommandBody, PlausibleDate, PlausibleMoment, coded
from sonar.domain.reset import (
    APPOINTMENT_KIND,
    ATTENDANCE_CONFIRMED_BY,
    MedicineSupply,
    ReleasePlan,
)


class MedicineIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    name: str = Field(max_length=200)
    days: int = Field(ge=0, le=28)


class ReleasePlanCreate(CommandBody):
    expected_release_date: PlausibleDate = Field(strict=False)
    release_area: str = Field(max_length=200)
    gp_registered: bool
    gp_practice: str | None = Field(None, max_length=200)
    community_treatment_referral: bool
    community_service: str | None = Field(None, max_length=200)
    reconnect_referral: bool
    medicines: list[MedicineIn] = Field(default_factory=list, max_length=30)
    ost_bridging: bool = False
    naloxone_supplied: bool

    def to_domain(self) -> ReleasePlan:
        return ReleasePlan(self.expected_release_date, self.release_area, self.gp_registered,
                           self.gp_practice, self.community_treatment_referral,
                           self.community_service, self.reconnect_referral,
                           tuple(MedicineSupply(m.name, m.days) for m in self.medicines),
                           self.ost_bridging, self.naloxone_supplied)


class AppointmentCreate(CommandBody):
    kind: str = coded(APPOINTMENT_KIND)
    agency: str = Field(max_length=100)
    agency_contact: str | None = Field(None, max_length=200)
    starts_at: PlausibleMoment = Field(strict=False)
    ends_at: PlausibleMoment = Field(strict=False)
    place: str = Field(max_length=200)


class AttendanceCreate(CommandBody):
    confirmed_by: str = coded(ATTENDANCE_CONFIRMED_BY)


class ReminderContactCreate(CommandBody):
    """Where to send appointment reminders; ``channel`` null stops them."""

    channel: str | None = Field(None, description="text_message or email; null: no reminders")
    address: str | None = Field(None, max_length=254, description="Mobile number or email")


class CancellationCreate(CommandBody):
    reason: str = Field(max_length=500)
