"""In-memory replicas of care records, folded event by event with the domain's own rules.

Projections derive their rows from the record as it stood just after each event, so
"latest risk", "entered in error" and review due dates mean exactly what the domain
means, with no second implementation. The cache is bounded (LRU); a miss rebuilds the
record at the version before the event from the event store (using snapshots).
"""

from __future__ import annotations

from collections import OrderedDict
from uuid import UUID

from sonar.domain.care_record import CareRecord
from sonar.eventstore.application import SonarApplication

DEFAULT_MAXSIZE = 5000  # SONAR_REPLICA_CACHE_SIZE's default


class RecordReplicas:
    def __init__(self, app: SonarApplication, maxsize: int = DEFAULT_MAXSIZE) -> None:
        self.app = app
        self.maxsize = maxsize
        self._records: OrderedDict[UUID, CareRecord] = OrderedDict()

    def apply(self, event: CareRecord.Event) -> CareRecord:
        patient_id = event.originator_id
        record = self._records.pop(patient_id, None)
        if record is None or record.version != event.originator_version - 1:
            record = (None if event.originator_version == 1
                      else self.app.get_record(patient_id, event.originator_version - 1))
        mutated = event.mutate(record)
        if not isinstance(mutated, CareRecord):  # only care-record events reach here
            msg = f"{type(event).__name__} did not produce a care record"
            raise TypeError(msg)
        self._records[patient_id] = mutated
        if len(self._records) > self.maxsize:
            self._records.popitem(last=False)
        return mutated

    def clear(self) -> None:
        self._records.clear()
