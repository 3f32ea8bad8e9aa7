"""Every command's route, made from the command registry: one ``POST`` per clinical step.

The body is the command's own fields less those in the path and those the server derives,
so the OpenAPI schema, the validation and its all-at-once errors come from the one
declaration in ``sonar.commands``. The route hands the command to the pipeline
(``CommandBus``), which decides access, attributes, deduplicates and saves.
"""

from __future__ import annotations

import inspect
from typing import Annotated, Any

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, ConfigDict, create_model

from sonar.api.deps import BusDep, ContextDep
from sonar.api.policy import command_path
from sonar.api.responses import accepted
from sonar.api.schemas.common import CommandAccepted
from sonar.commands.base import Command, CreateCommand
from sonar.commands.registry import routed

PATIENTS = "/api/v1/patients"


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


def body_model(command: type[Command]) -> type[BaseModel]:
    """The request body: the command's fields that the caller sends in the body."""
    fields: dict[str, Any] = {name: (command.model_fields[name].annotation,
                                     command.model_fields[name])
                              for name in command.body_fields()}
    return create_model(f"{command.__name__}Body", __base__=_Body,
                        __doc__=command.__doc__, **fields)


def field_of(command: type[Command], name: str) -> Any:
    """A command's field (type rules and all), to declare the same field on another model."""
    return command.model_fields[name]


def answer_model(command: type[Command]) -> type[CommandAccepted]:
    """What a 201 answer holds: the position, and the command's own details if it has any."""
    if not command.step.answer:
        return CommandAccepted
    fields: dict[str, Any] = {name: (kind, ...) for name, kind in command.step.answer}
    return create_model(f"{command.__name__}Accepted", __base__=CommandAccepted, **fields)


def _endpoint(command: type[Command]) -> Any:
    body = body_model(command) if command.body_fields() else None
    answer = answer_model(command)
    params = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=Annotated[
        command.model_fields[name].annotation, Path(), *command.model_fields[name].metadata])
        for name in command.path_params()]
    if body is not None:
        params.append(inspect.Parameter("body", inspect.Parameter.KEYWORD_ONLY, annotation=body))
    params += [inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=ContextDep),
               inspect.Parameter("bus", inspect.Parameter.KEYWORD_ONLY, annotation=BusDep),
               inspect.Parameter("response", inspect.Parameter.KEYWORD_ONLY,
                                 annotation=Response)]

    def endpoint(**values: Any) -> CommandAccepted:
        ctx, bus, response = values.pop("ctx"), values.pop("bus"), values.pop("response")
        sent = values.pop("body", None)
        fields = {**values, **(sent.__dict__ if sent is not None else {})}
        result = bus.handle(ctx, command.model_construct(**fields))
        if issubclass(command, CreateCommand):
            response.headers["Location"] = f"{PATIENTS}/{result.patient_id}"
        return answer.model_validate(
            {**accepted(result, response).model_dump(), **result.details})

    endpoint.__signature__ = inspect.Signature(params, return_annotation=answer)  # type: ignore[attr-defined]
    endpoint.__name__ = command.name()
    endpoint.__doc__ = command.__doc__
    return endpoint


def command_router() -> APIRouter:
    """A router with a ``POST`` for each routed command."""
    router = APIRouter()
    for command in routed():
        router.add_api_route(command_path(command), _endpoint(command), methods=["POST"],
                             status_code=201, summary=command.summary(),
                             tags=[command.step.tag], operation_id=command.name(),
                             response_model=answer_model(command))
    return router


