"""Timeline filters on the record page: kinds of entry in clinic language, episode, dates.

A kind becomes the API's ``event_type`` filter and the episode its ``episode`` filter;
the dates its ``from`` and ``to`` (clinical days in England, inclusive).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sonar.ui._forms import Errors, Field, Form, Kind, Section

KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "custody": ("Custody and movements", (
        "DetainedInPoliceCustody", "ReleasedFromPoliceCustody", "ReceivedIntoPrison",
        "TransferredBetweenEstablishments", "ReleasedFromPrison", "RecalledToPrison")),
    "referral": ("Referral, caseload and discharge", (
        "ReferredToSms", "ReferralOutcomeRecorded", "CaseloadAssigned", "Discharged")),
    "assessment": ("Screens and assessments", (
        "ReceptionScreenRecorded", "DualDiagnosisAssessed", "RiskAssessed")),
    "treatment": ("TOP, reviews, care plans and interventions", (
        "TopRecorded", "ReviewRecorded", "CarePlanRevised", "BriefInterventionRecorded")),
    "release": ("Release planning and appointments", (
        "ReleasePlanned", "AppointmentBooked", "AppointmentAttended", "AppointmentCancelled",
        "AppointmentMissed", "ReminderContactRecorded")),
    "record": ("Identity, corrections and access", (
        "Registered", "NhsNumberTraced", "GpRecordImported", "EntryMarkedInError",
        "BreakGlassAccessed", "ConsentToFamilyNotificationRecorded",
        "ConsentToFamilyNotificationRevoked", "SharingDissentRecorded",
        "SharingDissentWithdrawn")),
}

FILTER = Form("Filter the timeline", (Section("", (
    Field("kind", "Kind of entry", Kind.SELECT,
          tuple((code, label) for code, (label, _) in KINDS.items())),
    Field("from", "From", Kind.DATE),
    Field("to", "To", Kind.DATE),
)),), "Filter")


@dataclass(frozen=True)
class TimelineFilter:
    kind: str = ""
    start: date | None = None
    end: date | None = None

    @property
    def active(self) -> bool:
        return bool(self.kind or self.start or self.end)

    def api_params(self) -> dict[str, Any]:
        return {"event_type": list(KINDS[self.kind][1]) if self.kind in KINDS else None,
                "from": self.start.isoformat() if self.start else None,
                "to": self.end.isoformat() if self.end else None}


def parse(query: Mapping[str, str]) -> tuple[TimelineFilter, Errors]:
    """The filter asked for; a date that is not a date, or an empty range, is an error."""
    errors = Errors()
    by_name = {f.name: f for f in FILTER.fields}
    dates: dict[str, date | None] = {}
    for name in ("from", "to"):
        text = query.get(name, "").strip()
        try:
            dates[name] = date.fromisoformat(text) if text else None
        except ValueError:
            errors.add(by_name[name], f"{by_name[name].label} must be a real date, "
                                      "like 2026-03-01")
            dates[name] = None
    start, end = dates["from"], dates["to"]
    if start and end and end < start:
        errors.add(by_name["to"], "To must be the same as or after from")
        end = None
    kind = query.get("kind", "")
    if kind and kind not in KINDS:
        errors.add(by_name["kind"], "Choose a kind of entry from the list")
        kind = ""
    return TimelineFilter(kind, start, end), errors
