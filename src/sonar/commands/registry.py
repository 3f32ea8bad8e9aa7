"""Every command SONAR accepts, by area. The API's routes, the policy table and the UI's
forms are made from this list; a new step is added to its area's ``COMMANDS``."""

from __future__ import annotations

from sonar.commands import access, gp, journey, pathway, record, reset
from sonar.commands.base import Command

COMMANDS: tuple[type[Command], ...] = (
    *record.COMMANDS, *journey.COMMANDS, *pathway.COMMANDS, *reset.COMMANDS,
    *access.COMMANDS, *gp.COMMANDS)


def routed() -> tuple[type[Command], ...]:
    """The commands the API takes at a route of their own."""
    return tuple(c for c in COMMANDS if c.step.path is not None)
