"""The patient record page: banner, the steps to record, and the filtered timeline.

When the API refuses the record for want of a legitimate relationship, the page offers
break-glass instead; while this user's break-glass access lasts, the record says until when.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

from fastapi import APIRouter, Request, Response

from sonar.domain.access import allows
from sonar.domain.attribution import CLINICAL_TZ
from sonar.ui import _timeline
from sonar.ui._api import ApiAnswer
from sonar.ui._catalogue import STEPS
from sonar.ui._layouts import REFUSALS
from sonar.ui._web import (
    P,
    checked,
    problem,
    reading,
    render,
    render_form,
    signed_in,
    user_of,
)

router = APIRouter(prefix="/ui", include_in_schema=False)


def refused(request: Request, answer: ApiAnswer, patient_id: str) -> Response:
    """The API's refusal; break-glass offered when that is the way to open the record."""
    rule = answer.body.get("rule") if isinstance(answer.body, dict) else None
    if answer.status != 403 or rule not in REFUSALS:
        return problem(request, answer)
    return render_form(request, STEPS["break-glass"].form, {}, status=403,
                       refusal=REFUSALS[str(rule)],
                       action=f"/ui/patients/{quote(patient_id)}/break-glass",
                       patient_id=None)


def _clock(moment: datetime) -> str:
    """"14:05", or "14:05 tomorrow": local time in England."""
    local = moment.astimezone(CLINICAL_TZ)
    today = datetime.now(CLINICAL_TZ).date()
    return local.strftime("%H:%M") + (" tomorrow" if local.date() > today else "")


@router.get("/patients/{patient_id}")
async def record(request: Request, patient_id: str, done: str = "") -> Response:
    api = signed_in(request)
    read = reading(request)
    found = checked(await api.get(f"{P}/{quote(patient_id)}/record", read))
    if not found.ok:
        return refused(request, found, patient_id)
    wanted, errors = _timeline.parse(request.query_params)
    timeline, entries = await api.items(f"{P}/{quote(patient_id)}/timeline",
                                        {**read, **wanted.api_params()})
    until = found.body.get("break_glass_until")  # this user's, while it runs
    glass = datetime.fromisoformat(until) if isinstance(until, str) else None
    done_step = STEPS.get(done)
    role = user_of(request).role
    offered = [s for s in STEPS.values()
               if not s.addressed_by and s.command.step.needs_relationship
               and allows(role, s.right)]
    return render(request, "record.html", patient=found.body, steps=offered,
                  entries=entries if checked(timeline).ok else [],
                  filter_form=_timeline.FILTER, filter=wanted, errors=errors,
                  values=dict(request.query_params),
                  done=done_step.done if done_step else "",
                  break_glass_until=_clock(glass) if glass else "")
