"""The journey across settings: police custody, prison reception, transfer, release, recall."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response

from sonar.api.deps import AppDep, ContextDep, at_time
from sonar.api.responses import accepted
from sonar.api.schemas.common import CommandAccepted
from sonar.api.schemas.patients import (
    PoliceDetentionCreate,
    PoliceReleaseCreate,
    PrisonReceptionCreate,
    PrisonReleaseCreate,
    RecallCreate,
    TransferCreate,
)
from sonar.domain.identity import PncId, PrisonNumber

router = APIRouter(prefix="/api/v1/patients/{patient_id}/custody", tags=["custody"])


@router.post("/police-detentions", status_code=201, summary="Detained in police custody")
def detain(patient_id: UUID, body: PoliceDetentionCreate, app: AppDep, ctx: ContextDep,
           response: Response) -> CommandAccepted:
    pnc = PncId(body.pnc_id) if body.pnc_id else None
    return accepted(app.detain_in_police_custody(at_time(ctx, body.occurred_at), patient_id,
                                                 body.custody_suite, pnc), response)


@router.post("/police-releases", status_code=201, summary="Left police custody")
def release_from_police(patient_id: UUID, body: PoliceReleaseCreate, app: AppDep,
                        ctx: ContextDep, response: Response) -> CommandAccepted:
    return accepted(app.release_from_police_custody(at_time(ctx, body.occurred_at), patient_id,
                                                    body.outcome), response)


@router.post("/prison-receptions", status_code=201, summary="Received into prison")
def receive(patient_id: UUID, body: PrisonReceptionCreate, app: AppDep, ctx: ContextDep,
            response: Response) -> CommandAccepted:
    number = PrisonNumber(body.prison_number) if body.prison_number else None
    return accepted(app.receive_into_prison(at_time(ctx, body.occurred_at), patient_id,
                                            body.establishment, number), response)


@router.post("/transfers", status_code=201, summary="Transferred between establishments")
def transfer(patient_id: UUID, body: TransferCreate, app: AppDep, ctx: ContextDep,
             response: Response) -> CommandAccepted:
    return accepted(app.transfer(at_time(ctx, body.occurred_at), patient_id,
                                 body.to_establishment), response)


@router.post("/releases", status_code=201, summary="Released from prison")
def release(patient_id: UUID, body: PrisonReleaseCreate, app: AppDep, ctx: ContextDep,
            response: Response) -> CommandAccepted:
    return accepted(app.release_from_prison(at_time(ctx, body.occurred_at), patient_id,
                                            body.release_type, body.destination_area), response)


@router.post("/recalls", status_code=201, summary="Recalled to prison")
def recall(patient_id: UUID, body: RecallCreate, app: AppDep, ctx: ContextDep,
           response: Response) -> CommandAccepted:
    return accepted(app.recall_to_prison(at_time(ctx, body.occurred_at), patient_id,
                                         body.recall_type, body.establishment), response)
