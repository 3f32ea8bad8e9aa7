"""FHIR resources for one clinical entry (screen, assessment, TOP, review, care plan...).

An entry marked in error is still exported, with status ``entered-in-error``: a receiver
that already holds the resource must learn it was withdrawn, and nothing is deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sonar.adapters.fhir.codes import (
    ACT_CODE,
    CONDITION_CATEGORY,
    CONDITION_CLINICAL,
    CONDITION_VERIFICATION,
    FLAG_CATEGORY,
    OBSERVATION_CATEGORY,
    SNOMED,
    coding,
    concept,
    local,
    profiled,
    reference,
    resource_id,
)
from sonar.domain import codes
from sonar.domain.pathway import (
    BriefIntervention,
    CarePlan,
    DualDiagnosis,
    ReceptionScreen,
    Review,
    RiskAssessment,
)
from sonar.domain.sms_episode import Entry
from sonar.domain.top import TOP_ITEM_BY_CODE, TOP_STAGE, ItemKind, Top

Resource = dict[str, Any]
IN_ERROR = "entered-in-error"


@dataclass(frozen=True)
class Scope:
    """Where an entry sits: its patient, its episode (None for a reception screen), and
    whether it is the entry in force now (latest valid of its kind, episode active)."""

    patient_id: UUID
    patient: dict[str, str]
    episode: dict[str, str] | None
    entry: Entry
    current: bool

    @property
    def in_error(self) -> bool:
        return self.entry.in_error is not None

    def new(self, resource_type: str, name: str, **fields: Any) -> Resource:
        rid = resource_id(self.patient_id, f"{name}/{self.entry.version}")
        return profiled(resource_type, id=rid, **fields)

    def note(self, *texts: str | None) -> list[dict[str, str]]:
        found = [t for t in texts if t]
        if self.entry.in_error:
            found.append(f"Entered in error: {self.entry.in_error}")
        return [{"text": t} for t in found]


def _when(moment: datetime) -> str:
    return moment.isoformat()


def _flag(scope: Scope, name: str, code: str, display: str) -> Resource:
    status = IN_ERROR if scope.in_error else ("active" if scope.current else "inactive")
    return scope.new("Flag", f"flag/{name}", status=status,
                     category=[concept(coding(FLAG_CATEGORY, "clinical", "Clinical"))],
                     code=concept(coding(local("alert"), code, display), text=display),
                     subject=scope.patient, period={"start": _when(scope.entry.occurred_at)})


def reception_screen(scope: Scope, screen: ReceptionScreen) -> list[Resource]:
    """The screen as an Encounter at reception, with flags for self-harm risk and an ACCT."""
    status = IN_ERROR if scope.in_error else "finished"
    encounter = scope.new(
        "Encounter", "reception-screen", status=status,
        **{"class": coding(ACT_CODE, "AMB", "ambulatory")},
        type=[concept(coding(local("encounter-type"), "reception_screen",
                             "Prison reception first-stage health screen"))],
        subject=scope.patient, period={"start": _when(scope.entry.occurred_at)})
    flags = []
    if screen.self_harm_risk:
        flags.append(_flag(scope, "self_harm_risk", "self_harm_risk",
                           "Self-harm / suicide risk at reception"))
    if screen.acct_opened:
        flags.append(_flag(scope, "acct_open", "acct_open", "ACCT open"))
    return [encounter, *flags]


def dual_diagnosis(scope: Scope, assessment: DualDiagnosis) -> list[Resource]:
    """Co-occurring mental health need: yes is a Condition, no is refuted, declined unknown."""
    verification = {"yes": "confirmed", "no": "refuted", "declined": "unconfirmed"}
    fields: dict[str, Any] = {}
    if scope.in_error:
        fields["verificationStatus"] = concept(coding(CONDITION_VERIFICATION, IN_ERROR))
    else:
        fields["verificationStatus"] = concept(coding(CONDITION_VERIFICATION,
                                                      verification[assessment.status]))
        if assessment.status == "yes":
            clinical = "active" if scope.current else "inactive"
            fields["clinicalStatus"] = concept(coding(CONDITION_CLINICAL, clinical))
    condition = scope.new(
        "Condition", "dual-diagnosis",
        category=[concept(coding(CONDITION_CATEGORY, "encounter-diagnosis"))],
        code=concept(coding(local("sms-assessment"), "dual_diagnosis",
                            "Dual diagnosis: co-occurring mental health and substance misuse"),
                     text="Dual diagnosis"),
        subject=scope.patient, recordedDate=_when(scope.entry.occurred_at),
        note=scope.note(assessment.mental_health_service and
                        f"Mental health service: {assessment.mental_health_service}",
                        assessment.notes), **fields)
    return [condition]


def risk_flags(scope: Scope, assessment: RiskAssessment) -> list[Resource]:
    """One Flag per named risk, and one for an open ACCT."""
    flags = [_flag(scope, f"risk/{risk}", risk, codes.NAMED_RISK.display(risk)
                   if risk != "other" else f"Other risk: {assessment.other_risk}")
             for risk in assessment.risks]
    if assessment.acct_open:
        flags.append(_flag(scope, "acct_open", "acct_open", "ACCT open"))
    return flags


def brief_intervention(scope: Scope, intervention: BriefIntervention) -> list[Resource]:
    codings = [coding(local("brief-intervention"), intervention.intervention,
                      codes.BRIEF_INTERVENTION.display(intervention.intervention))]
    if intervention.intervention == "alcohol_brief_advice":
        codings.insert(0, coding(SNOMED, "366371000000105", "Brief intervention for "
                                 "excessive alcohol consumption completed"))
    status = IN_ERROR if scope.in_error else (
        "not-done" if intervention.outcome == "declined" else "completed")
    procedure = scope.new("Procedure", "brief-intervention", status=status,
                          code=concept(*codings), subject=scope.patient,
                          performedDateTime=_when(scope.entry.occurred_at),
                          note=scope.note(f"Outcome: {intervention.outcome}",
                                          intervention.notes))
    return [procedure]


def _top_value(code: str, value: int | float | bool) -> dict[str, Any]:
    item = TOP_ITEM_BY_CODE[code]
    if item.kind is ItemKind.YES_NO:
        return {"valueBoolean": bool(value)}
    if item.kind is ItemKind.AMOUNT:
        return {"valueQuantity": {"value": value, "unit": item.unit}}
    return {"valueInteger": int(value)}


def top_observations(scope: Scope, top: Top) -> list[Resource]:
    """A TOP panel Observation with one member Observation per answered item.

    Not answered items are absent (never 0). A TOP taken at a new custodial stay asks
    about the four weeks before custody, which the note says.
    """
    status = IN_ERROR if scope.in_error else "final"
    when = _when(scope.entry.occurred_at)
    survey = [concept(coding(OBSERVATION_CATEGORY, "survey", "Survey"))]
    period_note = ("Answers refer to the four weeks before custody." if top.before_custody
                   else "Answers refer to the past 28 days.")
    members: list[Resource] = []
    for code, value in top.answers.values.items():
        if value is None:
            continue
        item = TOP_ITEM_BY_CODE[code]
        named = (top.answers.other_substance_name if code.startswith("other_") else None)
        members.append(scope.new(
            "Observation", f"top/{code}", status=status, category=survey,
            code=concept(coding(local("top-item"), code, item.label)), subject=scope.patient,
            effectiveDateTime=when, note=scope.note(named and f"Substance: {named}"),
            **_top_value(code, value)))
    panel = scope.new(
        "Observation", "top", status=status, category=survey,
        code=concept(coding(local("top-item"), "top", "Treatment Outcomes Profile")),
        subject=scope.patient, effectiveDateTime=when,
        hasMember=[reference(m) for m in members], note=scope.note(period_note),
        component=[{"code": concept(coding(local("top-item"), "stage", "TOP stage")),
                    "valueCodeableConcept": concept(coding(
                        local("top-stage"), top.stage, TOP_STAGE.display(top.stage)))}])
    if scope.episode:
        panel["focus"] = [scope.episode]
    return [panel, *members]


def review_encounter(scope: Scope, review: Review) -> list[Resource]:
    """A 5-day / 28-day / 13-week review as an Encounter of the episode of care."""
    status = IN_ERROR if scope.in_error else (
        "finished" if review.outcome == "completed" else "cancelled")
    encounter = scope.new(
        "Encounter", "review", status=status,
        **{"class": coding(ACT_CODE, "AMB", "ambulatory")},
        type=[concept(coding(SNOMED, "414283008", "Follow up substance misuse assessment"),
                      coding(local("review-kind"), review.kind,
                             codes.REVIEW_KIND.display(review.kind)))],
        subject=scope.patient, period={"start": _when(scope.entry.occurred_at)},
        reasonCode=[concept(coding(local("review-outcome"), review.outcome,
                                   codes.REVIEW_OUTCOME.display(review.outcome)))])
    if scope.episode:
        encounter["episodeOfCare"] = [scope.episode]
    return [encounter]


_ACTIVITY_STATUS = {"active": "in-progress", "completed": "completed", "revoked": "stopped",
                    IN_ERROR: IN_ERROR}


def care_plan(scope: Scope, plan: CarePlan, revision: int, status: str,
              replaces: dict[str, str] | None) -> list[Resource]:
    """One CarePlan per revision; earlier revisions are revoked and replaced by later ones."""
    activity_status = _ACTIVITY_STATUS[status]
    activities: list[dict[str, Any]] = []
    for code in plan.interventions:
        system = SNOMED if code.isdigit() else local("intervention")
        activities.append({"detail": {"status": activity_status, "code": concept(
            coding(system, code, codes.INTERVENTION.display(code)))}})
    activities.append({"detail": {
        "status": "scheduled" if status == "active" else activity_status,
        "code": concept(coding(local("care-plan-activity"), "plan_review",
                               "Care plan review")),
        "scheduledPeriod": {"start": plan.next_review_date.isoformat()}}})
    resource = scope.new(
        "CarePlan", "care-plan", status=status, intent="plan",
        title=f"SMS care plan, revision {revision}", subject=scope.patient,
        created=_when(scope.entry.occurred_at),
        period={"start": _when(scope.entry.occurred_at)},
        author={"display": plan.named_worker},
        description="; ".join(plan.goals), activity=activities,
        note=scope.note(*(f"Goal: {goal}" for goal in plan.goals)))
    if replaces:
        resource["replaces"] = [replaces]
    return [resource]
