"""Every read model SONAR maintains, in the order they are applied."""

from __future__ import annotations

from sonar.projections.base import Projection
from sonar.projections.caseload import CaseloadProjection
from sonar.projections.continuity import ContinuityProjection
from sonar.projections.diary import DiaryProjection
from sonar.projections.outcomes import OutcomesProjection
from sonar.projections.record import RecordProjection
from sonar.projections.timeline import TimelineProjection


def all_projections() -> list[Projection]:
    return [RecordProjection(), CaseloadProjection(), OutcomesProjection(),
            ContinuityProjection(), TimelineProjection(), DiaryProjection()]
