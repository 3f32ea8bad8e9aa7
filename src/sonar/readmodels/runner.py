"""Runs projections over the event log: exactly-once, resumable, rebuildable.

The runner is what the API, the CLI and the workers hold: it migrates the read models,
keeps them caught up (in a background thread, or in ``sonar worker``'s loop), lets a
request wait for its own write, reports status and rebuilds. The work is in the modules
beside it: ``positions`` (where each model stands, and which are degraded), ``catchup``
(applying the log batch by batch), ``generations`` (tables behind stable views),
``rebuild`` and ``status``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

import structlog

from sonar.eventstore.application import SonarApplication
from sonar.readmodels import rebuild as rebuilds
from sonar.readmodels.base import Projection
from sonar.readmodels.catchup import Progress, Replayer
from sonar.readmodels.generations import create_first
from sonar.readmodels.positions import FAILURES_MAX_AGE, Failure, Positions
from sonar.readmodels.replicas import DEFAULT_MAXSIZE, RecordReplicas
from sonar.readmodels.shares import ShareJob, ShareWorkers
from sonar.readmodels.status import ProjectionStatus, statuses
from sonar.sqlstore.store import ReadStore

log = structlog.get_logger("sonar.readmodels")

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
        self.positions = Positions(store)
        self.replayer = Replayer(app, store, self.positions, self.replicas)
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._caught_up = threading.Condition()
        self._wake = threading.Event()
        self._applied = 0  # position every model has reached, as this process last saw

    # --- schema ------------------------------------------------------------------------

    def migrate(self, progress: Progress | None = None) -> None:
        """Create missing read models; rebuild any whose schema version changed."""
        self.positions.create_tables()
        metas = self.positions.metas()
        for projection in self.projections:
            meta = metas.get(projection.name)
            if meta is None:
                with self.store.transaction() as tx:
                    create_first(tx, self.store.dialect, projection)
            elif meta.version != projection.version:
                log.info("read_model_schema_changed", projection=projection.name,
                         stored=meta.version, code=projection.version)
                self.rebuild(projection.name, progress)

    def failures(self, max_age: float = 0.0) -> dict[str, Failure]:
        """The degraded read models (and rebuilds), by name (see ``Positions.failures``)."""
        return self.positions.failures(max_age)

    # --- catching up -------------------------------------------------------------------

    def catch_up(self, until: int | None = None) -> int:
        """Apply every stored event not yet applied (up to ``until``); return the position."""
        with self._lock:
            metas = self.positions.metas()
            failed = self.positions.failures(max_age=FAILURES_MAX_AGE)
            live = [(p, metas[p.name]) for p in self.projections
                    if p.name in metas and p.name not in failed]
            reached = self.replayer.run(live, until, self.batch_size)
        with self._caught_up:
            self._applied = max(self._applied, reached)
            self._caught_up.notify_all()
        return reached

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
                metas = self.positions.healthy_metas()
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
        return statuses(self.app, self.positions, self.projections)

    def retry(self, names: Sequence[str] | None = None) -> int:
        """Clear the failures of degraded read models (all if ``names`` is None) and catch
        up: a model that still cannot apply its event is recorded as degraded again."""
        self.positions.clear_failures(list(self.positions.failures()) if names is None
                                      else list(names))
        return self.catch_up()

    def rebuild(self, name: str, progress: Progress | None = None) -> int:
        """Replay the whole log into a new generation, then swap it in atomically."""
        return self.rebuild_many([name], progress)

    def rebuild_many(self, names: Sequence[str], progress: Progress | None = None) -> int:
        """Rebuild several read models in one pass over the log (each swapped atomically):
        the bulk up to the head (in shares when the log is large and the store allows),
        its indexes, then catching up until no new event arrived before the swap."""
        work, old, indexes = rebuilds.start_generations(self.store, self.positions,
                                                        self.projections, names)
        replayer = Replayer(self.app, self.store, self.positions,
                            RecordReplicas(self.app, self.replicas.maxsize))
        head = self.app.position()
        if (self.share_workers is not None and self.share_workers.count > 1
                and self.app.can_share and head >= self.SHARE_FROM):
            rebuilds.replay_in_shares(self.store, self.share_workers, work, head,
                                      self.REBUILD_BATCH, progress)
            reached = head
        else:
            reached = replayer.run(work, head, self.REBUILD_BATCH, progress)
        work, stopped = rebuilds.without_failed(self.positions, work, reached)
        with self.store.transaction() as tx:  # the bulk is in: index it once
            for statement in indexes:
                tx.execute(statement)
        while True:  # catch up, then swap only once no new events arrived meanwhile
            reached = replayer.run(work, None, self.REBUILD_BATCH, progress)
            work, more = rebuilds.without_failed(self.positions, work, reached)
            stopped += more
            with self._lock:
                if work and self.app.position() > reached:
                    continue
                with self.store.transaction() as tx:
                    rebuilds.swap_in(tx, [*work, *stopped], old)
                return reached

    def replay_share(self, job: ShareJob, report: Callable[[int], None]) -> int:
        """In a share worker: replay the job's share of the log up to its head, tracking its
        own positions; ``report`` gets each position reached."""
        return rebuilds.replay_share(self.replayer, self.projections, job, self.batch_size,
                                     report)
