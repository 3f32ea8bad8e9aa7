"""Runs projections over the event log: exactly-once, resumable, rebuildable.

Each projection's position is stored in ``rm_meta`` in the same transaction as its
rows, so after a crash it resumes from the last committed batch: no event is applied
twice and none is skipped. A rebuild fills a new generation of tables while readers keep
using the old one through the ``rm_<table>`` views, then swaps the views in one
transaction.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog

from sonar.app.application import SonarApplication
from sonar.app.pg_recorder import Share, StoredRow
from sonar.domain.care_record import CareRecord
from sonar.projections.base import Change, Projection
from sonar.projections.replicas import DEFAULT_MAXSIZE, RecordReplicas
from sonar.projections.shares import ShareFailed, ShareJob, ShareWorkers
from sonar.projections.store import ReadStore, Tx, ddl

log = structlog.get_logger("sonar.projections")

META_DDL = ("CREATE TABLE IF NOT EXISTS rm_meta (projection TEXT PRIMARY KEY, "
            "version INTEGER NOT NULL, generation INTEGER NOT NULL, "
            "position {bigint} NOT NULL, updated_at {ts} NOT NULL)")


@dataclass(frozen=True)
class Meta:
    projection: str
    version: int
    generation: int
    position: int


@dataclass(frozen=True)
class ProjectionStatus:
    name: str
    version: int
    generation: int
    position: int
    head: int
    lag_events: int
    lag_seconds: float


Progress = Callable[[int, int], None]  # (position reached, head)


class ProjectionRunner:
    """Feeds stored events, in log order, to every projection behind the log's head."""

    SHARE_FROM = 20_000  # events: a smaller rebuild is not worth starting processes for
    # Events per rebuild batch: a patient seen in fewer batches gets fewer upserts of
    # its rows (a batch of 2,000 met a patient of the bench's log six times; 10,000 twice).
    REBUILD_BATCH = 10_000

    def __init__(self, app: SonarApplication, store: ReadStore,
                 projections: Sequence[Projection], *, batch_size: int = 500,
                 external: bool = False, replica_cache_size: int = DEFAULT_MAXSIZE,
                 share_workers: ShareWorkers | None = None) -> None:
        """``external``: another process (``sonar worker``) keeps the read models; this one
        only reads them, and ``wait_for`` watches their positions instead of working.
        ``share_workers``: rebuilds of large logs are split between these processes."""
        self.app, self.store, self.projections = app, store, list(projections)
        self.external = external
        self.batch_size = batch_size
        self.share_workers = share_workers
        self.replicas = RecordReplicas(app, replica_cache_size)
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._caught_up = threading.Condition()
        self._wake = threading.Event()
        self._applied = 0  # position every model has reached, as this process last saw

    # --- schema ------------------------------------------------------------------------

    def migrate(self, progress: Progress | None = None) -> None:
        """Create missing read models; rebuild any whose schema version changed."""
        with self.store.transaction() as tx:
            tx.execute(ddl(META_DDL, self.store.dialect))
        metas = self._metas()
        for projection in self.projections:
            meta = metas.get(projection.name)
            if meta is None:
                with self.store.transaction() as tx:
                    self._create_generation(tx, projection, 1)
                    self._swap_views(tx, projection, None, 1)
                    tx.execute("INSERT INTO rm_meta VALUES (?, ?, ?, ?, ?)",
                               [projection.name, projection.version, 1, 0, _now()])
            elif meta.version != projection.version:
                log.info("read_model_schema_changed", projection=projection.name,
                         stored=meta.version, code=projection.version)
                self.rebuild(projection.name, progress)

    def _create_generation(self, tx: Tx, projection: Projection, generation: int, *,
                           indexes: bool = True) -> list[str]:
        """Create a generation's tables; return its secondary indexes if not ``indexes``
        (a rebuild builds them once its rows are in, rather than row by row)."""
        for table in projection.physical(generation).values():
            tx.execute(f"DROP TABLE IF EXISTS {table}")
        later = []
        for statement in projection.create_sql(self.store.dialect, generation):
            if not indexes and statement.upper().startswith("CREATE INDEX"):
                later.append(statement)
            else:
                tx.execute(statement)
        return later

    def _swap_views(self, tx: Tx, projection: Projection, old: int | None, new: int) -> None:
        for logical, table in projection.physical(new).items():
            tx.execute(f"DROP VIEW IF EXISTS rm_{logical}")
            tx.execute(f"CREATE VIEW rm_{logical} AS SELECT * FROM {table}")
        if old is not None and old != new:
            for table in projection.physical(old).values():
                tx.execute(f"DROP TABLE IF EXISTS {table}")

    def _metas(self) -> dict[str, Meta]:
        rows = self.store.fetchall("SELECT projection, version, generation, position "
                                   "FROM rm_meta")
        return {r["projection"]: Meta(r["projection"], r["version"], r["generation"],
                                      r["position"]) for r in rows}

    # --- catching up -------------------------------------------------------------------

    def catch_up(self, until: int | None = None) -> int:
        """Apply every stored event not yet applied (up to ``until``); return the position."""
        with self._lock:
            metas = self._metas()
            live = [(p, metas[p.name]) for p in self.projections if p.name in metas]
            reached = self._run(live, until)
        with self._caught_up:
            self._applied = max(self._applied, reached)
            self._caught_up.notify_all()
        return reached

    def _run(self, work: list[tuple[Projection, Meta]], until: int | None,
             progress: Progress | None = None, share: Share | None = None) -> int:
        """Apply stored events after each model's position, up to ``until`` (the head),
        a batch per transaction; return the position every model has reached."""
        if not work:
            return 0
        head = self.app.position() if until is None else until
        positions = {p.name: m.position for p, m in work}
        start = min(positions.values()) + 1
        while start <= head:
            rows = self.app.stored_rows(start, self.batch_size, head, share)
            if not rows:
                break
            changes = self._changes(rows)
            last = rows[-1][0]
            first = changes[0].position if changes else last
            with self.store.transaction() as tx:  # one commit per batch for every model
                for projection, meta in work:
                    behind = positions[projection.name]  # usually every model is here
                    relevant = (changes if first > behind
                                else [c for c in changes if c.position > behind])
                    projection.handle(tx, projection.physical(meta.generation), relevant)
                tx.execute("UPDATE rm_meta SET position = ?, updated_at = ? WHERE "  # one trip
                           + " OR ".join("(projection = ? AND generation = ?)" for _ in work),
                           [last, _now(), *(v for _, m in work
                                            for v in (m.projection, m.generation))])
            for projection, _ in work:
                positions[projection.name] = last
            start = last + 1
            if progress:
                progress(last, head)
        return min(positions.values())

    def _changes(self, rows: Sequence[StoredRow]) -> list[Change]:
        decode, apply = self.app.chaining_mapper.decode, self.replicas.apply
        changes = []
        for position, originator_id, version, topic, state in rows:
            event = decode(originator_id, version, topic, state, remember=False)
            if isinstance(event, CareRecord.Event):
                record = apply(event)
                journey = record.journey
                changes.append(Change(position, event, record, journey.setting,
                                      journey.location))
        return changes

    def wait_for(self, position: int, timeout: float = 5.0) -> bool:
        """Block until every projection has applied ``position`` (read-your-writes)."""
        deadline = time.monotonic() + timeout
        waited = False
        while True:
            if self._applied >= position:
                return True
            # The store's positions cover other processes' runners. With a runner in this
            # process, ask only after a wait: it wakes us itself, usually first.
            if self._thread is None or waited:
                metas = self._metas().values()
                if metas and min(m.position for m in metas) >= position:
                    return True
            remaining = deadline - time.monotonic()
            if self.external:  # another process does the work: watch its positions
                if remaining <= 0:
                    return False
                time.sleep(min(remaining, 0.005))
                continue
            if self._thread is None:  # no background runner: do the work ourselves
                self.catch_up()
                continue
            if remaining <= 0:
                return False
            with self._caught_up:  # woken by the runner; re-checks the store every 50 ms
                self._caught_up.wait_for(lambda: self._applied >= position,
                                         min(remaining, 0.05))
            waited = True

    # --- background --------------------------------------------------------------------

    def start(self, interval: float = 0.05) -> None:
        """Run in the background: woken at once by this process's own writes, and polling
        every ``interval`` for writes from other processes."""
        self.app.on_saved.append(self._wake.set)

        def loop() -> None:
            while not self._stop.is_set():
                self._wake.clear()
                try:
                    self.catch_up()
                except Exception as exc:  # keep serving; retried on the next tick
                    log.error("projection_runner_error", error_type=type(exc).__name__)
                    self._stop.wait(1.0)
                self._wake.wait(interval)

        self._thread = threading.Thread(target=loop, name="sonar-projections", daemon=True)
        self._thread.start()

    def run_forever(self, stop: threading.Event, interval: float = 0.5,
                    wake: Callable[[float], object] | None = None) -> None:
        """Keep every read model up to date until ``stop`` (``sonar worker``): catch up, then
        wait for ``wake`` (e.g. the log's NOTIFY) or ``interval``, whichever is first."""
        while not stop.is_set():
            try:
                self.catch_up()
            except Exception as exc:  # the store is away: retried after the interval
                log.error("projection_runner_error", error_type=type(exc).__name__)
                stop.wait(interval)
                continue
            if wake is None:
                stop.wait(interval)
            else:
                wake(interval)

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._wake.set in self.app.on_saved:
            self.app.on_saved.remove(self._wake.set)
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    # --- operations --------------------------------------------------------------------

    def status(self) -> list[ProjectionStatus]:
        head = self.app.position()
        metas = self._metas()
        result = []
        for projection in self.projections:
            meta = metas.get(projection.name)
            if meta is None:
                continue
            lag = 0.0  # age of the oldest event not yet applied
            oldest = _time_of(self.app, meta.position + 1) if meta.position < head else None
            if oldest is not None:
                lag = max(0.0, (_now() - oldest).total_seconds())
            result.append(ProjectionStatus(projection.name, meta.version, meta.generation,
                                           meta.position, head, head - meta.position, lag))
        return result

    def rebuild(self, name: str, progress: Progress | None = None) -> int:
        """Replay the whole log into a new generation, then swap it in atomically."""
        return self.rebuild_many([name], progress)

    def rebuild_many(self, names: Sequence[str], progress: Progress | None = None) -> int:
        """Rebuild several read models in one pass over the log (each swapped atomically)."""
        metas = self._metas()
        work: list[tuple[Projection, Meta]] = []
        old: dict[str, int | None] = {}
        indexes: list[str] = []
        for name in names:
            projection = next(p for p in self.projections if p.name == name)
            current = metas.get(name)
            old[name] = current.generation if current else None
            generation = (current.generation + 1) if current else 1
            shadow = f"{name}#rebuild"
            with self.store.transaction() as tx:
                indexes += self._create_generation(tx, projection, generation, indexes=False)
                tx.execute("DELETE FROM rm_meta WHERE projection = ?", [shadow])
                tx.execute("INSERT INTO rm_meta VALUES (?, ?, ?, ?, ?)",
                           [shadow, projection.version, generation, 0, _now()])
            work.append((projection, Meta(shadow, projection.version, generation, 0)))
        rebuilder = ProjectionRunner(self.app, self.store, [p for p, _ in work],
                                     batch_size=self.REBUILD_BATCH,
                                     replica_cache_size=self.replicas.maxsize)
        head = self.app.position()
        if (self.share_workers is not None and self.share_workers.count > 1
                and self.app.can_share and head >= self.SHARE_FROM):
            self._replay_in_shares(self.share_workers, work, head, progress)
            reached = head
        else:
            reached = rebuilder._run(work, head, progress)
        work = [(p, Meta(m.projection, m.version, m.generation, reached)) for p, m in work]
        with self.store.transaction() as tx:  # the bulk is in: index it once
            for statement in indexes:
                tx.execute(statement)
        while True:  # catch up, then swap only once no new events arrived meanwhile
            reached = rebuilder._run(work, None, progress)
            work = [(p, Meta(m.projection, m.version, m.generation, reached)) for p, m in work]
            with self._lock:
                if self.app.position() > reached:
                    continue
                with self.store.transaction() as tx:
                    for projection, meta in work:
                        self._swap_views(tx, projection, old[projection.name], meta.generation)
                        tx.execute("DELETE FROM rm_meta WHERE projection IN (?, ?)",
                                   [projection.name, meta.projection])
                        tx.execute("INSERT INTO rm_meta VALUES (?, ?, ?, ?, ?)",
                                   [projection.name, projection.version, meta.generation,
                                    reached, _now()])
                return reached

    def _replay_in_shares(self, workers: ShareWorkers, work: list[tuple[Projection, Meta]],
                          head: int, progress: Progress | None) -> None:
        """The log up to ``head`` replayed into the new generations by ``workers``, one
        share of the streams each (see ``sonar.projections.shares``)."""
        jobs = [ShareJob(Share(i, workers.count), head,
                         tuple((p.name, m.generation) for p, m in work), self.REBUILD_BATCH)
                for i in range(workers.count)]
        names = [job.meta_name(p.name) for job in jobs for p, _ in work]
        forget = f"DELETE FROM rm_meta WHERE projection IN ({', '.join('?' for _ in names)})"
        with self.store.transaction() as tx:  # each job's own positions, from 0
            tx.execute(forget, names)
            for job in jobs:
                for p, m in work:
                    tx.execute("INSERT INTO rm_meta VALUES (?, ?, ?, ?, ?)",
                               [job.meta_name(p.name), p.version, m.generation, 0, _now()])
        log.info("rebuild_in_shares", shares=workers.count, head=head,
                 models=[p.name for p, _ in work])
        try:
            workers.run(jobs, (lambda reached: progress(reached, head)) if progress else None)
            if progress:
                progress(head, head)  # every share is done: each reached its last event
        finally:
            with self.store.transaction() as tx:
                tx.execute(forget, names)

    def replay_share(self, job: ShareJob, report: Callable[[int], None]) -> int:
        """In a share worker: replay the job's share of the log up to its head, tracking its
        own positions; ``report`` gets each position reached."""
        by_name = {p.name: p for p in self.projections}
        metas = self._metas()
        work = [(by_name[name], metas[job.meta_name(name)]) for name, _ in job.models]
        if any(m.generation != generation for (_, m), (_, generation) in zip(work, job.models,
                                                                            strict=True)):
            msg = "the rebuild this share belongs to has been replaced"
            raise ShareFailed(msg)
        return self._run(work, job.head, lambda reached, _: report(reached), share=job.share)


def _now() -> datetime:
    return datetime.now(UTC)


def _time_of(app: SonarApplication, position: int) -> datetime | None:
    """Recorded time of the event at a log position (for lag in seconds)."""
    if position < 1:
        return None
    found = app.recorder.select_notifications(start=position, limit=1)
    if not found:
        return None
    event = app.mapper.to_domain_event(found[0])
    timestamp = getattr(event, "timestamp", None)
    return timestamp if isinstance(timestamp, datetime) else None
