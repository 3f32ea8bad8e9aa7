"""Projection workers that read ``sonar.events.v1`` in a Kafka consumer group.

Why: one in-process runner is bounded by one machine; a consumer group spreads the topic's
partitions (patients, by key) over N workers, each feeding the SAME projection classes
through the same ``Projection.handle()`` into the live generation of the read-model tables.

Exactly once, across crashes and rebalances:

- Offsets are not committed to Kafka (auto commit is off). The next offset of each partition
  is stored in ``kafka_offsets`` in the SAME read-store transaction as the projection rows;
  on assignment a worker seeks to the stored offsets, so whatever committed is never
  re-applied and whatever rolled back is read again. The offset rows are locked first in each
  transaction (``FOR UPDATE`` on PostgreSQL; SQLite writes are serialised), so a worker that
  lost its partitions but has not noticed yet cannot apply a batch twice.
- The relay is at least once: a batch re-sent after a relay crash arrives at new offsets.
  ``kafka_applied`` keeps each patient's last applied version, updated in the same
  transaction; an event at or below it is dropped (event id = patient id + version). Keying
  by patient keeps a patient's versions in order, so a version other than last + 1 means an
  event was lost: the worker stops on it (``EventGap``) rather than build a wrong read model.
- Events at or before a projection's ``rm_meta`` position were applied by the in-process
  runner (before a switch to Kafka, or by a ``sonar projections rebuild`` that swapped in a
  new generation); they are skipped for that projection, as the runner itself does.

Workers never advance ``rm_meta`` positions: those belong to the in-process runner, so
``sonar projections status`` describes the runner (``--source log``), and :meth:`status` here
gives the group's offsets and lag per partition. Records are folded by
:class:`~sonar.readmodels.replicas.RecordReplicas`, which reads the event store on a cache
miss, so a worker runs with the same application settings (and cipher key) as the writer.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import kafka  # type: ignore[import-untyped]
import kafka.errors  # type: ignore[import-untyped]
import structlog
from kafka import TopicPartition

from sonar.adapters.kafka.envelope import EnvelopeError, from_envelope, read_envelope
from sonar.adapters.kafka.topics import EVENTS_TOPIC, RECONNECT_BACKOFF_MAX_MS
from sonar.domain.care_record import CareRecord
from sonar.eventstore.application import SonarApplication
from sonar.readmodels.base import Change, Projection
from sonar.readmodels.registry import all_projections
from sonar.readmodels.replicas import DEFAULT_MAXSIZE, RecordReplicas
from sonar.readmodels.runner import ProjectionRunner
from sonar.sqlstore.store import ReadStore, Tx, ddl, upsert_rows

log = structlog.get_logger("sonar.worker")

DEFAULT_GROUP = "sonar-projections"
WORKER_DDL = (
    "CREATE TABLE IF NOT EXISTS kafka_offsets (group_id TEXT NOT NULL, topic TEXT NOT NULL, "
    "partition INTEGER NOT NULL, next_offset {bigint} NOT NULL, "
    "PRIMARY KEY (group_id, topic, partition))",
    "CREATE TABLE IF NOT EXISTS kafka_applied (patient_id TEXT PRIMARY KEY, "
    "version INTEGER NOT NULL)",
)


class EventGap(RuntimeError):
    """A patient's next event is missing from the topic; applying on would be wrong."""


@dataclass(frozen=True)
class Message:
    partition: int
    offset: int
    position: int
    patient_id: str
    version: int
    value: bytes


@dataclass(frozen=True)
class PartitionStatus:
    partition: int
    next_offset: int  # the first offset this group has not applied
    end_offset: int  # the offset the next message will get
    lag: int


class _SeekToStored(kafka.ConsumerRebalanceListener):  # type: ignore[misc]
    """On assignment, continue exactly where the read store says this group stopped."""

    def __init__(self, worker: KafkaProjectionWorker) -> None:
        self.worker = worker

    def on_partitions_revoked(self, revoked: Any) -> None:
        # Nothing to save: each batch committed its offsets with its rows before the next poll.
        self.worker.assigned = frozenset()
        log.info("partitions_revoked", partitions=sorted(tp.partition for tp in revoked))

    def on_partitions_assigned(self, assigned: Any) -> None:
        try:
            self.worker.seek_to_stored(assigned)
        except Exception as error:  # kafka-python would swallow it: say so before it does
            log.error("seek_to_stored_failed", error_type=type(error).__name__, error=str(error))
            raise
        self.worker.assigned = frozenset(tp.partition for tp in assigned)
        log.info("partitions_assigned", partitions=sorted(tp.partition for tp in assigned))


