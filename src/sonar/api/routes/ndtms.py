"""`GET /api/v1/reports/ndtms`: the NDTMS secure-settings extract and its validation report.

Built from the write model like `sonar export ndtms` (same rows, same CSV), so the API and
the offline extract never disagree and neither depends on read-model lag. It reads every
record in the store, so it runs in the thread pool and is meant for a monthly return, not
for polling.
"""

from __future__ import annotations

import io
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from sonar.api.deps import AppDep
from sonar.api.errors import ProblemError
from sonar.api.responses import wants_csv
from sonar.api.schemas.ndtms import NdtmsReport
from sonar.commands.base import PlausibleDate
from sonar.reports.ndtms import (
    COLUMNS,
    NdtmsNotConfigured,
    Period,
    build_extract,
    pseudonym_salt,
    write_csv,
)

router = APIRouter(prefix="/api/v1/reports", tags=["caseloads and reports"])


@router.get("/ndtms", summary="NDTMS secure-settings extract with missing mandatory items",
            response_model=NdtmsReport,
            responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}},
                       500: {"description": "No pseudonymisation salt is configured "
                                            "(SONAR_NDTMS_SALT), so no extract can be made."}})
def get_ndtms(request: Request, app: AppDep,
              start: Annotated[PlausibleDate, Query(alias="from",
                                                    description="First day (included)")],
              end: Annotated[PlausibleDate, Query(alias="to",
                                                  description="Last day (included)")],
              site: Annotated[str | None, Query(max_length=100)] = None,
              ) -> NdtmsReport | Response:
    """CSV (Accept: text/csv) of the return's rows, else JSON ``{rows, problems}``."""
    try:
        period = Period(start, end)
    except ValueError as e:
        raise ProblemError(422, "period.order", "The period is not valid", str(e), errors=[
            {"field": "to", "in": "query", "rule": "period.order",
             "detail": "'to' must not be before 'from'"}]) from None
    try:
        salt = pseudonym_salt(request.app.state.settings.environment)
    except NdtmsNotConfigured as e:
        raise ProblemError(500, "ndtms.not_configured", "NDTMS extract is not configured",
                           str(e)) from None
    extract = build_extract(app, period, site, salt)
    if wants_csv(request):
        out = io.StringIO()
        write_csv(extract.rows, COLUMNS, out)
        name = f"ndtms_{start.isoformat()}_{end.isoformat()}.csv"
        return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
    return NdtmsReport.model_validate({"from": start.isoformat(), "to": end.isoformat(),
                                       "site": site, "rows": extract.rows,
                                       "problems": extract.problems})
