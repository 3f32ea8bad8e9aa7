"""The OpenAPI document's refusals: every status a route can answer, each a problem document.

Which refusals a route can give follows from what kind of route it is, so they are worked
out here, once, rather than pasted on each route:

- every route but the public ones: 401 (no or bad token) and 403 (role or relationship);
- a route about one patient (``{patient_id}`` in its path): 404;
- every route: 503 (record store unavailable, or read models behind ``min_position``);
- a route taking any input (parameters or a body): 422;
- a route taking a body: 400 (unreadable) and 413; a command (a non-public ``POST``): 409.

A route declares any other status it can answer itself (``responses=`` on the route, e.g.
the token route's 400); each such status gets the problem body too. A route that answers
its own document for a status (``/health``'s 503) keeps it, beside the problem document.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

from sonar.api.errors import PROBLEM_JSON
from sonar.api.policy import rule_for
from sonar.api.schemas.problem import Problem

DESCRIPTIONS = {
    400: "The body could not be read (e.g. not UTF-8, or not the declared type).",
    401: "No valid bearer token: sign in at /api/v1/auth/token and send it.",
    403: "Your role does not have the right this route needs, or you have no legitimate "
         "relationship with this patient.",
    404: "No patient has this id.",
    409: "The step is not allowed in the record's current state, or the record changed "
         "meanwhile.",
    413: "The request body is larger than the server accepts.",
    422: "A value is not valid: `errors` names each field and the rule it broke.",
    500: "SONAR could not complete the request.",
    503: "The record store is unavailable, or the read models have not yet reached "
         "`min_position`; retry after the time given.",
}
HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"description": "How to authenticate (RFC 6750).",
                               "schema": {"type": "string"}}},
    503: {"Retry-After": {"description": "Seconds to wait before retrying.",
                          "schema": {"type": "string"}}},
}
_REF = "#/components/schemas/{model}"
_PROBLEM = {"schema": {"$ref": _REF.format(model="Problem")}}
_FASTAPI_VALIDATION = ("HTTPValidationError", "ValidationError")


def error_statuses(route: APIRoute, method: str, operation: dict[str, Any]) -> set[int]:
    """The refusals a route can give, from what kind of route it is (and, for 422, whether
    its operation takes any input)."""
    rule = rule_for(method, route.path)
    public = rule is not None and rule.action == "public"
    found = {503}
    if operation.get("parameters") or operation.get("requestBody"):
        found.add(422)
    if not public:
        found |= {401, 403}
    if "{patient_id}" in route.path:
        found.add(404)
    if method in ("POST", "PUT", "PATCH"):
        found |= {400, 413}
        if not public:
            found.add(409)
    return found


def install(app: FastAPI) -> None:
    """Make ``app.openapi()`` publish every route's refusals with the problem schema."""
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()
            add_problems(document, api_routes(app))
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented extension point


def api_routes(app: FastAPI) -> list[APIRoute]:
    """Every API route the app serves, with its full path (included routers flattened)."""
    return [c.route for c in iter_route_contexts(app.routes) if isinstance(c.route, APIRoute)]


def add_problems(document: dict[str, Any], routes: Iterable[APIRoute]) -> None:
    """Add each route's refusals to ``document``, each with the problem body."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    problem = Problem.model_json_schema(ref_template=_REF)
    schemas.update(problem.pop("$defs", {}))
    schemas["Problem"] = problem
    for route in routes:
        if not route.include_in_schema:
            continue
        for method in sorted(route.methods or ()):
            operation = document["paths"][route.path_format][method.lower()]
            answers = operation.setdefault("responses", {})
            declared = {int(s) for s in answers if s.isdigit() and int(s) >= 400}
            for status in sorted(error_statuses(route, method, operation) | declared):
                answer = answers.setdefault(str(status), {})
                own = answer.get("content", {})
                if status == 422:  # FastAPI's default; this app answers a problem instead
                    own.pop("application/json", None)
                answer["content"] = {**own, PROBLEM_JSON: _PROBLEM}
                if answer.get("description") in (None, "", "Validation Error"):
                    answer["description"] = DESCRIPTIONS.get(status, "Refused.")
                if status in HEADERS and not own:
                    answer["headers"] = HEADERS[status]
    for name in _FASTAPI_VALIDATION:
        schemas.pop(name, None)
