"""What a use case is told about the caller, and what it answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sonar.domain.attribution import Actor


@dataclass(frozen=True)
class CommandContext:
    """Who is acting and why; ``occurred_at`` is clinical time (defaults to now)."""

    actor: Actor
    correlation_id: str
    purpose_of_use: str = "direct_care"
    source: str = "api"
    idempotency_key: str | None = None
    occurred_at: datetime | None = None


@dataclass(frozen=True)
class CommandResult:
    """The outcome of an accepted command.

    ``position`` is the log position of the command's last event; a client passes it to
    read models to read its own write. For a repeated idempotent request it is the log's
    head when the repeat arrived, which is never before the original write.
    """

    patient_id: UUID
    position: int
    replayed: bool = False
    episode: int | None = None
