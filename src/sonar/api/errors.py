"""RFC 9457 problem details for every refusal: the field, the rule, and what to do."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import psycopg
import structlog
from eventsourcing.persistence import InterfaceError, InternalError, OperationalError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from psycopg_pool import PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Route

from sonar.commands.errors import (
    AccessDenied,
    ConcurrencyConflict,
    DuplicatePatient,
    IdempotencyKeyReused,
)
from sonar.domain.errors import DomainError, IllegalStep, InvalidValue, InvalidValues
from sonar.eventstore.errors import (
    DISK_FULL_SQLSTATE,
    READ_ONLY_SQLSTATE,
    ApplicationError,
    PatientNotFound,
    sqlstate_of,
)

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://sonar.example/problems/"
log = structlog.get_logger("sonar.api")


class ProblemError(Exception):
    """Raised by API code to answer with a problem document."""

    def __init__(self, status: int, rule: str, title: str, detail: str,
                 **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.rule, self.title, self.detail, self.extra = (
            status, rule, title, detail, extra)


def problem(request: Request, status: int, rule: str, title: str, detail: str,
            headers: Mapping[str, str] | None = None, **extra: Any) -> JSONResponse:
    body = {"type": PROBLEM_BASE + rule.split(".", maxsplit=1)[0], "title": title, "status": status,
            "detail": detail, "instance": request.url.path, "rule": rule, **extra}
    answer_headers = dict(headers or {})
    if status == 503:
        answer_headers["Retry-After"] = "1"
    if status == 401:  # RFC 6750: say how to authenticate
        answer_headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON,
                        headers=answer_headers or None)


def _pointer(field: str | None, prefix: str = "") -> str | None:
    if field is None:
        return None
    parts = [p for p in (prefix + "." + field).replace("[", ".").replace("]", "").split(".") if p]
    return "#/" + "/".join(parts)


def _invalid_entries(error: InvalidValue) -> list[dict[str, Any]]:
    problems = error.problems if isinstance(error, InvalidValues) else [error]
    return [{"field": p.field, "pointer": _pointer(p.field), "rule": p.rule, "detail": p.message}
            for p in problems]


def _request_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)  # noqa: S101 - registered for this type
    errors = []
    for err in exc.errors():
        loc = [str(part) for part in err.get("loc", ()) if part != "body"]
        where = err.get("loc", ("body",))[0]
        field = ".".join(loc) if loc else str(where)
        errors.append({"field": field, "in": where, "pointer": _pointer(field) if loc else None,
                       "rule": f"schema.{err.get('type', 'invalid')}", "detail": err.get("msg")})
    detail = "; ".join(f"{e['field']}: {e['detail']}" for e in errors)
    return problem(request, 422, "validation.schema", "The request is not valid", detail,
                   errors=errors)


def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)  # noqa: S101 - registered for this type
    if isinstance(exc, InvalidValue):
        entries = _invalid_entries(exc)
        return problem(request, 422, exc.rule, "A value is not valid",
                       "; ".join(f"{e['field']}: {e['detail']}" for e in entries), errors=entries)
    if isinstance(exc, IllegalStep):
        return problem(request, 409, exc.rule, "This step is not allowed now", exc.message)
    return problem(request, 422, exc.rule, "The request was refused", exc.message)


def _application_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApplicationError)  # noqa: S101 - registered for this type
    if isinstance(exc, PatientNotFound):
        return problem(request, 404, exc.rule, "Patient not found", exc.message)
    if isinstance(exc, AccessDenied):
        title = ("Not allowed for your role" if exc.rule == "access.role"
                 else "No legitimate relationship")
        return problem(request, 403, exc.rule, title, exc.message)
    if isinstance(exc, DuplicatePatient):
        return problem(request, 409, exc.rule, "Patient already registered", exc.message,
                       existing_patient_id=str(exc.existing_id))
    if isinstance(exc, ConcurrencyConflict):
        return problem(request, 409, exc.rule, "Concurrent update", exc.message)
    if isinstance(exc, IdempotencyKeyReused):
        return problem(request, 422, exc.rule, "Idempotency-Key reused", exc.message,
                       errors=[{"field": "Idempotency-Key", "in": "header",
                                "rule": exc.rule, "detail": exc.message}])
    return problem(request, 400, exc.rule, "The request was refused", exc.message)


def _problem_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)  # noqa: S101 - registered for this type
    return problem(request, exc.status, exc.rule, exc.title, exc.detail, **exc.extra)


BODY_TOO_LARGE = "sonar.body_too_large"  # scope key: the body limit a request ran past


def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)  # noqa: S101 - registered for this type
    limit = request.scope.get(BODY_TOO_LARGE)
    if limit is not None:  # however the framework reported it (e.g. "error parsing the body")
        return problem(request, 413, "http.413", "Request body too large",
                       f"Bodies are limited to {limit} bytes.")
    titles = {404: "Not found", 405: "Method not allowed", 413: "Request body too large",
              415: "Unsupported media type"}
    headers = dict(exc.headers or {})  # the framework's own stay
    allowed = _allowed_methods(request) if exc.status_code == 405 else None
    if allowed:
        headers["Allow"] = allowed
    return problem(request, exc.status_code, f"http.{exc.status_code}",
                   titles.get(exc.status_code, "HTTP error"), str(exc.detail), headers=headers)


def _allowed_methods(request: Request) -> str:
    """Every method the path is served with (RFC 9110 405 ``Allow``). A path can be served
    by more than one route (a read and a command); the framework names only the first's."""
    methods: set[str] = set()
    for context in iter_route_contexts(request.app.routes):
        route = context.route
        if isinstance(route, Route) and route.matches(request.scope)[0] is not Match.NONE:
            methods |= route.methods or set()
    return ", ".join(sorted(methods))


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # Never a stack trace to the client; the log has the type name only (no patient data).
    log.error("unhandled_error", error_type=type(exc).__name__)
    return problem(request, 500, "internal", "Internal error",
                   "SONAR could not complete the request. Quote the correlation id to support.")




