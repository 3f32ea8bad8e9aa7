"""Alerts another agency must act on, derived from care-record events (topic ``sonar.alerts.v1``).

Why a topic of its own: probation, community treatment services and prison healthcare
subscribe to a handful of situations, not to every clinical entry, and an alert must reach
them even when nobody opens the record. Each alert names the event that raised it
(``alert_id`` = ``<event id>:<kind>``, so a re-sent alert is recognisable), is keyed by
patient id like the events, and is published in the same acknowledged batch as its event, so
the relay never advances past an event whose alert was not delivered.

Emitted now:

- ``high_risk``: a risk assessment at level "high" on an episode that is active once it is
  recorded.
- ``high_risk_on_release``: a release from prison of a person whose latest valid risk
  assessment (by clinical time, then recording order, across episodes) is high or names
  overdose, the leading cause of death in the weeks after release.

- ``missed_appointment``: the scheduler recorded an appointment as missed; the alert names
  every agency involved with the person and the family members they consented to tell.
- ``break_glass``: emergency access to a record without a legitimate relationship.

Not yet emitted:

- ``review_overdue``: due/overdue is computed at read time against "today", never stored, so
  it needs a scheduler that emits a dated event; it cannot come from the log alone.

When encryption at rest is on, an alert carries only ids, its kind, the position and the
recorded time: the kind is what the agency acts on, and details stay behind SONAR's access
control.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sonar.adapters.kafka.envelope import event_id
from sonar.domain.care_record import CareRecord
from sonar.domain.pathway import RiskAssessment
from sonar.domain.sms_episode import Entry
from sonar.eventstore.application import SonarApplication

SCHEMA = "sonar.alert.v1"
HIGH_RISK = "high_risk"
HIGH_RISK_ON_RELEASE = "high_risk_on_release"
MISSED_APPOINTMENT = "missed_appointment"
BREAK_GLASS = "break_glass"


@dataclass(frozen=True)
class Alert:
    kind: str
    patient_id: str
    version: int
    position: int
    recorded_at: datetime
    details: dict[str, Any]

    @property
    def alert_id(self) -> str:
        return f"{event_id(self.patient_id, self.version)}:{self.kind}"

    def to_json(self, *, include_details: bool) -> bytes:
        body: dict[str, Any] = {
            "schema": SCHEMA, "alert_id": self.alert_id, "kind": self.kind,
            "patient_id": self.patient_id,
            "event_id": event_id(self.patient_id, self.version),
            "position": self.position, "recorded_at": self.recorded_at.isoformat(),
        }
        if include_details:
            body["details"] = self.details
        return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def alerts_for(app: SonarApplication, position: int, event: CareRecord.Event) -> list[Alert]:
    """The alerts one event raises; loads the record (at that version) only when needed."""
    if isinstance(event, CareRecord.RiskAssessed):
        assessment = event.assessment
        if assessment.level != "high":
            return []
        record = app.get_record(event.originator_id, event.originator_version)
        if not record.episode(event.episode).is_active:
            return []
        return [_alert(HIGH_RISK, position, event, {
            "episode": event.episode, "level": assessment.level,
            "risks": list(assessment.risks), "acct_open": assessment.acct_open})]
    if isinstance(event, CareRecord.ReleasedFromPrison):
        record = app.get_record(event.originator_id, event.originator_version)
        latest = latest_risk(record)
        if latest is None or not isinstance(latest.value, RiskAssessment):
            return []
        risk = latest.value
        if risk.level != "high" and "overdose" not in risk.risks:
            return []
        return [_alert(HIGH_RISK_ON_RELEASE, position, event, {
            "release_type": event.detail, "destination_area": event.location,
            "risk_level": risk.level, "risks": list(risk.risks),
            "risk_entry_version": latest.version})]
    if isinstance(event, CareRecord.AppointmentMissed):
        return [_alert(MISSED_APPOINTMENT, position, event, {
            "appointment_id": event.appointment_id, "agencies": list(event.agencies),
            "family_members": list(event.family_members)})]
    if isinstance(event, CareRecord.BreakGlassAccessed):
        return [_alert(BREAK_GLASS, position, event, {
            "actor_id": event.attribution.actor.actor_id,
            "organisation": event.attribution.actor.organisation,
            "expires_at": event.expires_at.isoformat()})]
    return []


def latest_risk(record: CareRecord) -> Entry | None:
    """The person's latest valid risk assessment across all episodes."""
    found = [e for episode in record.episodes for e in episode.valid_entries()
             if isinstance(e.value, RiskAssessment)]
    return max(found, key=lambda e: (e.occurred_at, e.version), default=None)


def _alert(kind: str, position: int, event: CareRecord.Event,
           details: dict[str, Any]) -> Alert:
    return Alert(kind, str(event.originator_id), event.originator_version, position,
                 event.timestamp, details)
