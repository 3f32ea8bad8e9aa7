"""FastAPI dependencies: the application, and the acting user's command context.

The actor comes from the verified bearer token, in this one place; routes never read
identity from headers or bodies.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID, uuid4

from fastapi import Depends, Header, Query, Request

from sonar.api.errors import ProblemError
from sonar.api.security import get_principal
from sonar.auth.tokens import Principal
from sonar.commands.context import CommandContext
from sonar.commands.pipeline import CommandBus
from sonar.domain import codes
from sonar.domain.attribution import Actor, clinical_day
from sonar.eventstore.application import SonarApplication
from sonar.readmodels.runner import ProjectionRunner
from sonar.sqlstore.store import ReadStore


def get_application(request: Request) -> SonarApplication:
    application: SonarApplication = request.app.state.application
    return application


AppDep = Annotated[SonarApplication, Depends(get_application)]


def get_actor(principal: Annotated[Principal, Depends(get_principal)]) -> Actor:
    """The acting user, from their verified bearer token (see ``api.security``)."""
    return principal.actor


ActorDep = Annotated[Actor, Depends(get_actor)]


def get_command_context(
    request: Request,
    principal: Annotated[Principal, Depends(get_principal)],
    x_purpose_of_use: Annotated[str, Header(
        description="Why you are acting (the domain refuses other codes).",
        json_schema_extra={"enum": list(codes.PURPOSE_OF_USE)})] = "direct_care",
    idempotency_key: Annotated[str | None, Header(min_length=1, max_length=200)] = None,
) -> CommandContext:
    correlation_id = getattr(request.state, "correlation_id", None) or uuid4().hex
    own = UUID(principal.patient_id) if principal.patient_id else None
    return CommandContext(actor=principal.actor, correlation_id=correlation_id,
                          purpose_of_use=x_purpose_of_use, source="api",
                          idempotency_key=idempotency_key, own_record=own)


ContextDep = Annotated[CommandContext, Depends(get_command_context)]


def get_bus(request: Request) -> CommandBus:
    bus: CommandBus = request.app.state.bus
    return bus


BusDep = Annotated[CommandBus, Depends(get_bus)]


def get_runner(request: Request) -> ProjectionRunner:
    runner: ProjectionRunner = request.app.state.runner
    return runner


RunnerDep = Annotated[ProjectionRunner, Depends(get_runner)]

MinPosition = Annotated[int | None, Query(
    ge=0, description="Wait (up to 5 s) until read models include this log position, so a "
                      "client reads its own write.")]


def read_models(runner: RunnerDep, min_position: MinPosition = None) -> ReadStore:
    """The read store, once it includes ``min_position`` (else 503, retry shortly)."""
    if min_position is not None and not runner.wait_for(min_position, timeout=5.0):
        raise ProblemError(503, "read_model.behind", "Read models are catching up",
                           f"Read models have not yet reached position {min_position}; "
                           "retry shortly.")
    return runner.store


ReadStoreDep = Annotated[ReadStore, Depends(read_models)]


def today(application: AppDep) -> date:
    """Today's date in England, by the application's clock (so tests can move time)."""
    return clinical_day(application.clock())


TodayDep = Annotated[date, Depends(today)]
