"""The pages: each reads and writes through the API as the signed-in user, then renders.

Writes follow post/redirect/get: a success redirects to the record with the write's log
position, so the next page reads its own write; a refusal re-renders the form with the
API's problems beside the fields they concern.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from sonar.commands.journey import ReceiveIntoPrison
from sonar.commands.pathway import AssignCaseload, RecordReview, ReviseCarePlan
from sonar.ui import _session
from sonar.ui._api import Api
from sonar.ui._catalogue import REGISTER, SEARCH, SIGN_IN, STEPS, Step
from sonar.ui._forms import Errors, Values, place, to_body
from sonar.ui._web import (
    P,
    checked,
    posted,
    problem,
    render,
    render_form,
    signed_in,
    user_of,
)

router = APIRouter(prefix="/ui", include_in_schema=False)


@router.get("")
@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/ui/caseload", status_code=303)


@router.get("/sign-in")
def sign_in_page(request: Request) -> Response:
    return render_form(request, SIGN_IN, {}, action="/ui/sign-in", user=None)


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    values = await posted(request)
    _, errors = to_body(SIGN_IN, values)
    if not errors:
        answer = await Api(request.app.state.api).sign_in(str(values.get("username", "")),
                                                         str(values.get("password", "")))
        if answer.ok:
            response = RedirectResponse("/ui/caseload", status_code=303)
            _session.start(response, request, str(answer.body["access_token"]),
                           int(answer.body.get("expires_in", 3600)))
            return response
        errors = place(SIGN_IN, answer.problems())
        if answer.status == 401:
            errors = Errors()
            errors.add(SIGN_IN.fields[0], "The username or password is wrong")
    return render_form(request, SIGN_IN, {"username": values.get("username", "")}, errors,
                       422, action="/ui/sign-in", user=None)


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    await posted(request)
    response = RedirectResponse("/ui/sign-in", status_code=303)
    _session.end(response)
    return response


@router.get("/patients/search")
async def search(request: Request) -> Response:
    api = signed_in(request)
    values: Values = dict(request.query_params)
    if not any(values.values()):
        return render(request, "search.html", form=SEARCH, values={}, results=None)
    answer = checked(await api.get(f"{P}/search", dict(values)))
    if not answer.ok:
        errors = place(SEARCH, answer.problems())
        if isinstance(answer.body, dict) and answer.body.get("rule") == "search.criteria":
            errors = Errors()
            errors.add(SEARCH.fields[0], answer.detail)  # the API's sentence says what to give
        return render(request, "search.html", 422, form=SEARCH, values=values, results=None,
                      errors=errors)
    return render(request, "search.html", form=SEARCH, values=values,
                  results=answer.body["items"])


@router.get("/patients/new")
def register_page(request: Request) -> Response:
    signed_in(request)
    return render_form(request, REGISTER, {}, action="/ui/patients/new")


@router.post("/patients/new")
async def register(request: Request) -> Response:
    api = signed_in(request)
    values = await posted(request)
    body, errors = to_body(REGISTER, values)
    if not errors:
        answer = checked(await api.post(P, body))
        if answer.ok:
            pid = answer.body["patient_id"]
            return RedirectResponse(f"/ui/patients/{pid}/receive-into-prison?registered=1",
                                    303)
        errors = place(REGISTER, answer.problems())
    return render_form(request, REGISTER, values, errors, 422, action="/ui/patients/new")


async def _banner(api: Api, patient_id: str) -> dict[str, Any] | None:
    """The patient, for the banner above a form; None before this user may read them."""
    found = checked(await api.get(f"{P}/{quote(patient_id)}/record"))
    return found.body if found.ok else None


def _step_defaults(step: Step, request: Request,
                   patient: dict[str, Any] | None) -> dict[str, str | list[str]]:
    """Sensible starting answers: where and who the clinician is, the plan being revised."""
    user = user_of(request)
    if step.command is ReceiveIntoPrison:
        return {"establishment": user.site}
    if step.command is RecordReview:
        return {"kind": request.query_params.get("kind", "")}
    if step.command is AssignCaseload:
        return {"worker_id": user.actor_id, "site": user.site}
    if step.command is ReviseCarePlan:
        plan = (patient or {}).get("care_plan") or {}
        worker = (patient or {}).get("caseload_worker") or user.actor_id
        return {"goals": "\n".join(plan.get("goals", [])),
                "interventions": list(plan.get("interventions", [])),
                "named_worker": plan.get("named_worker") or worker}
    return {}


def _step(slug: str, episode: int | None, request: Request) -> Step | None:
    """The step at this address: episodic steps under an episode, and every other path
    parameter (e.g. an appointment id) given in the query."""
    step = STEPS.get(slug)
    if step is None or step.episodic != (episode is not None):
        return None
    if any(not request.query_params.get(p) for p in step.addressed_by):
        return None
    return step


def _here(request: Request) -> str:
    """This page's address, query included (it names what the step is about)."""
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def _api_path(step: Step, patient_id: str, episode: int | None, request: Request) -> str:
    named = {p: quote(request.query_params[p], safe="") for p in step.addressed_by}
    return f"{P}/{quote(patient_id)}" + step.api.format(episode=episode, **named)


@router.get("/patients/{patient_id}/{slug}")
@router.get("/patients/{patient_id}/episodes/{episode}/{slug}")
async def step_page(request: Request, patient_id: str, slug: str,
                    episode: int | None = None) -> Response:
    api = signed_in(request)
    step = _step(slug, episode, request)
    if step is None:
        return problem(request, None)
    patient = await _banner(api, patient_id)
    return render_form(request, step.form, _step_defaults(step, request, patient),
                       action=_here(request), patient=patient, patient_id=patient_id,
                       registered=request.query_params.get("registered"))


@router.post("/patients/{patient_id}/{slug}")
@router.post("/patients/{patient_id}/episodes/{episode}/{slug}")
async def take_step(request: Request, patient_id: str, slug: str,
                    episode: int | None = None) -> Response:
    api = signed_in(request)
    values = await posted(request)
    step = _step(slug, episode, request)
    if step is None:
        return problem(request, None)
    body, errors = to_body(step.form, values)
    if not errors:
        path = _api_path(step, patient_id, episode, request)
        answer = checked(await api.post(path, body))
        if answer.ok:
            return RedirectResponse(f"/ui/patients/{quote(patient_id)}?done={slug}"
                                    f"&min_position={answer.body['position']}", 303)
        errors = place(step.form, answer.problems())
    return render_form(request, step.form, values, errors, 422, action=_here(request),
                       patient=await _banner(api, patient_id), patient_id=patient_id)


@router.get("/caseload")
async def caseload(request: Request) -> Response:
    api = signed_in(request)
    user = user_of(request)
    mine = checked(await api.get("/api/v1/caseloads", {"worker": user.actor_id}))
    site = checked(await api.get("/api/v1/caseloads", {"site": user.site}))
    if not (mine.ok and site.ok):
        return problem(request, mine if not mine.ok else site)
    return render(request, "caseload.html", mine=mine.body["items"],
                  at_site=site.body["items"], site=user.site)
