"""Commands of the prison Substance Misuse Service pathway: reception screen, referral, and
each step of an episode."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from sonar.commands.base import (
    EpisodeCommand,
    Notes,
    PatientCommand,
    PlausibleDate,
    PlausibleMoment,
    Step,
    coded,
    codes_of,
)
from sonar.domain import codes
from sonar.domain.attribution import Attribution
from sonar.domain.care_record import CareRecord
from sonar.domain.pathway import (
    BriefIntervention,
    CarePlan,
    Discharge,
    DualDiagnosis,
    ReceptionScreen,
    Referral,
    ReferralOutcome,
    Review,
    RiskAssessment,
)
from sonar.domain.top import TOP_ITEMS, TOP_STAGE, ItemKind, Top, TopAnswers


def _yes_no(title: str) -> Any:
    return Field(title=title)


class RecordReceptionScreen(PatientCommand):
    """First-stage reception health screen."""

    step = Step("/reception-screens", "write_pathway", "Record the reception health screen",
                "Reception health screen recorded", tag="pathway")

    physical_health_concern: bool = _yes_no("Physical health concern")
    alcohol_use: bool = _yes_no("Alcohol use")
    substance_use: bool = _yes_no("Drug or other substance use")
    withdrawal_symptoms: bool = _yes_no("Withdrawal symptoms")
    mental_health_concern: bool = _yes_no("Mental health concern")
    self_harm_risk: bool = _yes_no("Risk of self-harm or suicide")
    acct_opened: bool = _yes_no("ACCT opened (self-harm and suicide care plan)")
    medicines: list[str] = Field(default_factory=list, max_length=50, title="Current medicines",
                                 description="One medicine a line, with its dose.")
    next_dose_due: PlausibleMoment | None = Field(None, title="Next dose due")
    refer_to_sms: bool = Field(False, title="Refer to the substance misuse service")
    notes: Notes = Field(None, title="Notes")

    def apply(self, record: CareRecord, at: Attribution) -> None:
        record.record_reception_screen(ReceptionScreen(
            self.physical_health_concern, self.alcohol_use, self.substance_use,
            self.withdrawal_symptoms, self.mental_health_concern, self.self_harm_risk,
            self.acct_opened, tuple(self.medicines), self.next_dose_due, self.refer_to_sms,
            self.notes), at)


class ReferToSms(PatientCommand):
    """Refer to the SMS team (opens an episode)."""

    step = Step("/referrals", "write_pathway", "Refer to substance misuse services",
                "Referral recorded", tag="pathway")

    source: str = coded(codes.REFERRAL_SOURCE, "Referral source")
    substances: list[str] = codes_of(codes.SUBSTANCE, "Substances (primary first)",
                                     "Primary, secondary and tertiary, in that order.", 10)
    injecting_status: str = coded(codes.INJECTING_STATUS, "Injecting status")
    previously_treated: bool = Field(title="Previously treated for substance misuse")
    notes: Notes = Field(None, title="Notes")

    def apply(self, record: CareRecord, at: Attribution) -> int:
        return record.refer_to_sms(Referral(self.source, tuple(self.substances),
                                            self.injecting_status, self.previously_treated,
                                            self.notes), at)


class RecordReferralOutcome(EpisodeCommand):
    """Record the referral outcome."""

    step = Step("/episodes/{episode}/referral-outcome", "write_pathway",
                "Record the referral outcome", "Referral outcome recorded", tag="pathway")

    outcome: str = coded(codes.REFERRAL_OUTCOME, "Outcome")
    referred_to: str | None = Field(None, max_length=200,
                                    title="Referred on to (if onward referral)")
    reason: Notes = Field(None, title="Reason")

    def apply(self, record: CareRecord, at: Attribution) -> None:
        record.record_referral_outcome(self.episode, ReferralOutcome(
            self.outcome, self.referred_to, self.reason), at)


class AssessDualDiagnosis(EpisodeCommand):
    """Record dual diagnosis (a co-occurring mental health condition)."""

    step = Step("/episodes/{episode}/dual-diagnoses", "write_pathway", "Record dual diagnosis",
                "Dual diagnosis recorded", tag="pathway")

    status: str = coded(codes.DUAL_DIAGNOSIS, "Co-occurring mental health condition")
    mental_health_service: str | None = Field(
        None, max_length=200, title="Mental health service involved (if any)")
    notes: Notes = Field(None, title="Notes")

    def apply(self, record: CareRecord, at: Attribution) -> None:
        record.assess_dual_diagnosis(self.episode, DualDiagnosis(
            self.status, self.mental_health_service, self.notes), at)


class AssessRisk(EpisodeCommand):
    """Record a risk assessment: overall level and named risks."""

    step = Step("/episodes/{episode}/risk-assessments", "write_pathway", "Assess risk",
                "Risk assessment recorded", tag="pathway")

    level: str = coded(codes.RISK_LEVEL, "Risk level")
    risks: list[str] = codes_of(codes.NAMED_RISK, "Named risks",
                                "Tick every risk that applies.")
    acct_open: bool = Field(False, title="ACCT open (self-harm and suicide care plan)")
    other_risk: str | None = Field(None, max_length=200,
                                   title="Other risk (if other is ticked)")
    notes: Notes = Field(None, title="Notes")

    def apply(self, record: CareRecord, at: Attribution) -> None:
        record.assess_risk(self.episode, RiskAssessment(
            self.level, tuple(self.risks), self.acct_open, self.other_risk, self.notes), at)


class AssignCaseload(EpisodeCommand):
    """Assign or reassign the episode to a named worker."""

    step = Step("/episodes/{episode}/caseload-assignments", "write_pathway", "Assign to a caseload",
                "Caseload assigned", tag="pathway")

    worker_id: str = Field(max_length=100, title="Named worker",
                           description="Their SONAR username.")
    site: str = Field(max_length=100, title="Site")

    def apply(self, record: CareRecord, at: Attribution) -> None:
        record.assign_caseload(self.episode, self.worker_id, self.site, at)


class RecordBriefIntervention(EpisodeCommand):
    """Record a brief intervention and its outcome."""

    step = Step("/episodes/{episode}/brief-interventions", "write_pathway",
                "Record a brief intervention", "Brief intervention recorded", tag="pathway")

    intervention: str = coded(codes.BRIEF_INTERVENTION, "Intervention")
    outcome: str = coded(codes.BRIEF_INTERVENTION_OUTCOME, "Outcome")
    notes: Notes = Field(None, title="Notes")

    def apply(self, record: CareRecord, at: Attribution) -> None:
        record.record_brief_intervention(self.episode, BriefIntervention(
            self.intervention, self.outcome, self.notes), at)


def _answers_schema() -> dict[str, Any]:
    kinds = {ItemKind.YES_NO: "boolean", ItemKind.AMOUNT: "number"}
    return {"type": "object", "additionalProperties": False, "properties": {
        item.code: {"type": [kinds.get(item.kind, "integer"), "null"], "title": item.label}
        | ({} if item.kind is ItemKind.YES_NO
           else {"minimum": item.minimum, "maximum": item.maximum})
        for item in TOP_ITEMS}}


class RecordTop(EpisodeCommand):
    """Record a Treatment Outcomes Profile."""

    step = Step("/episodes/{episode}/tops", "write_pathway", "Record a TOP", "TOP recorded",
                tag="pathway")

    stage: str = coded(TOP_STAGE, "TOP stage")
    before_custody: bool = Field(False, title="Answers are about the 4 weeks before custody",
                                 description="In a secure setting the TOP asks about the four "
                                             "weeks before custody.")
    answers: dict[str, int | float | bool | None] = Field(
        max_length=len(TOP_ITEMS) + 5, json_schema_extra=_answers_schema(), title="Answers",
        description="Item code → answer. Leave an item out (or null) when not answered; "
                    "0 is an answer.")
    other_substance_name: str | None = Field(None, max_length=100,
                                             title="Name of other substance (if used)")

    def apply(self, record: CareRecord, at: Attribution) -> None:
        record.record_top(self.episode, Top(
            self.stage, TopAnswers(self.answers, self.other_substance_name),
            self.before_custody), at)


class RecordReview(EpisodeCommand):
    """Record the 5-day, 28-day or 13-week review."""

    step = Step("/episodes/{episode}/reviews", "write_pathway", "Record a review",
                "Review recorded", tag="pathway")

    kind: str = coded(codes.REVIEW_KIND, "Review")
    outcome: str = coded(codes.REVIEW_OUTCOME, "Outcome")
    notes: Notes = Field(None, title="Notes")

    def apply(self, record: CareRecord, at: Attribution) -> None:
        record.record_review(self.episode, Review(self.kind, self.outcome, self.notes), at)


class ReviseCarePlan(EpisodeCommand):
    """Revise the care plan (earlier revisions are kept)."""

    step = Step("/episodes/{episode}/care-plans", "write_pathway", "Revise the care plan",
                "Care plan saved", tag="pathway")

    goals: list[str] = Field(max_length=20, title="Goals",
                             description="One goal a line, in the person's own words where "
                                         "possible.")
    interventions: list[str] = codes_of(codes.INTERVENTION, "Agreed interventions")
    named_worker: str = Field(max_length=100, title="Named worker")
    next_review_date: PlausibleDate = Field(title="Next review date")

    def apply(self, record: CareRecord, at: Attribution) -> None:
        record.revise_care_plan(self.episode, CarePlan(
            tuple(self.goals), tuple(self.interventions), self.named_worker,
            self.next_review_date), at)


class DischargeEpisode(EpisodeCommand):
    """Discharge the episode with an exit reason."""

    step = Step("/episodes/{episode}/discharge", "write_pathway", "Discharge", "Episode discharged",
                tag="pathway")

    exit_reason: str = coded(codes.EXIT_REASON, "Exit reason")
    destination: str | None = Field(None, max_length=200, title="Destination (if known)")
    notes: Notes = Field(None, title="Notes")

    def apply(self, record: CareRecord, at: Attribution) -> None:
        record.discharge(self.episode, Discharge(self.exit_reason, self.destination,
                                                      self.notes), at)


COMMANDS: tuple[type[PatientCommand], ...] = (
    RecordReceptionScreen, ReferToSms, RecordReferralOutcome, AssessDualDiagnosis, AssessRisk,
    AssignCaseload, RecordBriefIntervention, RecordTop, RecordReview, ReviseCarePlan,
    DischargeEpisode)
