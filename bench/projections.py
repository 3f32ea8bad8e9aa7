"""Read-model figures on real PostgreSQL: catch-up rate and commit-to-visible lag.

    python -m bench.projections [--patients 400] [--lag-commands 300] [--rate 50]

Catch-up is measured by rebuilding every read model from the log, beside a peer in the
same run: raw batched INSERTs of one row per event into a scratch table (the physical
limit of writing that many rows). Lag is from a command's acknowledgement to the moment
every read model includes its log position, with the in-process runner polling at its
default interval, under a steady, bounded command rate. Loopback only; stops by itself.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import time
import uuid
from datetime import date

import psycopg

from sonar.bootstrap import build_application, build_read_store, build_runner
from sonar.cli.demo import seed_cohort
from sonar.commands.context import CommandContext
from sonar.commands.journey import ReceiveIntoPrison
from sonar.commands.pathway import AssessRisk, ReferToSms
from sonar.commands.pipeline import CommandBus
from sonar.commands.record import RegisterPatient
from sonar.config import Settings
from sonar.domain import Actor


def _database_url() -> str:
    url = os.environ.get("SONAR_TEST_DATABASE_URL")
    if url:
        return url
    return subprocess.run(["scripts/pg-up"], check=True, capture_output=True,
                          text=True).stdout.strip()


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=400)
    parser.add_argument("--lag-commands", type=int, default=300)
    parser.add_argument("--rate", type=float, default=50.0, help="commands per second")
    args = parser.parse_args()
    url, schema = _database_url(), f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        settings = Settings(database_url=url, database_schema=schema, pool_size=8)
        app = build_application(settings)
        started = time.perf_counter()
        seed_cohort(app, args.patients)
        events = app.position()
        print(f"seeded {events} events in {time.perf_counter() - started:.1f} s")
        store = build_read_store(settings)
        runner = build_runner(settings, app, store)
        runner.migrate()

        started = time.perf_counter()
        runner.rebuild_many([p.name for p in runner.projections])  # one pass over the log
        catch_up = events / (time.perf_counter() - started)

        with psycopg.connect(url) as conn:
            conn.execute(f"CREATE TABLE {schema}.peer (pos bigint, pid text, body jsonb)")
            rows = [(i, str(uuid.uuid4()), '{"k": "v"}') for i in range(events)]
            started = time.perf_counter()
            with conn.cursor() as cur:
                for i in range(0, len(rows), 1000):
                    cur.executemany(f"INSERT INTO {schema}.peer VALUES (%s, %s, %s)",
                                    rows[i:i + 1000])
                    conn.commit()
            raw = events / (time.perf_counter() - started)

        runner.start()
        ctx = CommandContext(actor=Actor("bench", "sms_worker", "Bench", "HMP Leeds"),
                             correlation_id="bench")
        pid = CommandBus(app).handle(ctx, RegisterPatient(
            given_name="Bench", family_name="Person", date_of_birth=date(1980, 1, 1),
            sex="male")).patient_id
        CommandBus(app).handle(ctx, ReceiveIntoPrison(patient_id=pid, establishment="HMP Leeds"))
        CommandBus(app).handle(ctx, ReferToSms(
            patient_id=pid, source="self", substances=["alcohol"], injecting_status="never",
            previously_treated=False))
        lags: list[float] = []
        interval = 1 / args.rate
        for _ in range(args.lag_commands):
            tick = time.perf_counter()
            result = CommandBus(app).handle(ctx, AssessRisk(
                patient_id=pid, episode=1, level="low", risks=[]))
            acknowledged = time.perf_counter()
            runner.wait_for(result.position, timeout=5.0)
            lags.append((time.perf_counter() - acknowledged) * 1000)
            time.sleep(max(0.0, interval - (time.perf_counter() - tick)))
        runner.stop()
        print()
        print(f"{'scenario':44} {'figure':>14}")
        print(f"{'projection catch-up (all 5 read models)':44} {catch_up:>10,.0f} ev/s")
        print(f"{'peer: raw batched INSERT, 1 row per event':44} {raw:>10,.0f} ev/s")
        print(f"{'ratio catch-up / raw batched INSERT':44} {catch_up / raw:>14.2f}")
        print(f"{'commit-to-visible lag p50':44} {statistics.median(lags):>11.1f} ms")
        print(f"{'commit-to-visible lag p99':44} {_percentile(lags, 0.99):>11.1f} ms")
        print(f"(events={events}, lag commands={len(lags)} at {args.rate:g}/s)")
        store.close()
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


if __name__ == "__main__":
    main()
