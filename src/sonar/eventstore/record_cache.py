"""Care records kept in memory between commands, handed out as copies.

A command takes the cached record out of the cache (``take``), changes it and puts it back
once saved: no copy. It does not ask the log whether another process wrote since: if one
did, the command's events clash with the stored versions when saved (optimistic
concurrency) and the application runs the command again on a fresh load. A record changed
but not saved is never put back (``put`` refuses one with pending events). Reads get a copy
(``get``) after applying any newer events from the log, so a read never shows less than the
log holds; copies are cheap because value objects are immutable and copy as themselves
(``sonar.domain.values``), so only episodes, entries and the diary are copied.
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any
from uuid import UUID

from sonar.domain.care_record import CareRecord


class RecordCache:
    def __init__(self, size: int) -> None:
        self.size = size
        self._records: OrderedDict[UUID, CareRecord] = OrderedDict()
        self._lock = threading.Lock()

    def version(self, patient_id: UUID) -> int | None:
        with self._lock:
            record = self._records.get(patient_id)
            return None if record is None else record.version

    def get(self, patient_id: UUID, newer: Iterable[Any] = ()) -> CareRecord | None:
        """A copy of the cached record, after applying ``newer`` events (in version order,
        following on from the cached version) to the cached one."""
        with self._lock:
            record = self._records.get(patient_id)
            if record is None:
                return None
            for event in newer:
                if event.originator_version != record.version + 1:  # raced another reader
                    del self._records[patient_id]
                    return None
                event.mutate(record)
            self._records.move_to_end(patient_id)
            return copy.deepcopy(record)

    def take(self, patient_id: UUID) -> CareRecord | None:
        """The cached record itself, removed from the cache: for a command, which changes
        it and puts it back once saved. Nobody else can see it meanwhile."""
        with self._lock:
            return self._records.pop(patient_id, None)

    def put(self, record: CareRecord) -> None:
        """Keep this record (the cache owns it from now on: do not change it after)."""
        if self.size <= 0 or record.pending_events:
            return
        with self._lock:
            held = self._records.get(record.id)
            if held is None or held.version <= record.version:
                self._records[record.id] = record
                self._records.move_to_end(record.id)
            while len(self._records) > self.size:
                self._records.popitem(last=False)

    def evict(self, patient_id: UUID) -> None:
        with self._lock:
            self._records.pop(patient_id, None)
