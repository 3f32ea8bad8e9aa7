"""What a projection is: a named, versioned set of tables and a handler for changes."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from importlib.resources import files
from typing import Any, ClassVar

from sonar.domain.care_record import CareRecord
from sonar.sqlstore.store import Dialect, Tx, ddl


def migration(name: str) -> str:
    """The versioned DDL ``name`` (e.g. ``caseload.v1.sql``), shipped in the package."""
    return (files("sonar.readmodels") / "migrations" / "read_models" / name).read_text()


@dataclass(frozen=True)
class Change:
    """One stored event at its log position, with the patient's record just after it.

    ``record`` is shared and moves on as later events apply, so per-event facts that
    depend on the moment (setting, location) are captured here when the event applies.
    """

    position: int
    event: CareRecord.Event
    record: CareRecord
    setting: str | None
    location: str | None

    @cached_property
    def patient_id(self) -> str:
        """The patient's id as the read models store it (text), made once per change."""
        return str(self.event.originator_id)


Tables = Mapping[str, str]


class Projection(ABC):
    """A read model: ``tables`` are logical names; each generation gets physical tables
    ``rm_<table>_g<N>`` behind a stable view ``rm_<table>`` for readers and analysts."""

    name: ClassVar[str]
    version: ClassVar[int]
    tables: ClassVar[tuple[str, ...]]

    def physical(self, generation: int) -> dict[str, str]:
        return {t: f"rm_{t}_g{generation}" for t in self.tables}

    def create_sql(self, dialect: Dialect, generation: int) -> list[str]:
        text = ddl(migration(f"{self.name}.v{self.version}.sql"), dialect,
                   **self.physical(generation))
        lines = [line for line in text.splitlines() if not line.lstrip().startswith("--")]
        return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]

    @abstractmethod
    def handle(self, tx: Tx, t: Tables, changes: Sequence[Change]) -> None:
        """Apply a batch of changes in order, inside the caller's transaction."""


def last_per_patient(changes: Sequence[Change]) -> dict[Any, CareRecord]:
    """The final record of each patient touched by a batch."""
    return {c.record.id: c.record for c in changes}
