"""Models for each step of the SMS pathway; ``to_domain`` builds the domain value object."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from sonar.api.schemas.common import CommandBody, PlausibleDate, PlausibleMoment, coded
from sonar.domain import codes
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

_Notes = Field(None, max_length=4000)


class ReceptionScreenCreate(CommandBody):
    physical_health_concern: bool
    alcohol_use: bool
    substance_use: bool
    withdrawal_symptoms: bool
    mental_health_concern: bool
    self_harm_risk: bool
    acct_opened: bool
    medicines: list[str] = Field(default_factory=list, max_length=50)
    next_dose_due: PlausibleMoment | None = Field(None, strict=False)
    refer_to_sms: bool = False
    notes: str | None = _Notes

    def to_domain(self) -> ReceptionScreen:
        return ReceptionScreen(
            self.physical_health_concern, self.alcohol_use, self.substance_use,
            self.withdrawal_symptoms, self.mental_health_concern, self.self_harm_risk,
            self.acct_opened, tuple(self.medicines), self.next_dose_due, self.refer_to_sms,
            self.notes)


class ReferralCreate(CommandBody):
    source: str = coded(codes.REFERRAL_SOURCE)
    substances: list[str] = Field(max_length=10, description="Primary, secondary, tertiary: "
                                  f"{', '.join(codes.SUBSTANCE)}.")
    injecting_status: str = coded(codes.INJECTING_STATUS)
    previously_treated: bool
    notes: str | None = _Notes

    def to_domain(self) -> Referral:
        return Referral(self.source, tuple(self.substances), self.injecting_status,
                        self.previously_treated, self.notes)


class ReferralOutcomeCreate(CommandBody):
    outcome: str = coded(codes.REFERRAL_OUTCOME)
    referred_to: str | None = Field(None, max_length=200)
    reason: str | None = _Notes

    def to_domain(self) -> ReferralOutcome:
        return ReferralOutcome(self.outcome, self.referred_to, self.reason)


class DualDiagnosisCreate(CommandBody):
    status: str = coded(codes.DUAL_DIAGNOSIS)
    mental_health_service: str | None = Field(None, max_length=200)
    notes: str | None = _Notes

    def to_domain(self) -> DualDiagnosis:
        return DualDiagnosis(self.status, self.mental_health_service, self.notes)


class RiskAssessmentCreate(CommandBody):
    level: str = coded(codes.RISK_LEVEL)
    risks: list[str] = Field(max_length=20,
                             description=f"Named risks: {', '.join(codes.NAMED_RISK)}.")
    acct_open: bool = False
    other_risk: str | None = Field(None, max_length=200)
    notes: str | None = _Notes

    def to_domain(self) -> RiskAssessment:
        return RiskAssessment(self.level, tuple(self.risks), self.acct_open, self.other_risk,
                              self.notes)


class CaseloadAssignmentCreate(CommandBody):
    worker_id: str = Field(max_length=100)
    site: str = Field(max_length=100)


class BriefInterventionCreate(CommandBody):
    intervention: str = coded(codes.BRIEF_INTERVENTION)
    outcome: str = coded(codes.BRIEF_INTERVENTION_OUTCOME)
    notes: str | None = _Notes

    def to_domain(self) -> BriefIntervention:
        return BriefIntervention(self.intervention, self.outcome, self.notes)


def _answers_schema() -> dict[str, Any]:
    kinds = {ItemKind.YES_NO: "boolean", ItemKind.AMOUNT: "number"}
    return {"type": "object", "additionalProperties": False, "properties": {
        item.code: {"type": [kinds.get(item.kind, "integer"), "null"], "title": item.label}
        | ({} if item.kind is ItemKind.YES_NO
           else {"minimum": item.minimum, "maximum": item.maximum})
        for item in TOP_ITEMS}}


class TopCreate(CommandBody):
    stage: str = coded(TOP_STAGE)
    before_custody: bool = Field(False, description="In a secure setting the TOP asks about "
                                 "the four weeks before custody.")
    answers: dict[str, int | float | bool | None] = Field(
        max_length=len(TOP_ITEMS) + 5, json_schema_extra=_answers_schema(),
        description="Item code → answer. Leave an item out (or null) when not answered; "
                    "0 is an answer.")
    other_substance_name: str | None = Field(None, max_length=100)

    def to_domain(self) -> Top:
        return Top(self.stage, TopAnswers(self.answers, self.other_substance_name),
                   self.before_custody)


class ReviewCreate(CommandBody):
    kind: str = coded(codes.REVIEW_KIND)
    outcome: str = coded(codes.REVIEW_OUTCOME)
    notes: str | None = _Notes

    def to_domain(self) -> Review:
        return Review(self.kind, self.outcome, self.notes)


class CarePlanCreate(CommandBody):
    goals: list[str] = Field(max_length=20)
    interventions: list[str] = Field(max_length=20, description="Intervention codes: "
                                     f"{', '.join(codes.INTERVENTION)}.")
    named_worker: str = Field(max_length=100)
    next_review_date: PlausibleDate = Field(strict=False)

    def to_domain(self) -> CarePlan:
        return CarePlan(tuple(self.goals), tuple(self.interventions), self.named_worker,
                        self.next_review_date)


class DischargeCreate(CommandBody):
    exit_reason: str = coded(codes.EXIT_REASON)
    destination: str | None = Field(None, max_length=200)
    notes: str | None = _Notes

    def to_domain(self) -> Discharge:
        return Discharge(self.exit_reason, self.destination, self.notes)
