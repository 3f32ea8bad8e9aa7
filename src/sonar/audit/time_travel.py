"""The record as it stood at a recorded time, in the read model's shape plus full detail."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sonar.domain.attribution import clinical_day
from sonar.eventstore.application import SonarApplication
from sonar.readmodels.record import public_record, record_row
from sonar.readmodels.record_view import record_view
from sonar.sqlstore.store import Json


def record_as_of(app: SonarApplication, patient_id: UUID,
                 as_of: datetime) -> dict[str, Any] | None:
    record = app.record_as_of(patient_id, as_of)
    if record is None:
        return None
    row = {k: (v.value if isinstance(v, Json) else v)
           for k, v in record_row(record, position=0).items()}
    day = clinical_day(as_of)
    summary = public_record(row, day)
    summary.pop("position")
    return {**summary, "as_of": as_of.isoformat(), "detail": record_view(record, day)}
