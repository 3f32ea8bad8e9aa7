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

from sonar.domain.care_record import CareRecord
from sonar.eventstore.application import SonarApplication
from sonar.eventstore.pg_recorder import Share, StoredRow
from sonar.readmodels.base import Change, Projection, Tables
from sonar.readmodels.replicas import DEFAULT_MAXSIZE, RecordReplicas
from sonar.readmodels.shares import ShareFailed, ShareJob, ShareWorkers
from sonar.sqlstore.store import ReadStore, Tx, ddl

log = structlog.get_logger("sonar.readmodels")

META_DDL = ("CREATE TABLE IF NOT EXISTS rm_meta (projection TEXT PRIMARY KEY, "
            "version INTEGER NOT NULL, generation INTEGER NOT NULL, "
            "position {bigint} NOT NULL, updated_at {ts} NOT NULL)")
# A model that could not apply an event: which, at which position, why; kept until retried.
FAILURE_DDL = ("CREATE TABLE IF NOT EXISTS rm_failure (projection TEXT PRIMARY KEY, "
               "generation INTEGER NOT NULL, position {bigint} NOT NULL, error TEXT NOT NULL, "
               "failed_at {ts} NOT NULL)")
FAILURES_MAX_AGE = 1.0  # seconds a serving process trusts its last read of rm_failure
REBUILD_SUFFIX = "#rebuild"  # rm_meta's name for the generation a rebuild is filling


@dataclass(frozen=True)
class Meta:
    projection: str
    version: int
    generation: int
    position: int


