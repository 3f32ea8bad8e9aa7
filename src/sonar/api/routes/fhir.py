"""FHIR: export a care record as an R4 Bundle, and import a GP record Bundle.

The import reads the raw body itself (not a pydantic model) so malformed JSON and
invalid FHIR come back as one problem document listing every issue by JSON pointer.
"""

from __future__ import annotations

from typing import Annotated, NoReturn
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from sonar.adapters.fhir.export import export_bundle
from sonar.adapters.fhir.gp_bundle import Issue, entry_order, import_command, parse_gp_bundle
from sonar.api.deps import AppDep, BusDep, ContextDep
from sonar.api.errors import ProblemError
from sonar.api.schemas.fhir import FhirBundle, GpRecordImported
from sonar.domain.errors import InvalidValue

FHIR_JSON = "application/fhir+json"
router = APIRouter(prefix="/api/v1/patients/{patient_id}", tags=["fhir"])


class FhirJSONResponse(JSONResponse):
    media_type = FHIR_JSON


@router.get("/fhir", summary="The care record as a FHIR R4 Bundle (UK Core profiles)",
            response_class=FhirJSONResponse)
def export_fhir(patient_id: UUID, app: AppDep) -> FhirBundle:
    record = app.get_record(patient_id)
    return FhirBundle.model_validate(export_bundle(record, list(app.events.get(patient_id))))


@router.post("/gp-record", status_code=201,
             summary="Import a GP record Bundle (GP Connect structured record style)",
             responses={200: {"model": GpRecordImported,
                              "description": "Nothing new: every item was already imported."}},
             openapi_extra={"requestBody": {"required": True,
                                            "content": {FHIR_JSON: {}, "application/json": {}}}})
async def import_gp(patient_id: UUID, request: Request, bus: BusDep, ctx: ContextDep,
                    response: Response,
                    partial: Annotated[bool, Query(
                        description="Import the good entries and skip bad ones")] = False,
                    ) -> GpRecordImported:
    """A partly bad bundle imports nothing unless the caller asks for a partial import: a
    clinician must not be left believing an allergy list is complete when one allergy was
    refused. Problems about the whole bundle (not JSON, no source) refuse it even then."""
    parsed = parse_gp_bundle(await request.body())
    if parsed.fatal or (parsed.problems and not partial):
        _refuse(parsed.fatal + parsed.problems)
    try:
        result = await run_in_threadpool(bus.handle, ctx, import_command(patient_id, parsed))
    except InvalidValue as refused:  # the domain's identity check: another person's record
        _refuse([Issue(parsed.nhs_pointer if refused.field == "nhs_number" else "",
                       refused.rule, refused.message)])
    response.headers["X-Log-Position"] = str(result.position)
    if not result.details["imported"]:
        response.status_code = 200
    skipped = sorted(parsed.skipped + parsed.problems, key=entry_order)
    return GpRecordImported.model_validate(
        {"patient_id": result.patient_id, **result.details,
         "skipped": [{"pointer": s.pointer, "rule": s.rule, "reason": s.detail}
                     for s in skipped],
         "position": result.position, "replayed": result.replayed})


def _refuse(problems: list[Issue]) -> NoReturn:
    errors = [{"pointer": p.pointer, "rule": p.rule, "detail": p.detail} for p in problems]
    raise ProblemError(422, "gp_import.invalid", "The GP record bundle is not valid",
                       f"The GP record bundle has {len(problems)} problem(s); nothing was "
                       "imported.", errors=errors)
