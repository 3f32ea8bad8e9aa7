"""The FastAPI app: routers, problem-details errors, request ids and access logging."""

from __future__ import annotations

from collections.abc import Callable

import structlog
from fastapi import Depends, FastAPI
from fastapi.responses import JSONResponse

from sonar.api import openapi
from sonar.api.errors import install_problem_handlers
from sonar.api.middleware import Authenticate, BodySizeLimit, RequestContext
from sonar.api.routes import (
    access,
    access_audit,
    auth,
    fhir,
    my_diary,
    ndtms,
    patients,
    records,
    release,
    reports,
)
from sonar.api.routes.commands import command_router
from sonar.api.schemas.operations import DegradedReadModel, Health, HealthUnavailable
from sonar.api.security import authorize
from sonar.audit.access_log import AccessLog
from sonar.auth.tokens import TokenService
from sonar.auth.users import UserDirectory
from sonar.commands.base import CommandConfig
from sonar.commands.pipeline import CommandBus
from sonar.config import Settings
from sonar.eventstore.application import SonarApplication
from sonar.readmodels.runner import ProjectionRunner
from sonar.sqlstore.records import RecordStore

log = structlog.get_logger("sonar.http")


def create_app(settings: Settings, application: SonarApplication, runner: ProjectionRunner,
               record_store: RecordStore, *, ui: Callable[[FastAPI], None] | None = None,
               ) -> FastAPI:
    """The API on the log (``application``), the read models (``runner``) and the records'
    store (users and the access log, made by ``bootstrap.build_record_store``). ``ui`` mounts
    a browser front end beside it (``sonar serve`` passes the clinicians' UI): inside the
    request context and body limit, outside the bearer check."""
    api = FastAPI(title="SONAR care record", version="1.0.0",
                  description="Event-sourced shared care record for people in the criminal "
                              "justice system. Errors are RFC 9457 problem details. Sign in "
                              "at /api/v1/auth/token and send the bearer token.",
                  # Every route is authorised here, by api.policy; none can opt out.
                  dependencies=[Depends(authorize)])
    api.state.application = application
    api.state.bus = CommandBus(application, CommandConfig(
        break_glass_hours=settings.break_glass_hours,
        relationship_days=settings.relationship_days))
    api.state.runner = runner
    api.state.settings = settings
    api.state.users = UserDirectory(record_store)
    api.state.access_log = AccessLog(record_store)
    api.state.tokens = TokenService(settings)
    install_problem_handlers(api)
    api.include_router(command_router())
    for module in (records, patients, release, my_diary, reports, fhir, ndtms, auth, access,
                   access_audit):
        api.include_router(module.router)
    # Added before RequestContext, so it runs inside it (correlation id already bound).
    api.add_middleware(Authenticate)
    if ui is not None:  # a client of this API, served beside it
        ui(api)
    # Counts every body as it streams in (chunked uploads too), before any endpoint reads it.
    api.add_middleware(BodySizeLimit, limit=settings.max_body_bytes)

    @api.get("/health", tags=["operations"], summary="Liveness and store reachability",
             response_model=Health, response_model_exclude_none=True,
             responses={503: {"model": HealthUnavailable,
                              "description": "The record store did not answer."}})
    def health() -> Health | JSONResponse:
        try:
            position = application.position()
        except Exception as exc:
            return JSONResponse({"status": "unavailable", "error": type(exc).__name__},
                                status_code=503)
        degraded = runner.failures(max_age=1.0)
        if degraded:  # serving, but these read models stopped at an event (see the runbook)
            return Health(status="degraded", position=position, degraded=[
                DegradedReadModel(read_model=name, position=f.position)
                for name, f in sorted(degraded.items())])
        return Health(status="ok", position=position)

    openapi.install(api)
    # Outermost: correlation id, declared size, logging, store failures as 503.
    api.add_middleware(RequestContext, max_body_bytes=settings.max_body_bytes)

    return api
