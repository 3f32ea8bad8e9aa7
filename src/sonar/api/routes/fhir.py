"""FHIR: export a care record as an R4 Bundle, and import a GP record Bundle.

The import reads the raw body itself (not a pydantic model) so malformed JSON and
invalid FHIR come back as one problem document listing every issue by JSON pointer.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from sonar.adapters.fhir.export import export_bundle
from sonar.api.deps import AppDep, ContextDep
from sonar.api.errors import ProblemError
from sonar.commands.gp_import import GpImportRefused, import_gp_record

FHIR_JSON = "application/fhir+json"
router = APIRouter(prefix="/api/v1/patients/{patient_id}", tags=["fhir"])


@router.get("/fhir", summary="The care record as a FHIR R4 Bundle (UK Core profiles)",
            response_class=JSONResponse,
            responses={200: {"content": {FHIR_JSON: {}}}})
def export_fhir(patient_id: UUID, app: AppDep) -> JSONResponse:
    record = app.get_record(patient_id)
    bundle = export_bundle(record, list(app.events.get(patient_id)))
    return JSONResponse(bundle, media_type=FHIR_JSON)


@router.post("/gp-record", status_code=201,
             summary="Import a GP record Bundle (GP Connect structured record style)",
             openapi_extra={"requestBody": {"required": True,
                                            "content": {FHIR_JSON: {}, "application/json": {}}}})
async def import_gp(patient_id: UUID, request: Request, app: AppDep, ctx: ContextDep,
                    response: Response,
                    partial: Annotated[bool, Query(
                        description="Import the good entries and skip bad ones")] = False,
                    ) -> dict[str, Any]:
    body = await request.body()
    try:
        report = await run_in_threadpool(import_gp_record, app, ctx, patient_id, body, partial)
    except GpImportRefused as refused:
        errors = [{"pointer": p.pointer, "rule": p.rule, "detail": p.detail}
                  for p in refused.problems]
        raise ProblemError(422, refused.rule, "The GP record bundle is not valid",
                           refused.message, errors=errors) from None
    response.headers["X-Log-Position"] = str(report.position)
    if report.imported == 0:
        response.status_code = 200
    return {"patient_id": str(report.patient_id), "imported": report.imported,
            "already_imported": report.already_imported,
            "skipped": [{"pointer": s.pointer, "rule": s.rule, "reason": s.detail}
                        for s in report.skipped],
            "position": report.position, "replayed": report.replayed}
