"""The person's journey across settings: police custody → prison → community, and back."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sonar.domain.errors import IllegalStep
from sonar.domain.places import same_place
from sonar.domain.values import Immutable

# Release types after which a person is on licence and so can be recalled.
ON_LICENCE = frozenset({"licence", "home_detention_curfew"})


@dataclass(frozen=True)
class Movement(Immutable):
    """One step of the journey, identified by the version of the event that recorded it."""

    version: int
    occurred_at: datetime
    kind: str
    setting: str
    location: str | None
    detail: str | None = None


@dataclass
class Journey:
    """Where the person is now and how they got there; ``setting`` is None until first known."""

    setting: str | None = None
    location: str | None = None
    last_release_type: str | None = None

    def __post_init__(self) -> None:
        self.movements: list[Movement] = []

    def __deepcopy__(self, memo: dict[int, Any]) -> Journey:
        clone = copy.copy(self)
        clone.movements = list(self.movements)  # movements are immutable
        return clone

    def check_order(self, occurred_at: datetime) -> None:
        """Moves happen one after another: a move cannot be dated before the previous one."""
        if self.movements and occurred_at < self.movements[-1].occurred_at:
            raise IllegalStep("This move is dated before the person's previous move "
                              f"({self.movements[-1].kind.replace('_', ' ')}); check the time.",
                              rule="journey.out_of_order")

    def _require(self, allowed: set[str | None], step: str, hint: str) -> None:
        if self.setting not in allowed:
            where = self.setting or "not yet known"
            raise IllegalStep(f"Cannot record {step.replace('_', ' ')} while the person's "
                              f"setting is {where}: {hint}.", rule=f"journey.{step}_not_allowed")

    def check_police_detention(self) -> None:
        self._require({None, "community"}, "police_detention",
                      "they are already in custody")

    def check_police_release(self) -> None:
        self._require({"police_custody"}, "police_release", "they are not in police custody")

    def check_prison_reception(self) -> None:
        self._require({None, "community", "police_custody"}, "prison_reception",
                      "use a transfer between establishments instead")

    def check_transfer(self, to_establishment: str) -> None:
        self._require({"prison"}, "transfer", "they are not in prison")
        if same_place(self.location, to_establishment):
            raise IllegalStep("A transfer must be to another establishment.",
                              rule="journey.transfer_same_establishment")

    def check_prison_release(self) -> None:
        self._require({"prison"}, "prison_release", "they are not in prison")

    def check_recall(self) -> None:
        self._require({"community"}, "recall", "only a person in the community can be recalled")
        if self.last_release_type not in ON_LICENCE:
            raise IllegalStep("Only a person released on licence can be recalled.",
                              rule="journey.recall_requires_licence")

    def move(self, movement: Movement) -> None:
        self.movements.append(movement)
        self.setting, self.location = movement.setting, movement.location
        if movement.kind == "released_from_prison":
            self.last_release_type = movement.detail
