"""What ``/health`` answers: whether SONAR is serving, and how far its log has got."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class DegradedReadModel(BaseModel):
    """A read model held at its last good position (``sonar projections retry`` resumes it)."""

    model_config = ConfigDict(extra="forbid")

    read_model: str = Field(description="The read model's name, e.g. caseload.")
    position: int = Field(description="The last log position it applied.")


class Health(BaseModel):
    """SONAR is serving; ``degraded`` names the read models that have stopped, if any."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["ok", "degraded"] = Field(
        description="ok, or degraded when a read model has stopped at an event it could not "
                    "apply (the others, and commands, carry on).")
    position: int = Field(description="The log's current position.")
    degraded: list[DegradedReadModel] | None = Field(
        None, description="Present only when degraded: the stopped read models, by name.")


class HealthUnavailable(BaseModel):
    """The record store did not answer."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["unavailable"]
    error: str = Field(description="The kind of failure (an exception class name).")
