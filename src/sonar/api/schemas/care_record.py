"""The whole care record as the write model holds it (``sonar.readmodels.record_view``),
entries marked in error included, with their reason."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from pydantic import Field

from sonar.api.schemas.common import Answer, Day, Moment, code
from sonar.domain import codes
from sonar.domain.sms_episode import EpisodeStatus


class Identity(Answer):
    nhs_number: str | None
    prison_number: str | None
    pnc_id: str | None


class Demographics(Answer):
    given_name: str
    family_name: str
    date_of_birth: Day
    sex: str = code(codes.SEX, "Sex")


class Movement(Answer):
    """A step of the person's journey through custody and the community."""

    version: int = Field(description="The event's version within the record.")
    occurred_at: Moment
    kind: str = Field(description="e.g. received_into_prison, released_from_prison.")
    setting: str = code(codes.SETTING, "Where the step left the person")
    location: str | None
    detail: str | None = Field(description="e.g. the release or recall type.")


class Entry(Answer):
    """A clinical entry (screen, assessment, TOP, review, care plan...)."""

    entry_version: int = Field(description="The event's version: the entry's id in the record.")
    kind: str = Field(description="What the entry is, e.g. Top, RiskAssessment, CarePlan.")
    occurred_at: Moment
    in_error: str | None = Field(description="Why it was marked entered in error, if it was.")
    flags: list[str] = Field(description="e.g. no_start_top.")
    value: dict[str, Any] = Field(description="The entry's own fields, as its kind defines them.")


class Referral(Answer):
    source: str = code(codes.REFERRAL_SOURCE, "Who referred")
    substances: list[str] = Field(description="Primary, secondary, tertiary, in that order.")
    injecting_status: str = code(codes.INJECTING_STATUS, "Injecting")
    previously_treated: bool
    notes: str | None


class ReferralOutcome(Answer):
    outcome: str = code(codes.REFERRAL_OUTCOME, "The outcome")
    referred_to: str | None
    reason: str | None


class Caseload(Answer):
    worker_id: str
    site: str | None


class ReviewSlot(Answer):
    kind: str = code(codes.REVIEW_KIND, "The review")
    due: Day
    status: Literal["done", "overdue", "due"]


class Discharge(Answer):
    exit_reason: str = code(codes.EXIT_REASON, "Why treatment ended")
    destination: str | None
    notes: str | None


class Episode(Answer):
    """An SMS (substance misuse service) episode, from referral to discharge."""

    number: int
    status: EpisodeStatus
    referred_at: Moment
    referral: Referral
    outcome: ReferralOutcome | None
    treatment_start: Day | None
    caseload: Caseload | None = Field(description="The named worker, once assigned.")
    reviews: list[ReviewSlot] = Field(description="Each review slot with its status today.")
    discharge: Discharge | None
    ended_at: Moment | None
    entries: list[Entry]


class CareRecordDetail(Answer):
    """The whole care record as it stands, from the write model."""

    patient_id: UUID
    version: int = Field(description="The record's version (its number of events).")
    identity: Identity
    demographics: Demographics
    setting: str | None = code(codes.SETTING, "Where the person is now")
    location: str | None
    journey: list[Movement]
    reception_screens: list[Entry]
    episodes: list[Episode]
