"""Shared pieces of the API's models."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from sonar.domain.codes import ValueSet


class CommandAccepted(BaseModel):
    """A command was applied (or, on a repeated Idempotency-Key, had been applied)."""

    patient_id: UUID
    position: int = Field(description="Log position of the write; pass it to read models as "
                          "min_position to read your own write.")
    episode: int | None = None
    replayed: bool = Field(False, description="True when this repeats an earlier request "
                           "with the same Idempotency-Key; nothing new was written.")


# Times and dates the API answers with, as the read models hold them: ISO 8601 text, kept as
# text so the answer is exactly what was stored (a time is never re-rendered on the way out).
Moment = Annotated[str, Field(json_schema_extra={"format": "date-time"})]
Day = Annotated[str, Field(json_schema_extra={"format": "date"})]


class Answer(BaseModel):
    """Every response model: closed, so its schema says exactly what is sent."""

    model_config = ConfigDict(extra="forbid")


def code(value_set: ValueSet, description: str) -> Any:
    """A coded field of an answer, named with its value set. Not enforced on the way out, so
    a record written when the set was different still reads."""
    return Field(description=f"{description} (a code from value set {value_set.name}, "
                             f"e.g. {next(iter(value_set))}).")
