"""SONAR's application layer: one use case per clinical action.

Each use case loads the care record, calls one domain method with an attribution built
from the caller's context and the injected clock, and saves the new events together
with any idempotency receipt or NHS-number index in one transaction. Optimistic
concurrency conflicts are retried on a freshly loaded record; a refused command raises
before anything is saved, so it writes nothing.
"""

from __future__ import annotations

import copy
import hashlib
import random
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, ClassVar
from uuid import UUID

import structlog
from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Aggregate, Snapshot
from eventsourcing.persistence import EventStore, IntegrityError, Mapper, Recording, Transcoder

from sonar.commands.context import CommandContext, CommandResult
from sonar.domain import VALUE_TYPES, Attribution, CareRecord
from sonar.domain.identity import Demographics, Identity, NhsNumber, PncId, PrisonNumber
from sonar.domain.pathway import (
    BriefIntervention,
    CarePlan,
    Discharge,
    DualDiagnosis,
    ReceptionScreen,
    Referral,
    ReferralOutcome,
    Review,
    RiskAssessment,
)
from sonar.domain.top import Top
from sonar.eventstore.errors import (
    ConcurrencyConflict,
    DuplicatePatient,
    IdempotencyKeyReused,
    PatientNotFound,
)
from sonar.eventstore.group_commit import GroupCommit
from sonar.eventstore.integrity import ChainingMapper, Heads, split_chain
from sonar.eventstore.pg_recorder import Share, SonarPostgresRecorder, StoredRow
from sonar.eventstore.receipts import CommandReceipt, NhsNumberIndex
from sonar.eventstore.record_cache import RecordCache
from sonar.eventstore.snapshot_codec import SnapshotTranscoder
from sonar.eventstore.topics import register_moved_topics
from sonar.eventstore.transcoder import ValueTranscoder

