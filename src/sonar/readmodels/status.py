"""How far behind the log each read model is, in events and in seconds, and whether it is
degraded (held at an event it could not apply)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sonar.eventstore.application import SonarApplication
from sonar.readmodels.base import Projection
from sonar.readmodels.positions import Failure, Positions, now


@dataclass(frozen=True)
class ProjectionStatus:
    name: str
    version: int
    generation: int
    position: int
    head: int
    lag_events: int
    lag_seconds: float
    failure: Failure | None = None

    @property
    def state(self) -> str:
        return "degraded" if self.failure else "ok"


def statuses(app: SonarApplication, positions: Positions,
             projections: Sequence[Projection]) -> list[ProjectionStatus]:
    """Each existing read model's position against the log's head; the lag in seconds is the
    age of the oldest event it has not applied."""
    head = app.position()
    metas, failed = positions.metas(), positions.failures()
    result = []
    for projection in projections:
        meta = metas.get(projection.name)
        if meta is None:
            continue
        lag = 0.0
        oldest = _time_of(app, meta.position + 1) if meta.position < head else None
        if oldest is not None:
            lag = max(0.0, (now() - oldest).total_seconds())
        result.append(ProjectionStatus(projection.name, meta.version, meta.generation,
                                       meta.position, head, head - meta.position, lag,
                                       failed.get(projection.name)))
    return result


def _time_of(app: SonarApplication, position: int) -> datetime | None:
    """Recorded time of the event at a log position."""
    if position < 1:
        return None
    found = app.recorder.select_notifications(start=position, limit=1)
    if not found:
        return None
    event = app.mapper.to_domain_event(found[0])
    timestamp = getattr(event, "timestamp", None)
    return timestamp if isinstance(timestamp, datetime) else None