class KafkaProjectionWorker:
    """One member of a consumer group applying events to the live read-model tables."""

    def __init__(self, app: SonarApplication, store: ReadStore, bootstrap: str,
                 topic: str = EVENTS_TOPIC, group_id: str = DEFAULT_GROUP, *,
                 projections: Sequence[Projection] | None = None, client_id: str | None = None,
                 max_records: int = 500, rejoin_after: float | None = 60.0,
                 replica_cache_size: int = DEFAULT_MAXSIZE) -> None:
        """``rejoin_after``: seconds a member may hold no partitions before it leaves and
        joins the group again (kafka-python was seen to leave a member stranded, without
        partitions, after a rebalance); None never rejoins. In a group with more workers
        than partitions an idle worker then causes a rebalance that often."""
        self.app, self.store, self.bootstrap = app, store, bootstrap
        self.topic, self.group_id = topic, group_id
        self.projections = list(projections) if projections is not None else all_projections()
        self.client_id = client_id or f"{group_id}-worker"
        self.max_records = max_records
        self.replicas = RecordReplicas(app, replica_cache_size)
        self.applied_events = 0  # events this worker applied (not dropped), for operators
        self.assigned: frozenset[int] = frozenset()  # set by the rebalance listener
        self.rejoin_after = rejoin_after
        self._consumer: Any = None

    # --- setup -----------------------------------------------------------------------------

    def migrate(self) -> None:
        """Read-model tables (as the runner makes them) and this worker's bookkeeping."""
        ProjectionRunner(self.app, self.store, self.projections).migrate()
        self._ensure_bookkeeping()

    def start(self) -> None:
        """Join the group; partitions arrive (and are sought) during the first polls."""
        if self._consumer is not None:
            return
        self.migrate()
        self._consumer = kafka.KafkaConsumer(
            bootstrap_servers=self.bootstrap, group_id=self.group_id,
            client_id=self.client_id, enable_auto_commit=False,
            auto_offset_reset="earliest", max_poll_records=self.max_records,
            reconnect_backoff_max_ms=RECONNECT_BACKOFF_MAX_MS)
        self._await_topic()
        self._consumer.subscribe([self.topic], listener=_SeekToStored(self))

    def _await_topic(self, timeout: float = 30.0) -> None:
        """Know the topic's partitions before joining the group.

        A member that joins before its client has the topic's metadata is assigned nothing,
        and kafka-python 3.0 was seen not to complete the rebalance that should follow.
        """
        deadline = time.monotonic() + timeout
        while not self._consumer.partitions_for_topic(self.topic):
            if time.monotonic() > deadline:
                log.warning("topic_not_found", topic=self.topic)
                return
            time.sleep(0.1)

    def assignment(self) -> frozenset[int]:
        """Partitions held now (safe to read from another thread, unlike the consumer)."""
        return self.assigned

    def seek_to_stored(self, partitions: Iterable[Any]) -> None:
        stored = self._stored_offsets()
        for tp in partitions:
            if tp.partition in stored:
                self._consumer.seek(tp, stored[tp.partition])
            else:
                self._consumer.seek_to_beginning(tp)

    def _stored_offsets(self) -> dict[int, int]:
        rows = self.store.fetchall("SELECT partition, next_offset FROM kafka_offsets "
                                   "WHERE group_id = ? AND topic = ?",
                                   [self.group_id, self.topic])
        return {int(r["partition"]): int(r["next_offset"]) for r in rows}

    # --- consuming -------------------------------------------------------------------------

    def poll_once(self, timeout: float = 0.5) -> int:
        """Apply one poll's messages in one transaction; return the events applied."""
        self.start()
        polled = self._consumer.poll(timeout_ms=int(timeout * 1000),
                                     max_records=self.max_records)
        if not polled:
            return 0
        try:
            applied = self._apply([_message(tp.partition, record)
                                   for tp, records in polled.items() for record in records])
        except BaseException:
            self.seek_to_stored(self._consumer.assignment())  # read the batch again
            raise
        self.applied_events += applied
        return applied

    def _apply(self, messages: list[Message]) -> int:
        partitions = sorted({m.partition for m in messages})
        with self.store.transaction() as tx:
            stored = self._lock_offsets(tx, partitions)
            fresh = [m for m in messages if m.offset >= stored.get(m.partition, 0)]
            changes, versions = self._changes(tx, fresh)
            metas = {r["projection"]: (int(r["generation"]), int(r["position"])) for r in
                     tx.fetchall("SELECT projection, generation, position FROM rm_meta")}
            for projection in self.projections:
                generation, runner_position = metas[projection.name]
                projection.handle(tx, projection.physical(generation),
                                  [c for c in changes if c.position > runner_position])
            upsert_rows(tx, "kafka_applied", ["patient_id"],
                        [{"patient_id": p, "version": v} for p, v in versions.items()])
            upsert_rows(tx, "kafka_offsets", ["group_id", "topic", "partition"], [
                {"group_id": self.group_id, "topic": self.topic, "partition": p,
                 "next_offset": max(m.offset for m in messages if m.partition == p) + 1}
                for p in partitions])
        return len(changes)

    def _lock_offsets(self, tx: Tx, partitions: list[int]) -> dict[int, int]:
        """This batch's partitions' stored offsets, locked until the transaction ends."""
        tx.executemany("INSERT INTO kafka_offsets (group_id, topic, partition, next_offset) "
                       "VALUES (?, ?, ?, 0) ON CONFLICT (group_id, topic, partition) DO NOTHING",
                       [[self.group_id, self.topic, p] for p in partitions])
        lock = " FOR UPDATE" if self.store.dialect == "postgres" else ""
        marks = ", ".join("?" for _ in partitions)
        where = f"group_id = ? AND topic = ? AND partition IN ({marks}){lock}"
        sql = f"SELECT partition, next_offset FROM kafka_offsets WHERE {where}"  # noqa: S608
        rows = tx.fetchall(sql, [self.group_id, self.topic, *partitions])
        return {int(r["partition"]): int(r["next_offset"]) for r in rows}

    def _changes(self, tx: Tx, messages: list[Message]) -> tuple[list[Change], dict[str, int]]:
        """Changes in log order, with duplicates dropped; and each patient's new version."""
        patients = sorted({m.patient_id for m in messages})
        applied: dict[str, int] = {}
        if patients:
            marks = ", ".join("?" for _ in patients)
            applied = {r["patient_id"]: int(r["version"]) for r in tx.fetchall(
                f"SELECT patient_id, version FROM kafka_applied WHERE patient_id IN ({marks})",  # noqa: S608
                patients)}
        changed: dict[str, int] = {}
        changes: list[Change] = []
        for message in sorted(messages, key=lambda m: (m.position, m.offset)):
            last = applied.get(message.patient_id, 0)
            if message.version <= last:
                continue  # a re-sent event: applied already
            if message.version != last + 1:
                raise EventGap(f"patient {message.patient_id}: version {message.version} "
                               f"arrived after {last} (partition {message.partition}, "
                               f"offset {message.offset})")
            applied[message.patient_id] = changed[message.patient_id] = message.version
            position, event = from_envelope(self.app, message.value)
            if isinstance(event, CareRecord.Event):
                record = self.replicas.apply(event)
                changes.append(Change(position, event, record, record.journey.setting,
                                      record.journey.location))
        return changes, changed

    def run_forever(self, stop: threading.Event, timeout: float = 0.5) -> None:
        """Consume until ``stop`` is set; a failed batch is read again after a pause."""
        self.start()
        idle_since = time.monotonic()
        while not stop.is_set():
            try:
                self.poll_once(timeout)
            except (EventGap, EnvelopeError, kafka.errors.KafkaError) as error:
                log.error("worker_error", error_type=type(error).__name__, error=str(error))
                stop.wait(1.0)
            if self.assigned:
                idle_since = time.monotonic()
            elif (self.rejoin_after is not None
                  and time.monotonic() - idle_since > self.rejoin_after):
                log.warning("rejoining_group", idle_seconds=round(self.rejoin_after))
                self._consumer.unsubscribe()
                self._consumer.subscribe([self.topic], listener=_SeekToStored(self))
                idle_since = time.monotonic()

    def close(self) -> None:
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            consumer.close(autocommit=False)

    # --- operations ------------------------------------------------------------------------

    def status(self) -> list[PartitionStatus]:
        """Offsets and lag per partition for this group (works from any process)."""
        probe = kafka.KafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None,
                                    client_id=f"{self.client_id}-status",
                                    enable_auto_commit=False)
        try:
            partitions = sorted(probe.partitions_for_topic(self.topic) or ())
            ends = probe.end_offsets([TopicPartition(self.topic, p) for p in partitions])
        finally:
            probe.close(autocommit=False)
        self._ensure_bookkeeping()
        stored = self._stored_offsets()
        result = []
        for partition in partitions:
            end = int(ends[TopicPartition(self.topic, partition)])
            done = stored.get(partition, 0)
            result.append(PartitionStatus(partition, done, end, max(0, end - done)))
        return result

    def _ensure_bookkeeping(self) -> None:
        with self.store.transaction() as tx:
            for statement in WORKER_DDL:
                tx.execute(ddl(statement, self.store.dialect))


def _message(partition: int, record: Any) -> Message:
    body = read_envelope(record.value)
    return Message(partition, int(record.offset), body["position"], body["patient_id"],
                   body["version"], record.value)
