"""Caseloads and the manager's reports: workforce, outcomes, continuity of care."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from sonar.api.deps import ReadStoreDep, TodayDep
from sonar.api.errors import ProblemError
from sonar.api.responses import csv_response, page, wants_csv
from sonar.api.schemas.reports import (
    CaseloadPage,
    ContinuityReport,
    OutcomesBySite,
    OutcomesReport,
    WorkforceReport,
)
from sonar.commands.base import PlausibleDate
from sonar.domain.attribution import day_starts
from sonar.readmodels import caseload, continuity, outcomes

router = APIRouter(prefix="/api/v1", tags=["caseloads and reports"])
Site = Annotated[str | None, Query(max_length=100)]
# The CSV alternative (Accept: text/csv) of a report's JSON.
CSV: dict[int | str, dict[str, object]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}}}


def _period(start: date | None, end: date | None, today: date) -> tuple[datetime, datetime]:
    first = start or today.replace(day=1)
    last = end or today
    if last < first:
        raise ProblemError(422, "period.order", "The period is not valid",
                           "'to' is before 'from'.", errors=[
                               {"field": "to", "in": "query", "rule": "period.order",
                                "detail": "'to' must not be before 'from'"}])
    return day_starts(first), day_starts(last + timedelta(days=1))


@router.get("/caseloads", summary="Open episodes for a worker and/or site, with reviews",
            response_model=CaseloadPage, responses=CSV)
def get_caseload(request: Request, store: ReadStoreDep, today: TodayDep,
                 worker: Annotated[str | None, Query(max_length=100)] = None, site: Site = None,
                 limit: Annotated[int, Query(ge=1, le=500)] = 100,
                 offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
                 ) -> CaseloadPage | Response:
    items = caseload.caseload(store, today, worker=worker, site=site, limit=limit + 1,
                              offset=offset)
    if wants_csv(request):
        return csv_response(items[:limit], "caseload.csv")
    return CaseloadPage.model_validate(page(items, limit, offset))


@router.get("/reports/workforce", summary="Caseloads, unassigned referrals, reviews due/overdue",
            response_model=WorkforceReport, responses=CSV)
def get_workforce(request: Request, store: ReadStoreDep, today: TodayDep, site: Site = None,
                  within_days: Annotated[int, Query(ge=1, le=90)] = 7,
                  ) -> WorkforceReport | Response:
    rows = caseload.workforce(store, today, within_days=within_days, site=site)
    if wants_csv(request):
        return csv_response(rows, "workforce.csv")
    return WorkforceReport.model_validate(
        {"as_of": today.isoformat(), "within_days": within_days, "rows": rows})


@router.get("/reports/outcomes", summary="Referral outcomes, coded activity, TOP change",
            response_model=OutcomesReport, responses=CSV)
def get_outcomes(request: Request, store: ReadStoreDep, today: TodayDep, site: Site = None,
                 start: Annotated[PlausibleDate | None, Query(alias="from")] = None,
                 end: Annotated[PlausibleDate | None, Query(alias="to")] = None,
                 ) -> OutcomesReport | Response:
    report = outcomes.outcomes(store, *_period(start, end, today), site=site)
    if wants_csv(request):
        return csv_response(_flatten(report), "outcomes.csv")
    return OutcomesReport.model_validate(report)


@router.get("/reports/outcomes/by-site", summary="Referral outcomes for every site, side by side")
def get_outcomes_by_site(store: ReadStoreDep, today: TodayDep,
                         start: Annotated[PlausibleDate | None, Query(alias="from")] = None,
                         end: Annotated[PlausibleDate | None, Query(alias="to")] = None,
                         ) -> OutcomesBySite:
    first, last = _period(start, end, today)
    return OutcomesBySite.model_validate(
        {"from": first.isoformat(), "to": last.isoformat(),
         "sites": outcomes.referral_outcomes_by_site(store, first, last)})


@router.get("/reports/continuity", summary="Continuity of care after release (21 days)",
            response_model=ContinuityReport, responses=CSV)
def get_continuity(request: Request, store: ReadStoreDep, today: TodayDep, site: Site = None,
                   start: Annotated[PlausibleDate | None, Query(alias="from")] = None,
                   end: Annotated[PlausibleDate | None, Query(alias="to")] = None,
                   ) -> ContinuityReport | Response:
    report = continuity.continuity(store, *_period(start, end, today), today, site=site)
    if wants_csv(request):
        return csv_response([report], "continuity.csv")
    return ContinuityReport.model_validate(report)


def _flatten(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Outcome figures as long-format rows: measure, key, value."""
    rows: list[dict[str, Any]] = []
    for outcome, n in report["referral_outcomes"].items():
        rows.append({"measure": "referral_outcome", "key": outcome, "value": n})
    for item in report["coded_activity"]:
        rows.append({"measure": f"coded:{item['category']}", "key": item["code"],
                     "value": item["count"]})
    for substance, counts in report["top_change"]["substances"].items():
        for category, n in counts.items():
            rows.append({"measure": f"top:{substance}", "key": category, "value": n})
    for score, summary in report["top_change"]["scores"].items():
        rows.append({"measure": f"top:{score}", "key": "mean_change",
                     "value": summary["mean_change"]})
    for reason, n in report["discharge_reasons"].items():
        rows.append({"measure": "discharge_reason", "key": reason, "value": n})
    return [{"site": report["site"], "from": report["from"], "to": report["to"], **r}
            for r in rows]
