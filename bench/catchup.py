"""Scenario 3: projection catch-up into every read model from a large log.

The log is written fast but honestly: care records are built through the domain and saved
through the application (transcoder, hash chain, snapshots), many events per transaction
(``common.build_records_in_bulk``). The rebuild of all read models then runs in a child
process (``python -m bench.catchup --child``) so its peak RSS is its own, with RSS sampled
as it goes to show whether memory stays bounded. Peer in the same run: raw batched INSERT
(1000 rows per transaction) of the same number of rows of the same mean size.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable

from bench.common import (
    Result,
    Sizes,
    current_rss_mb,
    database_url,
    mean_stored_state_bytes,
    peak_rss_mb,
    scratch_schema,
    settings_for,
    sonar_app,
)
from bench.common import build_records_in_bulk as build
from bench.peers import RawWriter, raw_body, raw_setup

EVENTS_PER_PATIENT = 30
# The runner's in-memory records (SONAR_REPLICA_CACHE_SIZE, default 5,000) bound its memory.
# A 60,000-event log of 2,000 patients never reaches the default, so the bound is lowered
# to two waves of patients to show RSS flat once it is reached, as a 1M-event log of
# 34,000 patients reaches the default one.
REPLICA_CACHE = 1000


def _child(url: str, schema: str) -> None:
    """Rebuild every read model in one pass; print figures as JSON on stdout. The rebuild
    is split between SONAR_REBUILD_WORKERS share workers (one per core by default), so
    memory is the RSS of this process and its workers together."""
    from sonar.bootstrap import build_application, build_read_store, build_runner  # noqa: PLC0415
    from sonar.cli.runtime import tune_gc  # noqa: PLC0415

    settings = settings_for(url, schema, pool_size=4).model_copy(
        update={"replica_cache_size": REPLICA_CACHE})
    app = build_application(settings)
    store = build_read_store(settings)
    runner = build_runner(settings, app, store)
    runner.migrate()
    tune_gc()  # as `sonar projections rebuild` does
    head = app.position()
    samples: list[tuple[int, float]] = []
    marks = [head * q // 8 for q in range(1, 9)]

    def progress(reached: int, _head: int) -> None:
        if marks and reached >= marks[0]:
            while marks and reached >= marks[0]:
                marks.pop(0)
            workers = getattr(runner.share_workers, "rss_mb", [])  # each share's latest
            samples.append((reached, round(current_rss_mb() + sum(workers), 1)))

    rss_before = current_rss_mb()
    started = time.perf_counter()
    runner.rebuild_many([p.name for p in runner.projections], progress)
    seconds = time.perf_counter() - started
    workers = runner.share_workers
    peaks = list(getattr(workers, "peak_rss_mb", [])) if workers else []
    store.close()
    app.close()
    print(json.dumps({"events": head, "seconds": seconds, "rss_before_mb": rss_before,
                      "peak_rss_mb": peak_rss_mb() + sum(peaks), "samples": samples,
                      "shares": len(peaks) or 1, "worker_peak_rss_mb": peaks}))


def run(url: str, sizes: Sizes, log: Callable[[str], None]) -> list[Result]:
    patients = max(1, sizes.catchup_events // EVENTS_PER_PATIENT)
    with scratch_schema(url, "catchup") as schema:
        app = sonar_app(url, schema, pool_size=4)
        log(f"catch-up: writing {patients * EVENTS_PER_PATIENT:,} events through the "
            "application in bulk")
        started = time.perf_counter()
        # Waves of 500 patients, so streams interleave in the log. (Larger waves used to
        # hang in psycopg's pipeline mode; SONAR's recorder no longer pipelines: a
        # 5,000-event transaction now takes about a second.)
        build(app, patients, EVENTS_PER_PATIENT, wave=min(patients, 500), per_save=5)
        events = app.position()
        write_rate = events / (time.perf_counter() - started)
        app.close()
        body = mean_stored_state_bytes(url, schema)
        log(f"catch-up: {events:,} events written ({write_rate:,.0f} ev/s); rebuilding "
            "all read models in a child process")
        child = subprocess.run([sys.executable, "-m", "bench.catchup", "--child", schema],
                               env={**os.environ, "SONAR_TEST_DATABASE_URL": url},
                               check=True, capture_output=True, text=True, timeout=3600)
        figures = json.loads(child.stdout.strip().splitlines()[-1])

        log("catch-up: raw batched INSERT peer")
        raw_setup(url, schema)
        writer = RawWriter(url, schema, raw_body(body))
        started = time.perf_counter()
        left = events
        while left > 0:
            writer.insert_batch(min(1000, left))
            left -= 1000
        raw_seconds = time.perf_counter() - started
        writer.close()
    samples = figures["samples"]
    half = next((rss for pos, rss in samples if pos >= events // 2), None)
    end = samples[-1][1] if samples else None
    growth = round((end - half) / half * 100, 1) if half and end else None
    sonar = Result("catch-up", "SONAR (all 5 read models)", figures["events"]
                   / figures["seconds"], "ev/s", count=figures["events"], extra={
                       "peak_rss_mb": round(figures["peak_rss_mb"]),
                       "rss_before_mb": round(figures["rss_before_mb"]),
                       "rss_growth_2nd_half_pct": growth,
                       "rss_samples": samples, "seconds": round(figures["seconds"], 1)},
                   note=f"log {events:,} events, {patients:,} patients, child process "
                        f"split into {figures['shares']} share(s), replica cache "
                        f"{REPLICA_CACHE:,} records each")
    bulk = Result("catch-up", "bulk write through SONAR app", write_rate, "ev/s", count=events,
                  note="how the log was made: many events per transaction")
    raw = Result("catch-up", "raw INSERT batched (1000/tx)", events / raw_seconds, "rows/s",
                 count=events, note=f"{body} B rows, same count")
    return [sonar, raw, bulk]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", metavar="SCHEMA", required=True,
                        help="rebuild the read models of this schema (URL from the env)")
    args = parser.parse_args()
    _child(database_url(), args.child)


if __name__ == "__main__":
    main()
