"""The care-record store: eventsourcing's Application, tuned, persistence only.

It saves records' new events with the per-stream hash chain extended from each stream's
stored head (group-committed across concurrent commands), snapshots every 50 events, keeps
a bounded cache of records for the next command, and reads the log in order for the read
models. What a command is and how it runs is ``sonar.commands``; this module knows no use
case.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, ClassVar
from uuid import UUID

import structlog
from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Aggregate, Snapshot
from eventsourcing.persistence import EventStore, Mapper, Recording, Transcoder

from sonar.domain import VALUE_TYPES, CareRecord
from sonar.domain.identity import NhsNumber
from sonar.eventstore.errors import PatientNotFound
from sonar.eventstore.group_commit import GroupCommit
from sonar.eventstore.integrity import ChainingMapper, Heads, split_chain
from sonar.eventstore.pg_recorder import Share, SonarPostgresRecorder, StoredRow
from sonar.eventstore.receipts import NhsNumberIndex
from sonar.eventstore.record_cache import RecordCache
from sonar.eventstore.snapshot_codec import SnapshotTranscoder
from sonar.eventstore.topics import register_moved_topics
from sonar.eventstore.transcoder import ValueTranscoder

_log = structlog.get_logger(__name__)
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def fold(record: Any, events: Iterable[Any]) -> Any:
    """eventsourcing's project_aggregate without its per-event runtime Protocol check."""
    for event in events:
        record = event.mutate(record)
    return record


