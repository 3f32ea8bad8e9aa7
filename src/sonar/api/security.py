"""Authentication, authorisation and access logging for every request.

Three steps, each in one place:
- ``Authenticate`` (ASGI middleware, ``api.middleware``): every path except the public ones
  needs a valid bearer token, else 401, before routing or body validation can say anything;
- ``authorize`` (a dependency on every route): the role's right for the route from
  ``api.policy``, then the legitimate relationship with the patient, else 403;
- before a read of identifiable data is answered, it is appended to the access log.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

import structlog
from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute
from fastapi.security import OAuth2PasswordBearer

from sonar.api.errors import ProblemError
from sonar.api.policy import RouteRule, rule_for
from sonar.audit.access_log import AccessLog, AccessRecord
from sonar.auth.tokens import Principal
from sonar.config import Settings
from sonar.domain import codes
from sonar.domain.access import allows, decide
from sonar.eventstore.application import SonarApplication

log = structlog.get_logger("sonar.security")
TOKEN_URL = "/api/v1/auth/token"  # noqa: S105 - a URL, not a password
PUBLIC_PATHS = frozenset({"/health", "/openapi.json", "/docs", "/docs/oauth2-redirect",
                          "/redoc", TOKEN_URL})
PUBLIC_PREFIXES = ("/static/",)
# Declared on every route so /docs and schema-driven clients know to send a bearer token;
# the middleware has already checked it.
bearer = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)


@dataclass(frozen=True)
class PendingAccess:
    """A read of identifiable data, to be logged once its status (and results) are known."""

    principal: Principal
    route: str
    patient_ids: tuple[str, ...]
    lists_patients: bool
    break_glass: bool


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def get_principal(request: Request) -> Principal:
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is None:  # only on a public route that asks who is acting
        raise ProblemError(401, "auth.token_required", "Sign in first",
                           f"Send 'Authorization: Bearer <token>'; get a token from {TOKEN_URL}.")
    return principal


async def authorize(request: Request,
                    _token: Annotated[str | None, Depends(bearer)] = None) -> None:
    """403 unless the role has the route's right and, for a patient, a relationship."""
    route = request.scope.get("route")
    path = route.path if isinstance(route, APIRoute) else request.url.path
    rule = rule_for(request.method, path)
    if rule is not None and rule.action == "public":
        return
    principal = get_principal(request)
    role = principal.actor.role
    if rule is None:
        raise ProblemError(403, "access.no_policy", "Not allowed",
                           "No access rule covers this route, so nobody may use it yet.")
    if not allows(role, rule.action):
        raise ProblemError(403, "access.role", "Not allowed for your role",
                           f"The {role} role does not have the right {rule.action}.",
                           action=rule.action, role=role)
    raw = request.path_params.get("patient_id")
    patient_id = _uuid(raw) if isinstance(raw, str) else None
    break_glass = False
    if patient_id is not None and rule.relationship:
        break_glass = await _check_relationship(request, principal, patient_id, rule, path)
    if rule.identifiable:
        request.state.access = PendingAccess(
            principal, path, (str(patient_id),) if patient_id else (), rule.lists_patients,
            break_glass)


def _uuid(raw: str) -> UUID | None:
    try:
        return UUID(raw)
    except ValueError:
        return None  # the route's own validation answers 422


async def _check_relationship(request: Request, principal: Principal, patient_id: UUID,
                              rule: RouteRule, path: str) -> bool:
    """Raise 403 without a legitimate relationship; return whether break-glass allowed it."""
    reading = rule.action == "read_record"
    if reading and allows(principal.actor.role, "read_all_history"):
        return False
    application: SonarApplication = request.app.state.application
    settings: Settings = request.app.state.settings
    record = await run_in_threadpool(application.get_record, patient_id)  # 404 if unknown
    decision = decide(record, principal.actor, application.clock(),
                      settings.relationship_days, reading=reading)
    if decision.allowed:
        if decision.break_glass:
            log.warning("break_glass_access", patient_id=str(patient_id), route=path)
        return decision.break_glass
    if reading:  # refused reads are logged too: an auditor sees who tried
        request.state.access = PendingAccess(principal, path, (str(patient_id),), False, False)
    if decision.rule == "access.dissent":
        raise ProblemError(403, decision.rule, "The patient has not agreed to share",
                           "The patient has dissented from sharing their record with your "
                           "organisation. Break glass only if this is an emergency.")
    raise ProblemError(403, decision.rule, "No legitimate relationship",
                       "This patient is not, and has not recently been, at your site or on "
                       "your caseload. If you must see the record now, break glass with a "
                       "reason: POST .../break-glass.")


async def log_access(request: Request, status: int, content_type: str, body: bytes,
                     pending: PendingAccess) -> None:
    """Append the access-log entry for a response (raises if the log cannot be written)."""
    patient_ids = pending.patient_ids
    if pending.lists_patients and status == 200:
        patient_ids = _listed_patients(body, content_type)
    purpose = request.headers.get("x-purpose-of-use", "direct_care")
    actor = pending.principal.actor
    application: SonarApplication = request.app.state.application
    access_log: AccessLog = request.app.state.access_log
    entry = AccessRecord(
        at=application.clock(), actor_id=actor.actor_id, role=actor.role,
        organisation=actor.organisation, site=actor.site,
        purpose=purpose if purpose in codes.PURPOSE_OF_USE else "unrecognised",
        method=request.method, route=pending.route, patient_ids=patient_ids,
        status=status, break_glass=pending.break_glass,
        correlation_id=getattr(request.state, "correlation_id", ""))
    await run_in_threadpool(access_log.append, entry)


def _listed_patients(body: bytes, content_type: str) -> tuple[str, ...]:
    """Patient ids in a list response (JSON page or CSV), in order, without repeats."""
    found: list[str] = []
    try:
        if content_type.startswith("text/csv"):
            found = [r.get("patient_id", "") for r in csv.DictReader(io.StringIO(body.decode()))]
        else:
            data: Any = json.loads(body)
            if isinstance(data, dict):
                found = [str(p) for p in data.get("patient_ids", [])]
                found += [str(i["patient_id"]) for i in data.get("items", [])
                          if isinstance(i, dict) and "patient_id" in i]
    except (ValueError, UnicodeDecodeError):
        log.warning("access_log_unparsed_results")
    return tuple(dict.fromkeys(p for p in found if p))
