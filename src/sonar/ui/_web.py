"""What every page handler shares: the signed-in API, rendering, and reading a posted form.

Every POST is read through ``posted``, which refuses a form without this session's CSRF
token before anything is sent to the API.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from fastapi import Request, Response
from fastapi.templating import Jinja2Templates

from sonar.ui import _csrf, _session
from sonar.ui._api import Api, ApiAnswer
from sonar.ui._catalogue import alert_label, review_label
from sonar.ui._forms import Errors, Form, Values

templates = Jinja2Templates(directory=Path(__file__).with_name("templates"))
templates.env.globals.update(review_label=review_label, alert_label=alert_label)
P = "/api/v1/patients"


class SignInNeeded(Exception):
    """The session is missing or the API refused its token: go to the sign-in page."""


def signed_in(request: Request) -> Api:
    user = _session.current_user(request)
    if user is None:
        raise SignInNeeded
    return Api(request.app.state.api, user.token)


def user_of(request: Request) -> _session.SessionUser:
    user = _session.current_user(request)
    if user is None:
        raise SignInNeeded
    return user


def checked(answer: ApiAnswer) -> ApiAnswer:
    if answer.status == 401:
        raise SignInNeeded
    return answer


def reading(request: Request) -> dict[str, Any]:
    """``min_position`` from the page's query, passed on so a page reads its own write."""
    position = request.query_params.get("min_position", "")
    return {"min_position": int(position)} if position.isdigit() else {}


async def posted(request: Request) -> dict[str, str | list[str]]:
    """The posted fields, once the CSRF token is checked; checkboxes as lists."""
    parsed = parse_qs((await request.body()).decode(errors="replace"), keep_blank_values=True,
                      max_num_fields=200)
    values = {k: v if len(v) > 1 or k.endswith("[]") else v[0] for k, v in parsed.items()}
    _csrf.check(request, values.pop(_csrf.FIELD, None))
    return values


def render(request: Request, name: str, status: int = 200, **context: Any) -> Response:
    token, fresh = _csrf.token(request)
    context.setdefault("user", _session.current_user(request))
    context.setdefault("errors", Errors())
    context["csrf_token"] = token
    response = templates.TemplateResponse(request, name, context, status_code=status)
    if fresh is not None:
        _csrf.remember(response, request, fresh)
    return response


def render_form(request: Request, form: Form, values: Values, errors: Errors | None = None,
                status: int = 200, **context: Any) -> Response:
    return render(request, "form.html", status, form=form, values=values,
                  errors=errors or Errors(), **context)


def problem(request: Request, answer: ApiAnswer | None, status: int = 404) -> Response:
    """The API's refusal (or "page not found") as a page, with the API's status."""
    return render(request, "problem.html", answer.status if answer else status, answer=answer)
