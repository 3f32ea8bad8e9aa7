"""Value objects for each step of the prison Substance Misuse Service (SMS) pathway."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sonar.domain import codes, plausible
from sonar.domain.errors import InvalidValue, raise_all
from sonar.domain.values import Immutable

MAX_TEXT = 4000


def _text(value: str | None, field: str, *, required: bool = False, limit: int = MAX_TEXT) -> None:
    if value is None or not value.strip():
        if required:
            raise InvalidValue(f"{field} is required.", rule="text.required", field=field)
        return
    if len(value) > limit:
        raise InvalidValue(f"{field} is longer than {limit} characters.",
                           rule="text.too_long", field=field)
    if any(not (ch.isprintable() or ch in "\n\r\t") for ch in value):
        raise InvalidValue(f"{field} contains control characters.",
                           rule="text.control_characters", field=field)


@dataclass(frozen=True)
class ReceptionScreen(Immutable):
    """First-stage health screen at prison reception, before cell allocation.

    Starts the medicines chart (``medicines``) so the next dose is not missed.
    """

    physical_health_concern: bool
    alcohol_use: bool
    substance_use: bool
    withdrawal_symptoms: bool
    mental_health_concern: bool
    self_harm_risk: bool
    acct_opened: bool
    medicines: tuple[str, ...] = ()
    next_dose_due: datetime | None = None
    refer_to_sms: bool = False
    notes: str | None = None

    def __post_init__(self) -> None:
        for i, name in enumerate(self.medicines):
            _text(name, f"medicines[{i}]", required=True, limit=200)
        if self.next_dose_due is not None:
            plausible.check_moment(self.next_dose_due, "next_dose_due")
        _text(self.notes, "notes")


@dataclass(frozen=True)
class Referral(Immutable):
    """A referral to the SMS team; opens a new episode."""

    source: str
    substances: tuple[str, ...]  # primary, secondary, tertiary in that order
    injecting_status: str
    previously_treated: bool
    notes: str | None = None

    def __post_init__(self) -> None:
        codes.REFERRAL_SOURCE.check(self.source, field="source")
        codes.INJECTING_STATUS.check(self.injecting_status, field="injecting_status")
        if not 1 <= len(self.substances) <= 3:
            raise InvalidValue("Give one to three substances: primary, secondary, tertiary.",
                               rule="referral.substances_count", field="substances")
        for i, substance in enumerate(self.substances):
            codes.SUBSTANCE.check(substance, field=f"substances[{i}]")
        if len(set(self.substances)) != len(self.substances):
            raise InvalidValue("A substance is listed twice.",
                               rule="referral.substances_unique", field="substances")
        _text(self.notes, "notes")


@dataclass(frozen=True)
class ReferralOutcome(Immutable):
    outcome: str
    referred_to: str | None = None
    reason: str | None = None

    def __post_init__(self) -> None:
        codes.REFERRAL_OUTCOME.check(self.outcome, field="outcome")
        _text(self.referred_to, "referred_to", required=self.outcome == "referred_elsewhere",
              limit=200)
        _text(self.reason, "reason")


@dataclass(frozen=True)
class DualDiagnosis(Immutable):
    status: str
    mental_health_service: str | None = None
    notes: str | None = None

    def __post_init__(self) -> None:
        codes.DUAL_DIAGNOSIS.check(self.status, field="status")
        _text(self.mental_health_service, "mental_health_service", limit=200)
        _text(self.notes, "notes")


@dataclass(frozen=True)
class RiskAssessment(Immutable):
    level: str
    risks: tuple[str, ...]
    acct_open: bool = False
    other_risk: str | None = None
    notes: str | None = None

    def __post_init__(self) -> None:
        problems: list[InvalidValue] = []
        try:
            codes.RISK_LEVEL.check(self.level, field="level")
        except InvalidValue as e:
            problems.append(e)
        for i, risk in enumerate(self.risks):
            try:
                codes.NAMED_RISK.check(risk, field=f"risks[{i}]")
            except InvalidValue as e:
                problems.append(e)
        if len(set(self.risks)) != len(self.risks):
            problems.append(InvalidValue("A risk is named twice.", rule="risks.unique",
                                         field="risks"))
        if "other" in self.risks and not (self.other_risk and self.other_risk.strip()):
            problems.append(InvalidValue("Describe the other risk.",
                                         rule="risk.other_described", field="other_risk"))
        if self.acct_open and "self_harm_suicide" not in self.risks:
            problems.append(InvalidValue("An open ACCT means self-harm / suicide risk is named.",
                                         rule="risk.acct_implies_self_harm", field="risks"))
        raise_all(problems)
        _text(self.notes, "notes")


@dataclass(frozen=True)
class BriefIntervention(Immutable):
    intervention: str
    outcome: str
    notes: str | None = None

    def __post_init__(self) -> None:
        codes.BRIEF_INTERVENTION.check(self.intervention, field="intervention")
        codes.BRIEF_INTERVENTION_OUTCOME.check(self.outcome, field="outcome")
        _text(self.notes, "notes")


@dataclass(frozen=True)
class Review(Immutable):
    kind: str
    outcome: str
    notes: str | None = None

    def __post_init__(self) -> None:
        codes.REVIEW_KIND.check(self.kind, field="kind")
        codes.REVIEW_OUTCOME.check(self.outcome, field="outcome")
        _text(self.notes, "notes")


@dataclass(frozen=True)
class CarePlan(Immutable):
    """Goals, agreed interventions (SNOMED coded where possible), named worker, next review."""

    goals: tuple[str, ...]
    interventions: tuple[str, ...]
    named_worker: str
    next_review_date: date

    def __post_init__(self) -> None:
        if not self.goals:
            raise InvalidValue("A care plan has at least one goal.",
                               rule="care_plan.goals_required", field="goals")
        for i, goal in enumerate(self.goals):
            _text(goal, f"goals[{i}]", required=True, limit=500)
        for i, code in enumerate(self.interventions):
            codes.INTERVENTION.check(code, field=f"interventions[{i}]")
        _text(self.named_worker, "named_worker", required=True, limit=100)
        plausible.check_day(self.next_review_date, "next_review_date")


@dataclass(frozen=True)
class Discharge(Immutable):
    exit_reason: str
    destination: str | None = None
    notes: str | None = None

    def __post_init__(self) -> None:
        codes.EXIT_REASON.check(self.exit_reason, field="exit_reason")
        _text(self.destination, "destination", limit=200)
        _text(self.notes, "notes")
