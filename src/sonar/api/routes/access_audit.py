"""The access log for auditors: who read patient X, and what user Y read, with dates."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool

from sonar.api.errors import ProblemError
from sonar.api.schemas.access import AccessLogPage
from sonar.audit.access_log import AccessLog
from sonar.commands.base import PlausibleDate
from sonar.domain.attribution import day_starts

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


@router.get("/access", summary="Reads of identifiable data, by patient and/or by user")
async def access_log(request: Request,
                     patient_id: UUID | None = None,
                     user: Annotated[str | None, Query(max_length=100,
                                                       description="The user's actor id")] = None,
                     start: Annotated[PlausibleDate | None, Query(alias="from")] = None,
                     end: Annotated[PlausibleDate | None, Query(alias="to",
                                                       description="Inclusive")] = None,
                     limit: Annotated[int, Query(ge=1, le=5000)] = 500) -> AccessLogPage:
    if patient_id is None and not user:
        raise ProblemError(422, "audit.criteria", "Say whose access to show",
                           "Give patient_id, user, or both.",
                           errors=[{"field": "patient_id", "in": "query",
                                    "rule": "audit.criteria", "detail": "no criteria"}])
    log: AccessLog = request.app.state.access_log
    end_at = day_starts(end + timedelta(days=1)) if end else None
    items = await run_in_threadpool(lambda: log.search(
        patient_id=str(patient_id) if patient_id else None, actor_id=user,
        start=day_starts(start) if start else None, end=end_at, limit=limit))
    return AccessLogPage.model_validate({"items": items, "limit": limit})
