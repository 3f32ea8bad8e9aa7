"""Scenario 5: loading a 1,000-event record, and an ``as_of`` replay.

SONAR's record is written through the application (saves of 10 events each, so snapshots
land every 50 events as in production); ``app.get_record`` then loads from the latest
snapshot. Beside it in the same run: the naive eventsourcing application's 1,000-event
aggregate (no snapshots, so every load replays every event), and SONAR's own record
folded from its first event (what SONAR would cost without snapshots). ``record_as_of``
is measured at mid-history.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from uuid import UUID

from bench.common import (
    Result,
    Sizes,
    actor,
    build_records_in_bulk,
    p50,
    percentile,
    scratch_schema,
    sonar_app,
)
from bench.peers import Patient, naive_app
from sonar.domain.care_record import CareRecord
from sonar.eventstore.application import SonarApplication


def _timed(fn: Callable[[], object], repeats: int) -> list[float]:
    fn()  # warm up (imports, pool connection)
    out = []
    for _ in range(repeats):
        began = time.perf_counter()
        fn()
        out.append((time.perf_counter() - began) * 1000)
    return out


def run(url: str, sizes: Sizes, log: Callable[[str], None]) -> list[Result]:
    n, repeats = sizes.replay_events, sizes.replay_repeats
    results: list[Result] = []
    with scratch_schema(url, "replay") as schema:
        app = sonar_app(url, schema, pool_size=4)
        log(f"replay: one SONAR record of {n} events")
        build_records_in_bulk(app, 1, n, wave=1, per_save=10)
        pid = UUID(str(app.recorder.select_notifications(start=1, limit=1)[0].originator_id))
        record = app.get_record(pid)
        snapshots = len(app.snapshots.recorder.select_events(pid)) if app.snapshots else 0
        def cold() -> CareRecord:
            app.record_cache.evict(pid)  # load from the log: latest snapshot + later events
            return app.get_record(pid)

        latencies = _timed(cold, repeats)
        results.append(Result("replay 1000", "SONAR get_record (snapshots)", None, "-",
                              p50(latencies), percentile(latencies, 0.99), repeats,
                              {"events": record.version, "snapshots": snapshots},
                              note="cold: record cache emptied before each load"))
        app.get_record(pid)
        warm = _timed(lambda: app.get_record(pid), repeats)
        results.append(Result("replay 1000", "SONAR get_record (record cache)", None, "-",
                              p50(warm), percentile(warm, 0.99), repeats,
                              {"events": record.version},
                              note="warm: cached copy after asking the log for newer events"))
        no_snap = _timed(lambda: _replay_without_snapshots(app, pid), max(5, repeats // 4))
        results.append(Result("replay 1000", "SONAR, snapshots ignored", None, "-",
                              p50(no_snap), percentile(no_snap, 0.99), len(no_snap),
                              {"events": record.version},
                              note="every event decoded and applied"))
        events = list(app.events.get(pid))
        mid = getattr(events[len(events) // 2], "timestamp", datetime.now(UTC))
        as_of = _timed(lambda: app.record_as_of(pid, mid + timedelta(microseconds=1)),
                       max(5, repeats // 2))
        results.append(Result("replay as_of", "SONAR record_as_of (mid-history)", None, "-",
                              p50(as_of), percentile(as_of, 0.99), len(as_of),
                              {"events": record.version}))
        app.close()
    with scratch_schema(url, "replay_naive") as schema:
        naive = naive_app(url, schema, pool_size=4)
        patient = Patient("Bench", "Replay", "1980-01-01")
        while patient.version < n:
            for _ in range(min(100, n - patient.version)):
                patient.assess("risk", {"level": "low", "risks": ["overdose"]}, actor().actor_id,
                               "2024-01-01T00:00:00+00:00")
            naive.save(patient)
        loads = _timed(lambda: naive.repository.get(patient.id), repeats)
        results.append(Result("replay 1000", "naive eventsourcing (no snapshots)", None, "-",
                              p50(loads), percentile(loads, 0.99), repeats,
                              {"events": patient.version}))
        naive.close()
    return results


def _replay_without_snapshots(app: SonarApplication, pid: UUID) -> CareRecord | None:
    """Every stored event folded from nothing, as a store without snapshots would do."""
    record = None
    for event in app.events.get(pid):
        record = event.mutate(record)  # type: ignore[attr-defined]
    return record if isinstance(record, CareRecord) else None
