"""ReSet release support: the release plan made in custody and the released person's diary.

A missed appointment is itself a risk event (../shared/DOMAIN.md): an appointment past its
end plus a grace period with no attendance is recorded as missed, naming every agency
involved with the person and every family member they consented to tell.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sonar.domain import codes, plausible
from sonar.domain.errors import InvalidValue, raise_all
from sonar.domain.values import Immutable

APPOINTMENT_KIND = codes.ValueSet("appointment_kind", {
    "probation": "Probation", "drug_alcohol_service": "Drug and alcohol service",
    "gp": "GP", "job_centre": "Job centre", "employer": "Employer", "housing": "Housing",
    "other": "Other"})
ATTENDANCE_CONFIRMED_BY = codes.ValueSet("attendance_confirmed_by", {
    "agency": "The agency", "person": "The released person"})
MISSED_GRACE = timedelta(hours=2)


def _words(value: str | None, field: str, limit: int = 200, *, required: bool = True) -> None:
    if value is None or not value.strip():
        if required:
            raise InvalidValue(f"{field} is required.", rule="text.required", field=field)
        return
    if len(value) > limit or not value.isprintable():
        raise InvalidValue(f"{field} must be printable text of at most {limit} characters.",
                           rule="text.invalid", field=field)


@dataclass(frozen=True)
class MedicineSupply(Immutable):
    """A medicine supplied on release, e.g. up to 28 days, or OST prescription bridging."""

    name: str
    days: int

    def __post_init__(self) -> None:
        _words(self.name, "medicines.name")
        if not 0 <= self.days <= 28:
            raise InvalidValue("Days supplied must be 0 to 28.", rule="medicine.days_range",
                               field="medicines.days")


@dataclass(frozen=True)
class ReleasePlan(Immutable):
    """Planned up to 12 weeks before release; revised, never overwritten."""

    expected_release_date: date
    release_area: str
    gp_registered: bool
    gp_practice: str | None
    community_treatment_referral: bool
    community_service: str | None
    reconnect_referral: bool
    medicines: tuple[MedicineSupply, ...]
    ost_bridging: bool
    naloxone_supplied: bool

    def __post_init__(self) -> None:
        problems: list[InvalidValue] = []
        late = plausible.day_problem(self.expected_release_date, "expected_release_date")
        if late is not None:
            problems.append(late)
        for value, field, required in (
                (self.release_area, "release_area", True),
                (self.gp_practice, "gp_practice", self.gp_registered),
                (self.community_service, "community_service",
                 self.community_treatment_referral)):
            try:
                _words(value, field, required=required)
            except InvalidValue as e:
                problems.append(e)
        raise_all(problems)


@dataclass(frozen=True)
class Appointment(Immutable):
    appointment_id: str
    kind: str
    agency: str
    agency_contact: str | None  # an email address or an https webhook for alerts
    starts_at: datetime
    ends_at: datetime
    place: str

    def __post_init__(self) -> None:
        APPOINTMENT_KIND.check(self.kind, field="kind")
        _words(self.agency, "agency", 100)
        _words(self.place, "place")
        _words(self.agency_contact, "agency_contact", required=False)
        raise_all([p for p in (plausible.moment_problem(self.starts_at, "starts_at"),
                               plausible.moment_problem(self.ends_at, "ends_at")) if p])
        if not self.starts_at < self.ends_at <= self.starts_at + timedelta(hours=12):
            raise InvalidValue("An appointment ends after it starts, within 12 hours.",
                               rule="appointment.times", field="ends_at")


@dataclass
class DiaryEntry:
    """An appointment and what became of it: booked, attended, missed or cancelled."""

    appointment: Appointment
    status: str = "booked"
    confirmed_by: str | None = None
    reason: str | None = None

    def __deepcopy__(self, memo: dict[int, Any]) -> DiaryEntry:
        return copy.copy(self)  # every field holds an immutable value