@dataclass(frozen=True)
class Failure:
    """A read model that stopped at an event it could not apply (it is "degraded")."""

    projection: str
    generation: int
    position: int  # the event it could not apply; the model holds every event before it
    error: str  # the exception's type and message (no patient data: values are not quoted)


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
        self._failures: tuple[float, dict[str, Failure]] = (-1e9, {})  # (read at, by name)

    # --- schema ------------------------------------------------------------------------

    def migrate(self, progress: Progress | None = None) -> None:
        """Create missing read models; rebuild any whose schema version changed."""
        with self.store.transaction() as tx:
            tx.execute(ddl(META_DDL, self.store.dialect))
            tx.execute(ddl(FAILURE_DDL, self.store.dialect))
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

    def failures(self, max_age: float = 0.0) -> dict[str, Failure]:
        """The degraded read models (and rebuilds), by name; as read from the store at most
        ``max_age`` seconds ago (another process may record or retry one meanwhile)."""
        read_at, known = self._failures
        if max_age <= 0 or time.monotonic() - read_at > max_age:
            rows = self.store.fetchall("SELECT projection, generation, position, error "
                                       "FROM rm_failure")
            known = {r["projection"]: Failure(r["projection"], r["generation"], r["position"],
                                              r["error"]) for r in rows}
            self._failures = (time.monotonic(), known)
        return known

    def _healthy_metas(self) -> list[Meta]:
        failed = self.failures(max_age=FAILURES_MAX_AGE)
        return [m for m in self._metas().values() if m.projection not in failed]

    # --- catching up -------------------------------------------------------------------

    def catch_up(self, until: int | None = None) -> int:
        """Apply every stored event not yet applied (up to ``until``); return the position."""
        with self._lock:
            metas, failed = self._metas(), self.failures(max_age=FAILURES_MAX_AGE)
            live = [(p, metas[p.name]) for p in self.projections
                    if p.name in metas and p.name not in failed]
            reached = self._run(live, until)
        with self._caught_up:
            self._applied = max(self._applied, reached)
            self._caught_up.notify_all()
        return reached

    def _run(self, work: list[tuple[Projection, Meta]], until: int | None,
             progress: Progress | None = None, share: Share | None = None) -> int:
        """Apply stored events after each model's position, up to ``until`` (the head),
        a batch per transaction; return the position every healthy model has reached.

        A model that cannot apply an event is recorded as degraded at that event (see
        ``_apply_carefully``) and left out from then on, so the others keep up. In a share
        worker (``share``) any failure fails the share instead."""
        if not work:
            return 0
        head = self.app.position() if until is None else until
        work = list(work)
        positions = {p.name: m.position for p, m in work}
        start = min(positions.values()) + 1
        while start <= head and work:
            rows = self.app.stored_rows(start, self.batch_size, head, share)
            if not rows:
                break
            last = rows[-1][0]
            try:
                changes = self._changes(rows)
                first = changes[0].position if changes else last
                with self.store.transaction() as tx:  # one commit per batch for every model
                    for projection, meta in work:
                        behind = positions[projection.name]  # usually every model is here
                        relevant = (changes if first > behind
                                    else [c for c in changes if c.position > behind])
                        projection.handle(tx, projection.physical(meta.generation), relevant)
                    _advance(tx, work, last)
            except Exception:
                if share is not None:
                    raise
                failed = self._apply_carefully(work, positions, rows, last)
                work = [(p, m) for p, m in work if p.name not in failed]
            for projection, _ in work:
                positions[projection.name] = last
            start = last + 1
            if progress:
                progress(last, head)
        return min((positions[p.name] for p, _ in work), default=head)

    def _apply_carefully(self, work: list[tuple[Projection, Meta]], positions: dict[str, int],
                         rows: Sequence[StoredRow], last: int) -> set[str]:
        """Apply a batch that failed as a whole, each model on its own, to find the event a
        model cannot apply; return the models that failed.

        Such a model keeps every event before the failing one, stays at the position just
        before it, and is recorded in ``rm_failure`` (model, event position, error) until
        ``retry``; an event that cannot even be folded into its record fails every model.
        A store that fails here (not one model on one event) raises, as before: the batch
        is retried whole later."""
        changes, unreadable = self._changes_until_unreadable(rows)
        failures: list[Failure] = []
        with self.store.transaction() as tx:
            done = []
            for projection, meta in work:
                relevant = [c for c in changes if c.position > positions[projection.name]]
                failed = _isolate(tx, projection, projection.physical(meta.generation),
                                  relevant) or unreadable
                if failed is None:
                    done.append((projection, meta))
                    continue
                at, error = failed
                failure = Failure(meta.projection, meta.generation, at, _describe(error))
                failures.append(failure)
                tx.execute("UPDATE rm_meta SET position = ?, updated_at = ? "
                           "WHERE projection = ? AND generation = ?",
                           [at - 1, _now(), meta.projection, meta.generation])
                tx.execute("DELETE FROM rm_failure WHERE projection = ?", [meta.projection])
                tx.execute("INSERT INTO rm_failure VALUES (?, ?, ?, ?, ?)",
                           [failure.projection, failure.generation, failure.position,
                            failure.error, _now()])
            _advance(tx, done, last)
        self._failures = (-1e9, {})  # read afresh next time
        for failure in failures:  # the operator's alert: ids and the error's type only
            log.error("read_model_degraded", alert="read_model_degraded",
                      projection=failure.projection, position=failure.position,
                      error_type=failure.error.split(":", 1)[0])
        return {f.projection.removesuffix(REBUILD_SUFFIX) for f in failures}

    def _changes_until_unreadable(self, rows: Sequence[StoredRow],
                                  ) -> tuple[list[Change], tuple[int, Exception] | None]:
        """The changes of ``rows`` up to the first that cannot be decoded or folded."""
        changes: list[Change] = []
        for row in rows:
            try:
                changes += self._changes([row])
            except Exception as exc:
                return changes, (row[0], exc)
        return changes, None

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
                metas = self._healthy_metas()
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
        metas, failed = self._metas(), self.failures()
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
                                           meta.position, head, head - meta.position, lag,
                                           failed.get(projection.name)))
        return result

    def retry(self, names: Sequence[str] | None = None) -> int:
        """Clear the failures of degraded read models (all if ``names`` is None) and catch
        up: a model that still cannot apply its event is recorded as degraded again."""
        chosen = list(self.failures()) if names is None else list(names)
        if chosen:
            with self.store.transaction() as tx:
                tx.execute(f"DELETE FROM rm_failure WHERE projection IN "
                           f"({', '.join('?' for _ in chosen)})", chosen)
        self._failures = (-1e9, {})
        return self.catch_up()

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
            shadow = name + REBUILD_SUFFIX
            with self.store.transaction() as tx:
                indexes += self._create_generation(tx, projection, generation, indexes=False)
                tx.execute("DELETE FROM rm_meta WHERE projection = ?", [shadow])
                tx.execute("DELETE FROM rm_failure WHERE projection = ?", [shadow])
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
        work, stopped = self._without_failed(work, reached)
        with self.store.transaction() as tx:  # the bulk is in: index it once
            for statement in indexes:
                tx.execute(statement)
        while True:  # catch up, then swap only once no new events arrived meanwhile
            reached = rebuilder._run(work, None, progress)
            work, more = self._without_failed(work, reached)
            stopped += more
            with self._lock:
                if work and self.app.position() > reached:
                    continue
                with self.store.transaction() as tx:
                    for projection, meta in [*work, *stopped]:
                        self._swap_views(tx, projection, old[projection.name], meta.generation)
                        tx.execute("DELETE FROM rm_meta WHERE projection IN (?, ?)",
                                   [projection.name, meta.projection])
                        tx.execute("INSERT INTO rm_meta VALUES (?, ?, ?, ?, ?)",
                                   [projection.name, projection.version, meta.generation,
                                    meta.position, _now()])
                        # The new generation's own state replaces the old one's failure.
                        tx.execute("DELETE FROM rm_failure WHERE projection = ?",
                                   [projection.name])
                        tx.execute("UPDATE rm_failure SET projection = ? WHERE projection = ?",
                                   [projection.name, meta.projection])
                return reached

    def _without_failed(self, work: list[tuple[Projection, Meta]], reached: int,
                        ) -> tuple[list[tuple[Projection, Meta]], list[tuple[Projection, Meta]]]:
        """Split a rebuild's models into those that reached ``reached`` and those that
        stopped at an event they could not apply (each at the position before it)."""
        failed = self.failures()
        healthy, stopped = [], []
        for p, m in work:
            failure = failed.get(m.projection)
            if failure is None:
                healthy.append((p, Meta(m.projection, m.version, m.generation, reached)))
            else:
                stopped.append((p, Meta(m.projection, m.version, m.generation,
                                        failure.position - 1)))
        return healthy, stopped

    def _replay_in_shares(self, workers: ShareWorkers, work: list[tuple[Projection, Meta]],
                          head: int, progress: Progress | None) -> None:
        """The log up to ``head`` replayed into the new generations by ``workers``, one
        share of the streams each (see ``sonar.readmodels.shares``)."""
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


