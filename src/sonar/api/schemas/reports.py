"""What caseloads and the manager's reports answer (``sonar.readmodels.caseload``,
``.outcomes``, ``.continuity``), in the read models' own field order."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

from sonar.api.schemas.common import Answer, Day, Moment, code
from sonar.api.schemas.pages import Page
from sonar.domain import codes
from sonar.domain.sms_episode import EpisodeStatus

Site = Field(description="The site the figures are for; null for every site.")
From = Field(alias="from", description="Start of the period (included).")
To = Field(alias="to", description="End of the period (excluded): the day after the last.")


class CaseloadReview(Answer):
    """A review slot of an episode, with its status today."""

    kind: str = code(codes.REVIEW_KIND, "The review")
    due: Day
    done: Day | None = Field(description="The clinical day it was done, if it was.")
    status: Literal["done", "overdue", "due"]


class CaseloadEpisode(Answer):
    """An open or awaiting-outcome SMS episode on a caseload."""

    patient_id: UUID
    episode: int
    site: str | None = Field(description="Where the person was when referred.")
    status: EpisodeStatus
    referred_at: Moment
    referral_source: str = code(codes.REFERRAL_SOURCE, "Who referred")
    primary_substance: str = code(codes.SUBSTANCE, "The primary substance")
    outcome: str | None = code(codes.REFERRAL_OUTCOME, "The referral's outcome")
    treatment_start: Day | None
    caseload_worker: str | None = Field(description="The named worker's actor id.")
    caseload_site: str | None
    risk_level: str | None = code(codes.RISK_LEVEL, "Latest risk level")
    ended_at: Moment | None
    exit_reason: str | None = code(codes.EXIT_REASON, "Why treatment ended")
    next_review_kind: str | None = code(codes.REVIEW_KIND, "The next review due")
    next_review_due: Day | None
    given_name: str | None = Field(description="Null while the record read model catches up.")
    family_name: str | None
    nhs_number: str | None
    prison_number: str | None
    reviews: list[CaseloadReview]
    overdue: bool = Field(description="Whether any review is overdue today.")


class CaseloadPage(Page[CaseloadEpisode]):
    """Episodes on a caseload, soonest review first, a page at a time."""


class WorkforceRow(Answer):
    """One worker at one site (``worker`` null: referrals not yet assigned).

    Also ``reviews_due_<N>_days``: reviews falling due within the ``within_days`` asked
    for (e.g. ``reviews_due_7_days``), placed before ``reviews_overdue``.
    """

    model_config = ConfigDict(extra="allow", json_schema_extra={
        "patternProperties": {"^reviews_due_[0-9]+_days$": {"type": "integer"}},
        "additionalProperties": False})
    __pydantic_extra__: dict[str, int] = Field(init=False)

    site: str = Field(description="The caseload's site, or unknown.")
    worker: str | None
    active_caseload: int = Field(description="Episodes assigned to the worker.")
    unassigned: int = Field(description="Episodes with no named worker yet.")
    reviews_overdue: int

    @model_serializer(mode="wrap")
    def _in_report_order(self, handler: SerializerFunctionWrapHandler) -> object:
        row = handler(self)
        if isinstance(row, dict):  # the due count goes before the overdue count
            row["reviews_overdue"] = row.pop("reviews_overdue")
        return row


class WorkforceReport(Answer):
    """Per site and worker: caseload, unassigned referrals, reviews due and overdue."""

    as_of: Day
    within_days: int = Field(description="How far ahead a review counts as due.")
    rows: list[WorkforceRow]


class CodedActivity(Answer):
    category: str = Field(description="e.g. referral, assessment, care_plan.")
    code: str = Field(description="SNOMED CT concept id.")
    term: str
    count: int


class ScoreChange(Answer):
    n: int = Field(description="Episodes with the score at start and later.")
    mean_change: float | None


class TopChange(Answer):
    """Change between the start TOP and the latest later one, over episodes."""

    episodes: int
    substances: dict[str, dict[str, int]] = Field(
        description="Per substance, episodes by change: abstinent, reduced, unchanged, "
                    "increased, started, no_use_at_start.")
    scores: dict[str, ScoreChange] = Field(
        description="Per wellbeing score (psychological_health...), the mean change.")


class OutcomesReport(Answer):
    """Referral outcomes, SNOMED-coded activity, TOP change and discharge reasons."""

    model_config = ConfigDict(populate_by_name=True)

    site: str | None = Site
    from_: Moment = From
    to: Moment = To
    referral_outcomes: dict[str, int] = Field(
        description="Referrals in the period by outcome (awaiting: none yet).")
    coded_activity: list[CodedActivity]
    top_change: TopChange
    discharge_reasons: dict[str, int] = Field(description="Discharges in the period by reason.")


class OutcomesBySite(Answer):
    """Referral outcomes for every site with a referral in the period."""

    model_config = ConfigDict(populate_by_name=True)

    from_: Moment = From
    to: Moment = To
    sites: dict[str, dict[str, int]] = Field(
        description="Per site, referrals by outcome (awaiting: none yet).")


class ContinuityReport(Answer):
    """Releases with a treatment need, and how many engaged with treatment within 21 days."""

    model_config = ConfigDict(populate_by_name=True)

    site: str | None = Site
    from_: Moment = From
    to: Moment = To
    released_with_treatment_need: int
    referred_on_release: int
    engaged_within_21_days: int
    not_engaged: int = Field(description="Not engaged within 21 days of release.")
    pending: int = Field(description="Released under 21 days ago, not engaged yet.")
    engagement_rate: float | None = Field(
        description="Engaged, of those decided (engaged or not); null when none is decided.")
