"""Every read model SONAR maintains, in the order they are applied."""

from __future__ import annotations

from sonar.readmodels.base import Projection
from sonar.readmodels.caseload import CaseloadProjection
from sonar.readmodels.continuity import ContinuityProjection
from sonar.readmodels.diary import DiaryProjection
from sonar.readmodels.outcomes import OutcomesProjection
from sonar.readmodels.record import RecordProjection
from sonar.readmodels.timeline import TimelineProjection


def all_projections() -> list[Projection]:
    return [RecordProjection(), CaseloadProjection(), OutcomesProjection(),
            ContinuityProjection(), TimelineProjection(), DiaryProjection()]