def _store_unavailable(request: Request, exc: Exception) -> JSONResponse:
    sqlstate = sqlstate_of(exc)
    log.warning("store_unavailable", error_type=type(exc).__name__, sqlstate=sqlstate)
    if sqlstate == READ_ONLY_SQLSTATE:
        return problem(request, 503, "store.read_only", "Record store is read-only",
                       "The record store accepts no writes at the moment (read-only or "
                       "failing over); the request was not applied. Retry it later with the "
                       "same Idempotency-Key.")
    if sqlstate == DISK_FULL_SQLSTATE:
        return problem(request, 503, "store.full", "Record store is full",
                       "The record store has no space left; the request was not applied. "
                       "Retry it later with the same Idempotency-Key.")
    return problem(request, 503, "store.unavailable", "Record store unavailable",
                   "The record store did not answer; the request was not applied. Retry it "
                   "with the same Idempotency-Key.")


def _store_internal(request: Request, exc: Exception) -> JSONResponse:
    """A read-only store surfaces as an "internal" error class (SQLSTATE class 25)."""
    if sqlstate_of(exc) == READ_ONLY_SQLSTATE:
        return _store_unavailable(request, exc)
    return _unexpected(request, exc)


# Store failures, from the event store (eventsourcing) or the read store (psycopg).
STORE_ERRORS: tuple[type[Exception], ...] = (
    OperationalError, InterfaceError, InternalError,
    psycopg.OperationalError, psycopg.InterfaceError, psycopg.InternalError)


def store_problem(request: Request, exc: Exception) -> JSONResponse:
    """The problem for a store failure caught outside the exception handlers."""
    if isinstance(exc, InternalError | psycopg.InternalError):
        return _store_internal(request, exc)
    return _store_unavailable(request, exc)


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(ApplicationError, _application_error)
    app.add_exception_handler(ProblemError, _problem_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(OperationalError, _store_unavailable)
    app.add_exception_handler(InterfaceError, _store_unavailable)
    app.add_exception_handler(InternalError, _store_internal)
    # The read store (read models, users, access log) uses psycopg directly.
    app.add_exception_handler(psycopg.OperationalError, _store_unavailable)
    app.add_exception_handler(psycopg.InterfaceError, _store_unavailable)
    app.add_exception_handler(psycopg.InternalError, _store_internal)
    app.add_exception_handler(PoolTimeout, _store_unavailable)
    app.add_exception_handler(Exception, _unexpected)
