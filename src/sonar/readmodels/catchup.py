"""Applying the log to read models: stored events in log order, a batch per transaction
for every model at once, each model's position moving with its rows.

A model that cannot apply an event does not hold the others back: the batch is applied
again model by model, the failing model keeps every event before the one it cannot apply
and is recorded as degraded at that event (``positions.hold_at``), and the others go on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import structlog

from sonar.domain.care_record import CareRecord
from sonar.eventstore.application import SonarApplication
from sonar.eventstore.pg_recorder import Share, StoredRow
from sonar.readmodels.base import Change, Projection, Tables
from sonar.readmodels.positions import (
    REBUILD_SUFFIX,
    Failure,
    Positions,
    Work,
    advance,
    hold_at,
)
from sonar.readmodels.replicas import RecordReplicas
from sonar.sqlstore.store import ReadStore, Tx

log = structlog.get_logger("sonar.readmodels")

Progress = Callable[[int, int], None]  # (position reached, head)


class Replayer:
    """Feeds stored events, with each patient's record just after each, to read models."""

    def __init__(self, app: SonarApplication, store: ReadStore, positions: Positions,
                 replicas: RecordReplicas) -> None:
        self.app, self.store, self.positions, self.replicas = app, store, positions, replicas

    def run(self, work: Work, until: int | None, batch_size: int,
            progress: Progress | None = None, share: Share | None = None) -> int:
        """Apply stored events after each model's position, up to ``until`` (the head),
        a batch per transaction; return the position every healthy model has reached.

        A model that cannot apply an event is recorded as degraded at that event and left
        out from then on, so the others keep up. In a share worker (``share``) any failure
        fails the share instead."""
        if not work:
            return 0
        head = self.app.position() if until is None else until
        work = list(work)
        positions = {p.name: m.position for p, m in work}
        start = min(positions.values()) + 1
        while start <= head and work:
            rows = self.app.stored_rows(start, batch_size, head, share)
            if not rows:
                break
            last = rows[-1][0]
            try:
                changes = self.changes(rows)
                first = changes[0].position if changes else last
                with self.store.transaction() as tx:  # one commit per batch for every model
                    for projection, meta in work:
                        behind = positions[projection.name]  # usually every model is here
                        relevant = (changes if first > behind
                                    else [c for c in changes if c.position > behind])
                        projection.handle(tx, projection.physical(meta.generation), relevant)
                    advance(tx, work, last)
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

    def _apply_carefully(self, work: Work, positions: dict[str, int],
                         rows: Sequence[StoredRow], last: int) -> set[str]:
        """Apply a batch that failed as a whole, each model on its own, to find the event a
        model cannot apply; return the models that failed.

        Such a model keeps every event before the failing one, stays at the position just
        before it, and is recorded in ``rm_failure`` (model, event position, error) until
        retried; an event that cannot even be folded into its record fails every model.
        A store that fails here (not one model on one event) raises: the batch is retried
        whole later."""
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
                hold_at(tx, failure)
            advance(tx, done, last)
        self.positions.forget_failures()
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
                changes += self.changes([row])
            except Exception as exc:
                return changes, (row[0], exc)
        return changes, None

    def changes(self, rows: Sequence[StoredRow]) -> list[Change]:
        """The care-record changes of stored rows, each with the record just after it."""
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
