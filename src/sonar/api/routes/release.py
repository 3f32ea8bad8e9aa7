"""ReSet reads: the release summary, and the released person's appointment diary."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from sonar.api.deps import AppDep, ReadStoreDep
from sonar.api.schemas.release import AppointmentDiary, ReleaseSummary
from sonar.readmodels import diary
from sonar.reports.release_summary import (
    release_summary,
    release_summary_html,
    release_summary_pdf,
)

router = APIRouter(prefix="/api/v1/patients/{patient_id}", tags=["release (ReSet)"])


@router.get("/release-summary", summary="Release summary (handover pack): JSON, HTML or PDF",
            response_model=ReleaseSummary,
            responses={200: {"content": {
                "text/html": {"schema": {"type": "string"}},
                "application/pdf": {"schema": {"type": "string", "format": "binary"}}}}})
def get_release_summary(patient_id: UUID, request: Request,
                        app: AppDep) -> ReleaseSummary | Response:
    """JSON, or the printable page (Accept: text/html), or a PDF (Accept: application/pdf)."""
    summary = release_summary(app.get_record(patient_id))
    accept = request.headers.get("accept", "")
    if "application/pdf" in accept:
        return Response(release_summary_pdf(summary), media_type="application/pdf",
                        headers={"Content-Disposition": 'inline; filename="release-summary.pdf"'})
    if "text/html" in accept:
        return HTMLResponse(release_summary_html(summary))
    return ReleaseSummary.model_validate(summary)


@router.get("/appointments", summary="The appointment diary")
def get_diary(patient_id: UUID, store: ReadStoreDep) -> AppointmentDiary:
    return AppointmentDiary.model_validate({"items": diary.diary(store, str(patient_id))})
