"""FastAPI dependencies: the application, and the acting user's command context.

Until authentication lands (issue 4), the actor is read from X-Actor-* headers in this
one place; swapping it for a verified token changes nothing else.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Annotated
from uuid import uuid4

from fastapi import Depends, Header, Query, Request

from sonar.api.errors import ProblemError
from sonar.app.application import SonarApplication
from sonar.app.context import CommandContext
from sonar.domain.attribution import Actor, clinical_day
from sonar.domain.errors import InvalidValue
from sonar.projections.runner import ProjectionRunner
from sonar.projections.store import ReadStore


def get_application(request: Request) -> SonarApplication:
    application: SonarApplication = request.app.state.application
    return application


AppDep = Annotated[SonarApplication, Depends(get_application)]


def get_actor(
    x_actor_id: Annotated[str | None, Header()] = None,
    x_actor_role: Annotated[str | None, Header()] = None,
    x_actor_organisation: Annotated[str | None, Header()] = None,
    x_actor_site: Annotated[str | None, Header()] = None,
) -> Actor:
    headers = {"X-Actor-Id": x_actor_id, "X-Actor-Role": x_actor_role,
               "X-Actor-Organisation": x_actor_organisation, "X-Actor-Site": x_actor_site}
    missing = [name for name, value in headers.items() if not value]
    if missing:
        raise ProblemError(401, "auth.actor_required", "Who is acting is not known",
                           f"Send {', '.join(missing)}.",
                           errors=[{"field": m, "in": "header", "rule": "auth.actor_required",
                                    "detail": "required"} for m in missing])
    try:
        return Actor(str(x_actor_id), str(x_actor_role), str(x_actor_organisation),
                     str(x_actor_site))
    except InvalidValue as e:
        raise ProblemError(401, "auth.actor_invalid", "Who is acting is not valid", e.message,
                           errors=[{"field": e.field, "in": "header", "rule": e.rule,
                                    "detail": e.message}]) from None


ActorDep = Annotated[Actor, Depends(get_actor)]


def get_command_context(
    request: Request,
    actor: ActorDep,
    x_purpose_of_use: Annotated[str, Header()] = "direct_care",
    idempotency_key: Annotated[str | None, Header(min_length=1, max_length=200)] = None,
) -> CommandContext:
    correlation_id = getattr(request.state, "correlation_id", None) or uuid4().hex
    return CommandContext(actor=actor, correlation_id=correlation_id,
                          purpose_of_use=x_purpose_of_use, source="api",
                          idempotency_key=idempotency_key)


ContextDep = Annotated[CommandContext, Depends(get_command_context)]


def at_time(ctx: CommandContext, occurred_at: datetime | None) -> CommandContext:
    """The context with the body's clinical time, if one was given."""
    return replace(ctx, occurred_at=occurred_at) if occurred_at else ctx


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