def _advance(tx: Tx, work: Sequence[tuple[Projection, Meta]], last: int) -> None:
    """Move every model of ``work`` to position ``last``, in one statement."""
    if work:
        tx.execute("UPDATE rm_meta SET position = ?, updated_at = ? WHERE "
                   + " OR ".join("(projection = ? AND generation = ?)" for _ in work),
                   [last, _now(), *(v for _, m in work for v in (m.projection, m.generation))])


def _isolate(tx: Tx, projection: Projection, tables: Tables, changes: Sequence[Change],
             ) -> tuple[int, Exception] | None:
    """Apply ``changes`` to one model inside a savepoint; if that fails, apply them one by
    one, keeping those before the first that fails twice: return its position and error."""
    if _attempt(tx, projection, tables, changes) is None:
        return None
    for change in changes:
        error = _attempt(tx, projection, tables, [change])
        if error is not None and _attempt(tx, projection, tables, [change]) is not None:
            return change.position, error
    return None


def _attempt(tx: Tx, projection: Projection, tables: Tables,
             changes: Sequence[Change]) -> Exception | None:
    """Apply ``changes`` in a savepoint; undo them and return the error if that raises. A
    store that cannot roll back to the savepoint raises: that is not one model's failure."""
    tx.execute("SAVEPOINT rm_apply")
    try:
        projection.handle(tx, tables, changes)
    except Exception as exc:
        tx.execute("ROLLBACK TO SAVEPOINT rm_apply")
        tx.execute("RELEASE SAVEPOINT rm_apply")
        return exc
    tx.execute("RELEASE SAVEPOINT rm_apply")
    return None


def _describe(error: Exception) -> str:
    """The error's type and the start of its message, for ``rm_failure``."""
    return f"{type(error).__name__}: {str(error)[:200]}"


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