class SonarApplication(Application[UUID]):
    """The care-record application, persisted by whichever recorder the env names."""

    name = "sonar"
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {CareRecord: 50}

    def __init__(self, env: dict[str, str] | None = None, clock: Clock = utc_now) -> None:
        self.clock = clock
        self.on_saved: list[Callable[[], None]] = []  # e.g. wake the in-process read models
        register_moved_topics()
        super().__init__(env)
        self.group_commit = GroupCommit(self.save)  # concurrent commands share a commit
        self.record_cache = RecordCache(int(self.env.get("SONAR_RECORD_CACHE_SIZE") or 0))

    def construct_transcoder(self) -> Transcoder:
        return ValueTranscoder(VALUE_TYPES)

    def construct_mapper(self) -> Mapper[UUID]:
        return self.factory.mapper(transcoder=self.construct_transcoder(),
                                   mapper_class=ChainingMapper)

    def construct_snapshot_store(self) -> EventStore[UUID]:
        """Snapshots are caches, so they get the faster pickle codec (not chained)."""
        values = self.mapper.transcoder
        if not isinstance(values, ValueTranscoder):  # always so: see construct_transcoder
            raise TypeError(type(values).__name__)
        return self.factory.event_store(
            mapper=self.factory.mapper(transcoder=SnapshotTranscoder(values)),
            recorder=self.factory.aggregate_recorder(purpose="snapshots"))

    @property
    def chaining_mapper(self) -> ChainingMapper:
        if not isinstance(self.mapper, ChainingMapper):  # always so: see construct_mapper
            raise TypeError(type(self.mapper).__name__)
        return self.mapper

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        """Save aggregates' pending events and any events given, in one transaction,
        extending each stream's hash chain from its stored head."""
        first: dict[UUID, int] = {}  # each stream's first version in this save
        for o in objs:
            for e in (o.pending_events if isinstance(o, Aggregate) else (o,)):
                first.setdefault(e.originator_id, e.originator_version)
        heads: Heads = {oid: (v - 1, self._chain_head(oid, v - 1))
                        for oid, v in first.items() if v > 1}
        self.chaining_mapper.begin(heads)
        # As Application.save, but with a concrete class check instead of eventsourcing's
        # runtime Protocol checks, which cost more than the rest of collecting on 3.11.
        processing: ProcessingEvent[UUID] = ProcessingEvent()
        for o in objs:
            if isinstance(o, Aggregate):
                processing.events.extend(o.collect_events())
                processing.aggregates[o.id] = o
            elif o is not None:
                processing.events.append(o)
        processing.saved_kwargs.update(kwargs)
        recordings = self._record(processing)
        self.chaining_mapper.saved()
        self._take_snapshots(processing)
        self._notify(recordings)
        for listener in self.on_saved:
            listener()
        return recordings

    def _take_snapshots(self, processing_event: ProcessingEvent[UUID]) -> None:
        """Snapshot each saved record whose new events reach a multiple of its interval,
        from the record in memory (eventsourcing reloads it from the store first).

        The events are committed by now, so a snapshot that cannot be stored is logged
        and skipped: it is a cache, and the command has succeeded."""
        due = {e.originator_id for e in processing_event.events
               if (interval := self.snapshotting_intervals.get(
                   type(processing_event.aggregates.get(e.originator_id)))) is not None
               and e.originator_version % interval == 0}
        if not due or self.snapshots is None:
            return
        snapshots = [Snapshot.take(processing_event.aggregates[i]) for i in due]
        try:
            self.snapshots.put(snapshots)
        except Exception as exc:  # see the docstring
            _log.warning("snapshot.not_stored", error=type(exc).__name__, count=len(snapshots))

    def _chain_head(self, originator_id: UUID, version: int) -> str:
        known = self.chaining_mapper.seen_head(originator_id, version)
        if known is not None:  # read while loading the record for this command
            return known
        stored = self.recorder.select_events(originator_id, lte=version, desc=True, limit=1)
        split = split_chain(self.chaining_mapper.plain_state(stored[0])) if stored else None
        if split is None or stored[0].originator_version != version:
            msg = f"stream {originator_id} has no chained event at version {version}"
            raise RuntimeError(msg)
        return split[1]

    # --- queries on the write model ----------------------------------------------------

    def get_record(self, patient_id: UUID, version: int | None = None) -> CareRecord:
        """The record (at ``version``, or now): a copy of the cached one after any newer
        events in the log, or loaded from the latest snapshot and the events after it."""
        if version is None:
            cached_version = self.record_cache.version(patient_id)
            if cached_version is not None:
                newer = self.events.get(patient_id, gt=cached_version)
                cached = self.record_cache.get(patient_id, newer)
                if cached is not None:
                    return cached
        record = self._load(patient_id, version)
        if version is None and self.record_cache.size > 0:
            self.record_cache.put(copy.deepcopy(record))
        return record

    def _load(self, patient_id: UUID, version: int | None = None) -> CareRecord:
        try:
            record: Aggregate = self.repository.get(patient_id, version=version,
                                                    projector_func=fold)
        except AggregateNotFoundError:
            raise PatientNotFound(patient_id) from None
        if not isinstance(record, CareRecord):
            raise PatientNotFound(patient_id)
        return record

    def checkout(self, patient_id: UUID) -> CareRecord:
        """The record for a command to change, without a copy: the cached one itself (out
        of the cache until the command puts it back saved) or, if another command has it,
        a load of its own. The log is not asked for newer events first: the save would
        clash with them, and the command would run again on a fresh load."""
        record = self.record_cache.take(patient_id)
        return record if record is not None else self._load(patient_id)

    def record_as_of(self, patient_id: UUID, recorded_at: datetime) -> CareRecord | None:
        """The record exactly as it stood at a recorded time (None if not yet registered).

        Later corrections are events after that time, so entries since marked in error
        appear as they did then.
        """
        version = 0
        for event in self.events.get(patient_id):
            if getattr(event, "timestamp", recorded_at) > recorded_at:
                break
            version = event.originator_version
        if version == 0:
            self.get_record(patient_id)  # PatientNotFound when there is no such record
            return None
        return self.get_record(patient_id, version)

    def find_by_nhs_number(self, nhs_number: NhsNumber) -> UUID | None:
        try:
            index: Aggregate = self.repository.get(NhsNumberIndex.id_for(nhs_number.value))
        except AggregateNotFoundError:
            return None
        return index.patient_id if isinstance(index, NhsNumberIndex) else None

    def position(self) -> int:
        """The log's head: the position of the last stored event (0 when empty)."""
        return self.recorder.max_notification_id() or 0

    def stored_rows(self, start: int, limit: int, stop: int | None = None,
                    share: Share | None = None) -> list[StoredRow]:
        """Stored events from position ``start`` (to ``stop``) in log order, as plain rows
        for ``chaining_mapper.decode``: read straight into tuples on PostgreSQL. ``share``:
        only the streams of that share (PostgreSQL only)."""
        if isinstance(self.recorder, SonarPostgresRecorder):
            rows: list[StoredRow] = self.recorder.select_rows(start, limit, stop, share)
            return rows
        if share is not None:
            msg = "reading one share of the log needs the PostgreSQL store"
            raise NotImplementedError(msg)
        return [(n.id, n.originator_id, n.originator_version, n.topic, n.state)  # type: ignore[misc]
                for n in self.recorder.select_notifications(start=start, limit=limit, stop=stop)]

    @property
    def can_share(self) -> bool:
        """Whether the log can be read in shares (by several processes at once)."""
        return isinstance(self.recorder, SonarPostgresRecorder)
