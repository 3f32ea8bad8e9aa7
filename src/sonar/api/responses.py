"""Turning a use case's result into the API's answer."""

from __future__ import annotations

from fastapi import Response

from sonar.api.schemas.common import CommandAccepted
from sonar.app.context import CommandResult


def accepted(result: CommandResult, response: Response) -> CommandAccepted:
    response.headers["X-Log-Position"] = str(result.position)
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return CommandAccepted(patient_id=result.patient_id, position=result.position,
                           episode=result.episode, replayed=result.replayed)
