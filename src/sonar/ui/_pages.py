"""The pages: each reads and writes through the API as the signed-in user, then renders.

Writes follow post/redirect/get: a success redirects to the record with the write's log
position, so the next page reads its own write; a refusal re-renders the form with the
API's problems beside the fields they concern.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.templating import Jinja2Templates

from sonar.ui import _session
from sonar.ui._api import Api, ApiAnswer
from sonar.ui._catalogue import REGISTER, SEARCH, SIGN_IN, STEPS, Step, alert_label, review_label
from sonar.ui._forms import Errors, Form, Values, place, to_body

router = APIRouter(prefix="/ui", include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).with_name("templates"))
templates.env.globals.update(review_label=review_label, alert_label=alert_label)
_P = "/api/v1/patients"


class SignInNeeded(Exception):
    """The session is missing or the API refused its token: go to the sign-in page."""


def _api(request: Request) -> Api:
    user = _session.current_user(request)
    if user is None:
        raise SignInNeeded
    return Api(request.app.state.api, user.token)


def _checked(answer: ApiAnswer) -> ApiAnswer:
    if answer.status == 401:
        raise SignInNeeded
    return answer


async def _values(request: Request) -> dict[str, str | list[str]]:
    """Form fields; repeated names (checkboxes) as lists, everything else as one string."""
    parsed = parse_qs((await request.body()).decode(), keep_blank_values=True,
                      max_num_fields=200)
    return {k: v if len(v) > 1 or k.endswith("[]") else v[0] for k, v in parsed.items()}


def _render(request: Request, name: str, status: int = 200, **context: Any) -> Response:
    context.setdefault("user", _session.current_user(request))
    context.setdefault("errors", Errors())
    return templates.TemplateResponse(request, name, context, status_code=status)


def _form(request: Request, form: Form, values: Values, errors: Errors | None = None,
          status: int = 200, **context: Any) -> Response:
    return _render(request, "form.html", status, form=form, values=values,
                   errors=errors or Errors(), **context)


@router.get("")
@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/ui/caseload", status_code=303)


@router.get("/sign-in")
def sign_in_page(request: Request) -> Response:
    return _form(request, SIGN_IN, {}, action="/ui/sign-in", user=None)


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    values = await _values(request)
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
    return _form(request, SIGN_IN, {"username": values.get("username", "")}, errors, 422,
                 action="/ui/sign-in", user=None)


@router.post("/sign-out")
def sign_out() -> Response:
    response = RedirectResponse("/ui/sign-in", status_code=303)
    _session.end(response)
    return response


@router.get("/patients/search")
async def search(request: Request) -> Response:
    api = _api(request)
    values: Values = dict(request.query_params)
    if not any(values.values()):
        return _render(request, "search.html", form=SEARCH, values={}, results=None)
    answer = _checked(await api.get(f"{_P}/search", dict(values)))
    if not answer.ok:
        errors = place(SEARCH, answer.problems())
        if isinstance(answer.body, dict) and answer.body.get("rule") == "search.criteria":
            errors = Errors()
            errors.add(SEARCH.fields[0], answer.detail)  # the API's sentence says what to give
        return _render(request, "search.html", 422, form=SEARCH, values=values, results=None,
                       errors=errors)
    return _render(request, "search.html", form=SEARCH, values=values,
                   results=answer.body["items"])


@router.get("/patients/new")
def register_page(request: Request) -> Response:
    _api(request)
    return _form(request, REGISTER, {}, action="/ui/patients/new")


@router.post("/patients/new")
async def register(request: Request) -> Response:
    api = _api(request)
    values = await _values(request)
    body, errors = to_body(REGISTER, values)
    if not errors:
        answer = _checked(await api.post(_P, body))
        if answer.ok:
            pid = answer.body["patient_id"]
            return RedirectResponse(f"/ui/patients/{pid}/reception?registered=1", 303)
        errors = place(REGISTER, answer.problems())
    return _form(request, REGISTER, values, errors, 422, action="/ui/patients/new")


@router.get("/patients/{patient_id}")
async def record(request: Request, patient_id: str, done: str = "",
                 min_position: int | None = None) -> Response:
    api = _api(request)
    read = {"min_position": min_position}
    found = _checked(await api.get(f"{_P}/{quote(patient_id)}/record", read))
    if not found.ok:
        return _render(request, "problem.html", found.status, answer=found)
    timeline = _checked(await api.get(f"{_P}/{quote(patient_id)}/timeline", read))
    done_step = STEPS.get(done)
    return _render(request, "record.html", patient=found.body, steps=STEPS,
                   entries=timeline.body.get("items", []) if timeline.ok else [],
                   done=done_step.done if done_step else "", position=min_position)


async def _banner(api: Api, patient_id: str) -> dict[str, Any] | None:
    """The patient, for the banner above a form; None before this user may read them."""
    found = _checked(await api.get(f"{_P}/{quote(patient_id)}/record"))
    return found.body if found.ok else None


def _step_defaults(step: Step, request: Request) -> dict[str, str | list[str]]:
    user = _session.current_user(request)
    if step.slug == "reception" and user:
        return {"establishment": user.site}
    if step.slug == "review":
        return {"kind": request.query_params.get("kind", "")}
    return {}


@router.get("/patients/{patient_id}/{slug}")
@router.get("/patients/{patient_id}/episodes/{episode}/{slug}")
async def step_page(request: Request, patient_id: str, slug: str,
                    episode: int | None = None) -> Response:
    api = _api(request)
    step = STEPS.get(slug)
    if step is None or step.episodic != (episode is not None):
        return _render(request, "problem.html", 404, answer=None)
    return _form(request, step.form, _step_defaults(step, request),
                 action=request.url.path, patient=await _banner(api, patient_id),
                 patient_id=patient_id, registered=request.query_params.get("registered"))


@router.post("/patients/{patient_id}/{slug}")
@router.post("/patients/{patient_id}/episodes/{episode}/{slug}")
async def take_step(request: Request, patient_id: str, slug: str,
                    episode: int | None = None) -> Response:
    api = _api(request)
    step = STEPS.get(slug)
    if step is None or step.episodic != (episode is not None):
        return _render(request, "problem.html", 404, answer=None)
    values = await _values(request)
    body, errors = to_body(step.form, values)
    if not errors:
        path = f"{_P}/{quote(patient_id)}" + step.api.format(episode=episode)
        answer = _checked(await api.post(path, body))
        if answer.ok:
            return RedirectResponse(f"/ui/patients/{quote(patient_id)}?done={slug}"
                                    f"&min_position={answer.body['position']}", 303)
        errors = place(step.form, answer.problems())
    return _form(request, step.form, values, errors, 422, action=request.url.path,
                 patient=await _banner(api, patient_id), patient_id=patient_id)


@router.get("/caseload")
async def caseload(request: Request) -> Response:
    api = _api(request)
    user = _session.current_user(request)
    assert user is not None  # noqa: S101 - _api has just required a session
    mine = _checked(await api.get("/api/v1/caseloads", {"worker": user.actor_id}))
    site = _checked(await api.get("/api/v1/caseloads", {"site": user.site}))
    if not (mine.ok and site.ok):
        return _render(request, "problem.html", mine.status if not mine.ok else site.status,
                       answer=mine if not mine.ok else site)
    return _render(request, "caseload.html", mine=mine.body["items"],
                   at_site=site.body["items"], site=user.site)
