"""Reports: workforce (caseloads and reviews by site and worker), referral outcomes by site,
and one patient's TOP trajectory; each chart is server-drawn SVG with a table of its figures.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from sonar.domain import codes
from sonar.domain.top import SCORE_ITEMS, SUBSTANCES, TOP_ITEMS, TOP_STAGE
from sonar.ui._charts import Series, bar_chart, line_chart
from sonar.ui._forms import Field, Form, Kind, Section, place, to_body
from sonar.ui._record import refused
from sonar.ui._web import P, checked, problem, reading, render, signed_in

router = APIRouter(prefix="/ui/reports", include_in_schema=False)

PERIOD = Form("Period", (Section("", (
    Field("from", "From", Kind.DATE, hint="Referrals made on or after this date"),
    Field("to", "To", Kind.DATE, hint="Up to and including this date"),
)),), "Show")
_OUTCOMES = {**codes.REFERRAL_OUTCOME.terms, "awaiting": "Awaiting outcome"}


@router.get("")
def reports() -> RedirectResponse:
    return RedirectResponse("/ui/reports/workforce", status_code=303)


@router.get("/workforce")
async def workforce(request: Request, within_days: str = "7") -> Response:
    api = signed_in(request)
    days = min(max(int(within_days), 1), 90) if within_days.isdigit() else 7
    answer = checked(await api.get("/api/v1/reports/workforce",
                                   {"within_days": days, **reading(request)}))
    if not answer.ok:
        return problem(request, answer)
    rows: list[dict[str, Any]] = answer.body["rows"]
    due = f"reviews_due_{days}_days"
    names = [f"{r['worker'] or 'Unassigned'} ({r['site']})" for r in rows]
    chart = bar_chart("workforce-chart", "Caseloads and reviews by worker and site", names, [
        Series("Open episodes", tuple(r["active_caseload"] + r["unassigned"] for r in rows)),
        Series(f"Reviews due in {days} days", tuple(r[due] for r in rows)),
        Series("Reviews overdue", tuple(r["reviews_overdue"] for r in rows)),
    ]) if rows else None
    return render(request, "reports_workforce.html", rows=rows, due=due, days=days,
                  chart=chart, as_of=answer.body["as_of"])


@router.get("/outcomes")
async def outcomes(request: Request) -> Response:
    api = signed_in(request)
    values = dict(request.query_params)
    period, errors = to_body(PERIOD, values)
    by_site: dict[str, dict[str, int]] = {}
    if not errors:
        answer = checked(await api.get("/api/v1/reports/outcomes/by-site",
                                       {**period, **reading(request)}))
        if answer.status == 422:
            errors = place(PERIOD, answer.problems())
        elif not answer.ok:
            return problem(request, answer)
        else:
            by_site = answer.body["sites"]
    sites = list(by_site)
    chart = bar_chart("outcomes-chart", "Referral outcomes by site", sites, [
        Series(label, tuple(by_site[s].get(code, 0) for s in sites))
        for code, label in _OUTCOMES.items()]) if sites else None
    return render(request, "reports_outcomes.html", 422 if errors else 200, form=PERIOD,
                  values=values, errors=errors, by_site=by_site, outcomes=_OUTCOMES,
                  chart=chart)


_SUBSTANCE_LABELS = {f"{code}_days": label for code, label, *_ in SUBSTANCES}
_SCORE_LABELS = {i.code: i.label.split(" (")[0] for i in TOP_ITEMS if i.code in SCORE_ITEMS}


def _series(tops: list[dict[str, Any]], labels: dict[str, str]) -> list[Series]:
    """One series per item answered at least once; unanswered TOPs are gaps."""
    answers = [t["payload"]["top"]["answers"]["values"] for t in tops]
    return [Series(label, tuple(a.get(code) for a in answers)) for code, label in labels.items()
            if any(isinstance(a.get(code), int | float) for a in answers)]


@router.get("/top-trajectory/{patient_id}")
async def top_trajectory(request: Request, patient_id: str) -> Response:
    api = signed_in(request)
    found = checked(await api.get(f"{P}/{quote(patient_id)}/record", reading(request)))
    if not found.ok:
        return refused(request, found, patient_id)
    answer, entries = await api.items(f"{P}/{quote(patient_id)}/timeline",
                                      {"event_type": "TopRecorded", **reading(request)})
    checked(answer)
    tops = [e for e in entries if not e.get("in_error_reason")]
    dates = [str(t["occurred_at"])[:10] for t in tops]
    use, scores = _series(tops, _SUBSTANCE_LABELS), _series(tops, _SCORE_LABELS)
    return render(
        request, "top_trajectory.html", patient=found.body, tops=tops,
        in_error=len(entries) - len(tops), stages=TOP_STAGE.terms, use=use, scores=scores,
        use_chart=line_chart("top-use-chart", "Days used in the past 28 days, by TOP",
                             dates, use, 28) if use else None,
        score_chart=line_chart("top-score-chart", "Health and quality of life scores "
                               "(0 poor to 20 good), by TOP", dates, scores, 20)
        if scores else None)
