"""Where each read model stands in the log, and which are held back by an event they could
not apply.

``rm_meta`` holds each model's position per generation, written in the same transaction as
the rows it covers, so after a crash a model resumes from its last committed batch: no
event is applied twice and none is skipped. ``rm_failure`` holds a model that could not
apply an event ("degraded"): it stays at the position before that event until retried.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sonar.readmodels.base import Projection
from sonar.sqlstore.store import ReadStore, Tx, ddl

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


Work = list[tuple[Projection, Meta]]  # models to bring up to date, each at its position


def now() -> datetime:
    return datetime.now(UTC)


class Positions:
    """The read store's ``rm_meta`` and ``rm_failure``, with the failures as last read."""

    def __init__(self, store: ReadStore) -> None:
        self.store = store
        self._failures: tuple[float, dict[str, Failure]] = (-1e9, {})  # (read at, by name)

    def create_tables(self) -> None:
        with self.store.transaction() as tx:
            tx.execute(ddl(META_DDL, self.store.dialect))
            tx.execute(ddl(FAILURE_DDL, self.store.dialect))

    def metas(self) -> dict[str, Meta]:
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

    def forget_failures(self) -> None:
        """Read the failures afresh next time (this process has just changed them)."""
        self._failures = (-1e9, {})

    def healthy_metas(self) -> list[Meta]:
        failed = self.failures(max_age=FAILURES_MAX_AGE)
        return [m for m in self.metas().values() if m.projection not in failed]

    def clear_failures(self, names: Sequence[str]) -> None:
        if names:
            with self.store.transaction() as tx:
                tx.execute(f"DELETE FROM rm_failure WHERE projection IN "
                           f"({', '.join('?' for _ in names)})", list(names))
        self.forget_failures()


def insert_meta(tx: Tx, name: str, version: int, generation: int, position: int) -> None:
    tx.execute("INSERT INTO rm_meta VALUES (?, ?, ?, ?, ?)",
               [name, version, generation, position, now()])


def advance(tx: Tx, work: Sequence[tuple[Projection, Meta]], last: int) -> None:
    """Move every model of ``work`` to position ``last``, in one statement."""
    if work:
        tx.execute("UPDATE rm_meta SET position = ?, updated_at = ? WHERE "
                   + " OR ".join("(projection = ? AND generation = ?)" for _ in work),
                   [last, now(), *(v for _, m in work for v in (m.projection, m.generation))])


def hold_at(tx: Tx, failure: Failure) -> None:
    """Hold a model at the position before the event it could not apply, and record why."""
    tx.execute("UPDATE rm_meta SET position = ?, updated_at = ? "
               "WHERE projection = ? AND generation = ?",
               [failure.position - 1, now(), failure.projection, failure.generation])
    tx.execute("DELETE FROM rm_failure WHERE projection = ?", [failure.projection])
    tx.execute("INSERT INTO rm_failure VALUES (?, ?, ?, ?, ?)",
               [failure.projection, failure.generation, failure.position, failure.error,
                now()])
