"""What the patient reads answer: the record from the read models, its timeline, searches.

Field order follows the read models' rows (``sonar.readmodels.record``, ``.timeline``), so
the JSON is the rows as stored.
"""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from pydantic import Field

from sonar.api.schemas.care_record import CareRecordDetail
from sonar.api.schemas.common import Answer, Day, Moment, code
from sonar.api.schemas.pages import Page
from sonar.domain import codes
from sonar.domain.sms_episode import EpisodeStatus
from sonar.domain.top import TopValue

ReviewDue = Literal["due", "overdue"]


class PatientMatches(Answer):
    """The patients with this NHS number: none, or one."""

    patient_ids: list[UUID]


class TopSummary(Answer):
    """A Treatment Outcomes Profile as recorded."""

    stage: str = Field(description="start, review or exit.")
    before_custody: bool = Field(description="Whether the answers describe the 28 days before "
                                             "custody rather than the last 28 days.")
    answers: dict[str, TopValue] = Field(
        description="Each answered item by its code; an item not answered is absent (not 0).")
    other_substance_name: str | None


class CarePlanSummary(Answer):
    """The care plan in force."""

    revision: int = Field(description="1 for the first plan agreed, then one more per revision.")
    goals: list[str]
    interventions: list[str] = Field(description="Interventions agreed (SNOMED CT or local codes).")
    named_worker: str
    next_review_date: Day


class _RecordFields(Answer):
    patient_id: UUID
    nhs_number: str | None
    prison_number: str | None
    pnc_id: str | None = Field(description="Police National Computer id.")
    given_name: str
    family_name: str
    date_of_birth: Day
    sex: str = code(codes.SEX, "Sex")
    setting: str | None = code(codes.SETTING, "Where the person is now")
    location: str | None = Field(description="The establishment, custody suite or area.")
    active_episode: int | None = Field(description="The open SMS episode's number, if any.")
    episode_status: EpisodeStatus | None = Field(
        description="Status of the active (else the latest) episode.")
    treatment_start: Day | None
    caseload_worker: str | None = Field(description="The named worker's actor id.")
    caseload_site: str | None
    risk_level: str | None = code(codes.RISK_LEVEL, "Latest risk level")
    named_risks: list[str] | None = code(codes.NAMED_RISK, "Risks named at the latest assessment")
    acct_open: bool | None = Field(description="Whether an ACCT (self-harm) plan is open.")
    dual_diagnosis: str | None = code(codes.DUAL_DIAGNOSIS, "Co-occurring mental health need")
    latest_top: TopSummary | None
    latest_top_at: Moment | None
    care_plan: CarePlanSummary | None
    care_plan_revision: int | None
    alerts: list[str] = Field(description="Banner alerts, e.g. high_risk, risk:overdose, "
                                          "acct_open, review_overdue:day_28.")
    next_review_kind: str | None = code(codes.REVIEW_KIND, "The next review due")
    next_review_due: Day | None
    version: int = Field(description="The record's version (its number of events).")
    updated_at: Moment = Field(description="When the record last changed (recorded time).")


class PatientSummary(_RecordFields):
    """A patient's current record from the read models, as search results list it."""

    position: int = Field(description="The log position the read model has applied.")
    next_review_status: ReviewDue | None = Field(description="Whether the next review is due or "
                                                             "overdue, as of today.")


class PatientRecord(PatientSummary):
    """A patient's current record from the read models."""

    break_glass_until: Moment | None = Field(
        description="When your break-glass access to this record ends, while it runs.")


class PatientRecordAsOf(_RecordFields):
    """The record exactly as it stood at a recorded time, replayed from the log."""

    next_review_status: ReviewDue | None = Field(
        description="Whether the next review was due or overdue on that day.")
    as_of: Moment
    detail: CareRecordDetail


class PatientSearchPage(Page[PatientSummary]):
    """Patients matching a search, a page at a time."""


class TimelineEvent(Answer):
    """One event of the record, with who recorded it, when, why and from where."""

    patient_id: UUID
    version: int = Field(description="The event's version within the record.")
    position: int = Field(description="The event's position in the log.")
    event_type: str = Field(description="e.g. ReferredToSms, TopRecorded.")
    episode: int | None
    occurred_at: Moment = Field(description="Clinical time: when it happened.")
    recorded_at: Moment = Field(description="When it was recorded.")
    actor_id: str
    role: str = code(codes.ROLE, "The recorder's role")
    organisation: str
    site: str
    purpose_of_use: str = code(codes.PURPOSE_OF_USE, "Why it was recorded")
    source: str = code(codes.SOURCE, "Where it came from")
    correlation_id: str
    summary: str = Field(description="One line saying what happened.")
    payload: dict[str, Any] = Field(description="The event's own facts, by name.")
    in_error_reason: str | None = Field(
        description="Why the entry was later marked entered in error, if it was.")


class TimelinePage(Page[TimelineEvent]):
    """A record's events in order, a page at a time."""
