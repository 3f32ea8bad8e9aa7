"""The SMS pathway: reception screen, referral, and each step of an episode."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Response

from sonar.api.deps import AppDep, ContextDep, at_time
from sonar.api.responses import accepted
from sonar.api.schemas.common import CommandAccepted
from sonar.api.schemas.pathway import (
    BriefInterventionCreate,
    CarePlanCreate,
    CaseloadAssignmentCreate,
    DischargeCreate,
    DualDiagnosisCreate,
    ReceptionScreenCreate,
    ReferralCreate,
    ReferralOutcomeCreate,
    ReviewCreate,
    RiskAssessmentCreate,
    TopCreate,
)

router = APIRouter(prefix="/api/v1/patients/{patient_id}", tags=["pathway"])
EpisodeNo = Annotated[int, Path(ge=1, le=10_000, description="Episode number on the record")]


@router.post("/reception-screens", status_code=201, summary="First-stage reception screen")
def record_reception_screen(patient_id: UUID, body: ReceptionScreenCreate, app: AppDep,
                            ctx: ContextDep, response: Response) -> CommandAccepted:
    return accepted(app.record_reception_screen(at_time(ctx, body.occurred_at), patient_id,
                                                body.to_domain()), response)


@router.post("/referrals", status_code=201, summary="Refer to the SMS team (opens an episode)")
def refer(patient_id: UUID, body: ReferralCreate, app: AppDep, ctx: ContextDep,
          response: Response) -> CommandAccepted:
    return accepted(app.refer_to_sms(at_time(ctx, body.occurred_at), patient_id,
                                     body.to_domain()), response)


@router.post("/episodes/{episode}/referral-outcome", status_code=201)
def record_referral_outcome(patient_id: UUID, episode: EpisodeNo, body: ReferralOutcomeCreate,
                            app: AppDep, ctx: ContextDep, response: Response) -> CommandAccepted:
    return accepted(app.record_referral_outcome(at_time(ctx, body.occurred_at), patient_id,
                                                episode, body.to_domain()), response)


@router.post("/episodes/{episode}/dual-diagnoses", status_code=201)
def assess_dual_diagnosis(patient_id: UUID, episode: EpisodeNo, body: DualDiagnosisCreate,
                          app: AppDep, ctx: ContextDep, response: Response) -> CommandAccepted:
    return accepted(app.assess_dual_diagnosis(at_time(ctx, body.occurred_at), patient_id,
                                              episode, body.to_domain()), response)


@router.post("/episodes/{episode}/risk-assessments", status_code=201)
def assess_risk(patient_id: UUID, episode: EpisodeNo, body: RiskAssessmentCreate,
                app: AppDep, ctx: ContextDep, response: Response) -> CommandAccepted:
    return accepted(app.assess_risk(at_time(ctx, body.occurred_at), patient_id, episode,
                                    body.to_domain()), response)


@router.post("/episodes/{episode}/caseload-assignments", status_code=201,
             summary="Assign or reassign the episode to a named worker")
def assign_caseload(patient_id: UUID, episode: EpisodeNo, body: CaseloadAssignmentCreate,
                    app: AppDep, ctx: ContextDep, response: Response) -> CommandAccepted:
    return accepted(app.assign_caseload(at_time(ctx, body.occurred_at), patient_id, episode,
                                        body.worker_id, body.site), response)


@router.post("/episodes/{episode}/brief-interventions", status_code=201)
def record_brief_intervention(patient_id: UUID, episode: EpisodeNo,
                              body: BriefInterventionCreate, app: AppDep, ctx: ContextDep,
                              response: Response) -> CommandAccepted:
    return accepted(app.record_brief_intervention(at_time(ctx, body.occurred_at), patient_id,
                                                  episode, body.to_domain()), response)


@router.post("/episodes/{episode}/tops", status_code=201,
             summary="Record a Treatment Outcomes Profile")
def record_top(patient_id: UUID, episode: EpisodeNo, body: TopCreate, app: AppDep,
               ctx: ContextDep, response: Response) -> CommandAccepted:
    return accepted(app.record_top(at_time(ctx, body.occurred_at), patient_id, episode,
                                   body.to_domain()), response)


@router.post("/episodes/{episode}/reviews", status_code=201,
             summary="Record the 5-day, 28-day or 13-week review")
def record_review(patient_id: UUID, episode: EpisodeNo, body: ReviewCreate, app: AppDep,
                  ctx: ContextDep, response: Response) -> CommandAccepted:
    return accepted(app.record_review(at_time(ctx, body.occurred_at), patient_id, episode,
                                      body.to_domain()), response)


@router.post("/episodes/{episode}/care-plans", status_code=201,
             summary="Revise the care plan (earlier revisions are kept)")
def revise_care_plan(patient_id: UUID, episode: EpisodeNo, body: CarePlanCreate, app: AppDep,
                     ctx: ContextDep, response: Response) -> CommandAccepted:
    return accepted(app.revise_care_plan(at_time(ctx, body.occurred_at), patient_id, episode,
                                         body.to_domain()), response)


@router.post("/episodes/{episode}/discharge", status_code=201,
             summary="Discharge the episode with an exit reason")
def discharge(patient_id: UUID, episode: EpisodeNo, body: DischargeCreate, app: AppDep,
              ctx: ContextDep, response: Response) -> CommandAccepted:
    return accepted(app.discharge(at_time(ctx, body.occurred_at), patient_id, episode,
                                  body.to_domain()), response)