_log = structlog.get_logger(__name__)
Clock = Callable[[], datetime]
Step = Callable[[CareRecord, Attribution], int | None]
Build = Callable[[Attribution], tuple[CareRecord, int | None]]


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
    max_attempts = 6

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

    def _checkout(self, patient_id: UUID) -> CareRecord:
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

    # --- the command pipeline ------------------------------------------------------------

    def _attribution(self, ctx: CommandContext, now: datetime) -> Attribution:
        return Attribution(actor=ctx.actor, purpose_of_use=ctx.purpose_of_use,
                           source=ctx.source, correlation_id=ctx.correlation_id,
                           occurred_at=ctx.occurred_at or now, recorded_at=now)

    def _fingerprint(self, ctx: CommandContext, command: str, args: Iterable[Any]) -> str:
        """What makes two requests "the same" for an Idempotency-Key."""
        when = ctx.occurred_at.astimezone(UTC).isoformat() if ctx.occurred_at else None
        body = self.mapper.transcoder.encode([command, ctx.purpose_of_use, when, *args])
        return hashlib.sha256(body).hexdigest()

    def _replay(self, ctx: CommandContext, fingerprint: str) -> CommandResult | None:
        """The earlier result of this idempotency key, if the command was already applied."""
        if ctx.idempotency_key is None:
            return None
        try:
            receipt: Aggregate = self.repository.get(
                CommandReceipt.id_for(ctx.actor.actor_id, ctx.idempotency_key))
        except AggregateNotFoundError:
            return None
        if not isinstance(receipt, CommandReceipt) or receipt.fingerprint != fingerprint:
            raise IdempotencyKeyReused(
                "This Idempotency-Key was already used for a different request; "
                "use a new key for a new request.")
        return CommandResult(receipt.patient_id, self.position(), replayed=True,
                             episode=receipt.episode)

    def execute(self, ctx: CommandContext, command: str, args: Iterable[Any], build: Build,
                 *, index_nhs: bool = False) -> CommandResult:
        """Run a command: replay its receipt, or build new events and save them atomically.

        Public so use cases that live beside their adapters (e.g. GP record import) share
        the one pipeline: idempotency, attribution, uniqueness and concurrency retries.
        """
        keyed = ctx.idempotency_key is not None
        fingerprint = self._fingerprint(ctx, command, args) if keyed else ""
        for attempt in range(self.max_attempts):
            replayed = self._replay(ctx, fingerprint)
            if replayed is not None:
                return replayed
            now = self.clock()
            record, episode = build(self._attribution(ctx, now))
            others: list[Aggregate] = self._index_nhs(record, now) if index_nhs else []
            if ctx.idempotency_key is not None:
                others.append(CommandReceipt.issue(ctx.actor.actor_id, ctx.idempotency_key,
                                                   command, fingerprint, record.id, episode,
                                                   now))
            try:
                recordings = self.group_commit.save(record, *others)
            except IntegrityError:
                self.record_cache.evict(record.id)  # stale, or another writer won the race
                self._raise_if_duplicate_nhs(record)
                time.sleep(random.uniform(0.002, 0.02) * (attempt + 1))  # noqa: S311 - jitter
                continue
            self.record_cache.put(record)
            return CommandResult(record.id, recordings[-1].notification.id, episode=episode)
        raise ConcurrencyConflict(
            "The record kept changing while this was saved; reload it and try again.")

    def _raise_if_duplicate_nhs(self, record: CareRecord) -> None:
        nhs = record.identity.nhs_number
        if nhs is not None:
            owner = self.find_by_nhs_number(nhs)
            if owner is not None and owner != record.id:
                raise DuplicatePatient(owner)

    def _index_nhs(self, record: CareRecord, now: datetime) -> list[Aggregate]:
        nhs = record.identity.nhs_number
        return [NhsNumberIndex.index(nhs.value, record.id, now)] if nhs else []

    def on(self, patient_id: UUID, step: Step) -> Build:
        """Build step for a command on an existing record."""
        def build(at: Attribution) -> tuple[CareRecord, int | None]:
            record = self._checkout(patient_id)
            try:
                return record, step(record, at)
            except BaseException:
                self.record_cache.put(record)  # kept only if refused before any change
                raise
        return build

    # --- identity and journey ---------------------------------------------------------

    def register_patient(self, ctx: CommandContext, identity: Identity,
                         demographics: Demographics) -> CommandResult:
        def build(at: Attribution) -> tuple[CareRecord, int | None]:
            # Checked after any idempotent replay, so a retried registration is not a duplicate.
            if identity.nhs_number is not None:
                owner = self.find_by_nhs_number(identity.nhs_number)
                if owner is not None:
                    raise DuplicatePatient(owner)
            return CareRecord.register(identity, demographics, at), None

        return self.execute(ctx, "register_patient", (identity, demographics), build,
                             index_nhs=True)

    def trace_nhs_number(self, ctx: CommandContext, patient_id: UUID,
                         nhs_number: NhsNumber) -> CommandResult:
        def step(record: CareRecord, at: Attribution) -> None:
            owner = self.find_by_nhs_number(nhs_number)
            if owner is not None and owner != patient_id:
                raise DuplicatePatient(owner)
            record.trace_nhs_number(nhs_number, at)

        return self.execute(ctx, "trace_nhs_number", (patient_id, nhs_number),
                             self.on(patient_id, step), index_nhs=True)

    def detain_in_police_custody(self, ctx: CommandContext, patient_id: UUID,
                                 custody_suite: str, pnc_id: PncId | None) -> CommandResult:
        return self.execute(ctx, "detain_in_police_custody", (patient_id, custody_suite, pnc_id),
                             self.on(patient_id, lambda r, at: r.detain_in_police_custody(
                                 custody_suite, pnc_id, at)))

    def release_from_police_custody(self, ctx: CommandContext, patient_id: UUID,
                                    outcome: str) -> CommandResult:
        return self.execute(ctx, "release_from_police_custody", (patient_id, outcome),
                             self.on(patient_id, lambda r, at: r.release_from_police_custody(
                                 outcome, at)))

    def receive_into_prison(self, ctx: CommandContext, patient_id: UUID, establishment: str,
                            prison_number: PrisonNumber | None) -> CommandResult:
        return self.execute(ctx, "receive_into_prison", (patient_id, establishment,
                                                          prison_number),
                             self.on(patient_id, lambda r, at: r.receive_into_prison(
                                 establishment, prison_number, at)))

    def transfer(self, ctx: CommandContext, patient_id: UUID,
                 to_establishment: str) -> CommandResult:
        return self.execute(ctx, "transfer", (patient_id, to_establishment), self.on(
            patient_id, lambda r, at: r.transfer(to_establishment, at)))

    def release_from_prison(self, ctx: CommandContext, patient_id: UUID, release_type: str,
                            destination_area: str | None) -> CommandResult:
        return self.execute(ctx, "release_from_prison", (patient_id, release_type,
                                                          destination_area),
                             self.on(patient_id, lambda r, at: r.release_from_prison(
                                 release_type, destination_area, at)))

    def recall_to_prison(self, ctx: CommandContext, patient_id: UUID, recall_type: str,
                         establishment: str) -> CommandResult:
        return self.execute(ctx, "recall_to_prison", (patient_id, recall_type, establishment),
                             self.on(patient_id, lambda r, at: r.recall_to_prison(
                                 recall_type, establishment, at)))

    # --- SMS pathway --------------------------------------------------------------------

    def record_reception_screen(self, ctx: CommandContext, patient_id: UUID,
                                screen: ReceptionScreen) -> CommandResult:
        return self.execute(ctx, "record_reception_screen", (patient_id, screen), self.on(
            patient_id, lambda r, at: r.record_reception_screen(screen, at)))

    def refer_to_sms(self, ctx: CommandContext, patient_id: UUID,
                     referral: Referral) -> CommandResult:
        return self.execute(ctx, "refer_to_sms", (patient_id, referral), self.on(
            patient_id, lambda r, at: r.refer_to_sms(referral, at)))

    def record_referral_outcome(self, ctx: CommandContext, patient_id: UUID, episode: int,
                                outcome: ReferralOutcome) -> CommandResult:
        return self._episode_step(ctx, "record_referral_outcome", patient_id, episode, outcome,
                                  lambda r, at: r.record_referral_outcome(episode, outcome, at))

    def assess_dual_diagnosis(self, ctx: CommandContext, patient_id: UUID, episode: int,
                              assessment: DualDiagnosis) -> CommandResult:
        return self._episode_step(ctx, "assess_dual_diagnosis", patient_id, episode, assessment,
                                  lambda r, at: r.assess_dual_diagnosis(episode, assessment, at))

    def assess_risk(self, ctx: CommandContext, patient_id: UUID, episode: int,
                    assessment: RiskAssessment) -> CommandResult:
        return self._episode_step(ctx, "assess_risk", patient_id, episode, assessment,
                                  lambda r, at: r.assess_risk(episode, assessment, at))

    def assign_caseload(self, ctx: CommandContext, patient_id: UUID, episode: int,
                        worker_id: str, site: str) -> CommandResult:
        return self._episode_step(ctx, "assign_caseload", patient_id, episode, (worker_id, site),
                                  lambda r, at: r.assign_caseload(episode, worker_id, site, at))

    def record_brief_intervention(self, ctx: CommandContext, patient_id: UUID, episode: int,
                                  intervention: BriefIntervention) -> CommandResult:
        return self._episode_step(ctx, "record_brief_intervention", patient_id, episode,
                                  intervention, lambda r, at: r.record_brief_intervention(
                                      episode, intervention, at))

    def record_top(self, ctx: CommandContext, patient_id: UUID, episode: int,
                   top: Top) -> CommandResult:
        return self._episode_step(ctx, "record_top", patient_id, episode, top,
                                  lambda r, at: r.record_top(episode, top, at))

    def record_review(self, ctx: CommandContext, patient_id: UUID, episode: int,
                      review: Review) -> CommandResult:
        return self._episode_step(ctx, "record_review", patient_id, episode, review,
                                  lambda r, at: r.record_review(episode, review, at))

    def revise_care_plan(self, ctx: CommandContext, patient_id: UUID, episode: int,
                         plan: CarePlan) -> CommandResult:
        return self._episode_step(ctx, "revise_care_plan", patient_id, episode, plan,
                                  lambda r, at: r.revise_care_plan(episode, plan, at))

    def discharge(self, ctx: CommandContext, patient_id: UUID, episode: int,
                  discharge: Discharge) -> CommandResult:
        return self._episode_step(ctx, "discharge", patient_id, episode, discharge,
                                  lambda r, at: r.discharge(episode, discharge, at))

    def mark_entered_in_error(self, ctx: CommandContext, patient_id: UUID, entry_version: int,
                              reason: str) -> CommandResult:
        return self.execute(ctx, "mark_entered_in_error", (patient_id, entry_version, reason),
                             self.on(patient_id, lambda r, at: r.mark_entered_in_error(
                                 entry_version, reason, at)))

    def _episode_step(self, ctx: CommandContext, command: str, patient_id: UUID, episode: int,
                      payload: Any, step: Callable[[CareRecord, Attribution], object],
                      ) -> CommandResult:
        def run(record: CareRecord, at: Attribution) -> int:
            step(record, at)
            return episode
        return self.execute(ctx, command, (patient_id, episode, payload),
                             self.on(patient_id, run))
