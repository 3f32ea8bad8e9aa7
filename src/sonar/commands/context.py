"""What the pipeline is told about the caller, and what it answers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from sonar.domain.attribution import Actor


@dataclass(frozen=True)
class CommandContext:
    """Who is acting and why. ``own_record``: the care record of a released person acting
    on their own behalf (their account's patient), if the actor is one."""

    actor: Actor
    correlation_id: str
    purpose_of_use: str = "direct_care"
    source: str = "api"
    idempotency_key: str | None = None
    own_record: UUID | None = None


@dataclass(frozen=True)
class CommandResult:
    """The outcome of an accepted command.

    ``position`` is the log position of the command's last event; a client passes it to
    read models to read its own write. For a repeated idempotent request, or a command that
    found nothing to change, it is the log's head when it arrived, which is never before
    the original write. ``details``: what the command adds to its answer (e.g. the id of a
    new appointment).
    """

    patient_id: UUID
    position: int
    replayed: bool = False
    episode: int | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
