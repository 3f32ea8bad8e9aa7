"""The parts of a rebuild: replay the whole log into a new generation of a read model's tables
while readers keep the old one, then swap the new one in.

A rebuild's generation tracks its position in ``rm_meta`` as ``<name>#rebuild``. On a large
PostgreSQL log it is filled in shares of the streams by several processes (see
``sonar.readmodels.shares``), each tracking its own position. ``ProjectionRunner`` (in
``runner.py``) runs the parts in order, holding its lock for the swap.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import structlog

from sonar.eventstore.pg_recorder import Share
from sonar.readmodels.base import Projection
from sonar.readmodels.catchup import Progress, Replayer
from sonar.readmodels.generations import create_generation, swap_views
from sonar.readmodels.positions import REBUILD_SUFFIX, Meta, Positions, Work, insert_meta
from sonar.readmodels.shares import ShareFailed, ShareJob, ShareWorkers
from sonar.sqlstore.store import ReadStore, Tx

log = structlog.get_logger("sonar.readmodels")


def start_generations(store: ReadStore, positions: Positions,
                      projections: Sequence[Projection], names: Sequence[str],
                      ) -> tuple[Work, dict[str, int | None], list[str]]:
    """A new, empty generation of each named model, at position 0 under its rebuild name;
    return them, the generations they replace, and their secondary indexes (built once the
    rows are in)."""
    metas = positions.metas()
    work: Work = []
    old: dict[str, int | None] = {}
    indexes: list[str] = []
    for name in names:
        projection = next(p for p in projections if p.name == name)
        current = metas.get(name)
        old[name] = current.generation if current else None
        generation = (current.generation + 1) if current else 1
        shadow = name + REBUILD_SUFFIX
        with store.transaction() as tx:
            indexes += create_generation(tx, store.dialect, projection, generation,
                                         indexes=False)
            tx.execute("DELETE FROM rm_meta WHERE projection = ?", [shadow])
            tx.execute("DELETE FROM rm_failure WHERE projection = ?", [shadow])
            insert_meta(tx, shadow, projection.version, generation, 0)
        work.append((projection, Meta(shadow, projection.version, generation, 0)))
    return work, old, indexes


def without_failed(positions: Positions, work: Work, reached: int) -> tuple[Work, Work]:
    """Split a rebuild's models into those that reached ``reached`` and those that
    stopped at an event they could not apply (each at the position before it)."""
    failed = positions.failures()
    healthy, stopped = [], []
    for p, m in work:
        failure = failed.get(m.projection)
        if failure is None:
            healthy.append((p, Meta(m.projection, m.version, m.generation, reached)))
        else:
            stopped.append((p, Meta(m.projection, m.version, m.generation,
                                    failure.position - 1)))
    return healthy, stopped


def swap_in(tx: Tx, work: Work, old: dict[str, int | None]) -> None:
    """Make each rebuilt generation the model's own: its views, position and failure."""
    for projection, meta in work:
        swap_views(tx, projection, old[projection.name], meta.generation)
        tx.execute("DELETE FROM rm_meta WHERE projection IN (?, ?)",
                   [projection.name, meta.projection])
        insert_meta(tx, projection.name, projection.version, meta.generation, meta.position)
        # The new generation's own state replaces the old one's failure.
        tx.execute("DELETE FROM rm_failure WHERE projection = ?", [projection.name])
        tx.execute("UPDATE rm_failure SET projection = ? WHERE projection = ?",
                   [projection.name, meta.projection])


def replay_in_shares(store: ReadStore, workers: ShareWorkers, work: Work, head: int,
                     batch_size: int, progress: Progress | None) -> None:
    """The log up to ``head`` replayed into the new generations by ``workers``, one
    share of the streams each."""
    jobs = [ShareJob(Share(i, workers.count), head,
                     tuple((p.name, m.generation) for p, m in work), batch_size)
            for i in range(workers.count)]
    names = [job.meta_name(p.name) for job in jobs for p, _ in work]
    forget = f"DELETE FROM rm_meta WHERE projection IN ({', '.join('?' for _ in names)})"
    with store.transaction() as tx:  # each job's own positions, from 0
        tx.execute(forget, names)
        for job in jobs:
            for p, m in work:
                insert_meta(tx, job.meta_name(p.name), p.version, m.generation, 0)
    log.info("rebuild_in_shares", shares=workers.count, head=head,
             models=[p.name for p, _ in work])
    try:
        workers.run(jobs, (lambda reached: progress(reached, head)) if progress else None)
        if progress:
            progress(head, head)  # every share is done: each reached its last event
    finally:
        with store.transaction() as tx:
            tx.execute(forget, names)


def replay_share(replayer: Replayer, projections: Sequence[Projection], job: ShareJob,
                 batch_size: int, report: Callable[[int], None]) -> int:
    """In a share worker: replay the job's share of the log up to its head, tracking its
    own positions; ``report`` gets each position reached."""
    by_name = {p.name: p for p in projections}
    metas = replayer.positions.metas()
    work = [(by_name[name], metas[job.meta_name(name)]) for name, _ in job.models]
    if any(m.generation != generation for (_, m), (_, generation) in zip(work, job.models,
                                                                        strict=True)):
        msg = "the rebuild this share belongs to has been replaced"
        raise ShareFailed(msg)
    return replayer.run(work, job.head, batch_size, lambda reached, _: report(reached),
                        share=job.share)
