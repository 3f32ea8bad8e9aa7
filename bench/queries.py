"""Scenario 6: caseload and record queries with many patients in the read models.

Only query speed is measured here, so the read-model tables (created by ``runner.migrate``,
exactly as SONAR creates them) are filled directly with synthetic rows by SQL
``generate_series``: one row per patient in ``rm_patient`` and one episode per patient in
``rm_episode`` (80% active, spread over 500 named workers and 13 sites), then ANALYZEd.
SONAR's figure is the public query function (``caseload.caseload``, ``record.get_record``:
SQL plus row shaping); the peer is the same SQL through bare psycopg (the floor).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import date

import psycopg

from bench.common import Result, Sizes, p50, percentile, scratch_schema, settings_for, sonar_app
from sonar.bootstrap import build_read_store, build_runner
from sonar.readmodels.caseload import caseload
from sonar.readmodels.record import get_record

WORKERS = 500

FILL_PATIENTS = """
INSERT INTO rm_patient (patient_id, nhs_number, prison_number, given_name, family_name,
  date_of_birth, sex, setting, location, active_episode, episode_status, treatment_start,
  caseload_worker, caseload_site, risk_level, named_risks, acct_open, dual_diagnosis,
  latest_top, latest_top_at, care_plan, care_plan_revision, alerts, next_review_kind,
  next_review_due, version, updated_at, position)
SELECT md5('p' || i)::uuid::text, '999' || lpad(i::text, 7, '0'), 'A' || (1000 + i % 9000) || 'BC',
  'Given' || (i % 97), 'Family' || (i % 1013), date '1970-01-01' + (i % 12000),
  CASE WHEN i % 2 = 0 THEN 'male' ELSE 'female' END, 'prison', 'HMP Site ' || (i % 13),
  CASE WHEN i % 5 < 4 THEN 1 END, CASE WHEN i % 5 < 4 THEN 'open' ELSE 'closed' END,
  date '2024-01-01' + (i % 300), 'w-' || (i % {workers}), 'HMP Site ' || (i % 13),
  (ARRAY['low','medium','high'])[1 + i % 3], '["overdose"]'::jsonb, false, 'no',
  '{{"stage": "review", "opiates_days": 4}}'::jsonb, now() - (i % 90) * interval '1 day',
  '{{"revision": 1, "goals": ["Stabilise"]}}'::jsonb, 1, '[]'::jsonb, 'day_28',
  date '2024-01-01' + (i % 400), 20 + i % 30, now(), i
FROM generate_series(1, {n}) AS i
"""

FILL_EPISODES = """
INSERT INTO rm_episode (patient_id, episode, site, status, referred_at, referral_source,
  primary_substance, outcome, treatment_start, caseload_worker, caseload_site, risk_level,
  day_5_due, day_5_done, day_28_due, next_review_kind, next_review_due)
SELECT md5('p' || i)::uuid::text, 1, 'HMP Site ' || (i % 13),
  CASE WHEN i % 5 < 3 THEN 'open' WHEN i % 5 = 3 THEN 'referred' ELSE 'closed' END,
  now() - (i % 300) * interval '1 day', 'reception_screen', 'heroin', 'accepted',
  date '2024-01-01' + (i % 300), 'w-' || (i % {workers}), 'HMP Site ' || (i % 13),
  (ARRAY['low','medium','high'])[1 + i % 3], date '2024-01-06' + (i % 300),
  date '2024-01-07' + (i % 300), date '2024-01-29' + (i % 300), 'day_28',
  date '2024-01-01' + (i % 400)
FROM generate_series(1, {n}) AS i
"""

RAW_CASELOAD = (
    "SELECT e.*, p.given_name, p.family_name, p.nhs_number, p.prison_number "
    "FROM rm_episode e LEFT JOIN rm_patient p ON p.patient_id = e.patient_id "
    "WHERE e.status IN ('referred', 'open') AND e.caseload_worker = %s "
    "ORDER BY e.next_review_due IS NULL, e.next_review_due, e.referred_at, e.patient_id "
    "LIMIT 100 OFFSET 0")


def _timed(fn: Callable[[int], object], repeats: int) -> list[float]:
    for i in range(min(5, repeats)):
        fn(i)  # warm the pool and the buffer cache a little
    out = []
    for i in range(repeats):
        began = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - began) * 1000)
    return out


def run(url: str, sizes: Sizes, log: Callable[[str], None]) -> list[Result]:
    n, repeats = sizes.query_patients, sizes.query_repeats
    rng = random.Random(3)  # noqa: S311 - synthetic data
    today = date(2024, 6, 1)
    with scratch_schema(url, "queries") as schema:
        settings = settings_for(url, schema, pool_size=4)
        app = sonar_app(url, schema, pool_size=2)
        store = build_read_store(settings)
        runner = build_runner(settings, app, store)
        runner.migrate()
        log(f"queries: filling rm_patient / rm_episode with {n:,} synthetic patients")
        with psycopg.connect(url, options=f"-c search_path={schema}") as conn:
            conn.execute(FILL_PATIENTS.format(n=n, workers=WORKERS))
            conn.execute(FILL_EPISODES.format(n=n, workers=WORKERS))
            conn.commit()
            conn.autocommit = True
            conn.execute("ANALYZE")
            ids = [r[0] for r in conn.execute(
                "SELECT patient_id FROM rm_patient ORDER BY random() LIMIT %s",
                (repeats,)).fetchall()]
        workers = [f"w-{rng.randrange(WORKERS)}" for _ in range(repeats)]
        sizes_seen: list[int] = []

        def sonar_caseload(i: int) -> None:
            sizes_seen.append(len(caseload(store, today, worker=workers[i])))

        results = []
        lat = _timed(sonar_caseload, repeats)
        per_worker = round(sum(sizes_seen) / max(1, len(sizes_seen)))
        results.append(Result("query caseload", "SONAR caseload(worker=...)", None, "-",
                              p50(lat), percentile(lat, 0.99), repeats,
                              {"patients": n, "rows_per_call": per_worker}))
        with psycopg.connect(url, options=f"-c search_path={schema}",
                             autocommit=True) as conn:
            lat = _timed(lambda i: conn.execute(RAW_CASELOAD, (workers[i],)).fetchall(),
                         repeats)
            results.append(Result("query caseload", "raw SQL, same query (psycopg)", None, "-",
                                  p50(lat), percentile(lat, 0.99), repeats, {"patients": n}))
            lat = _timed(lambda i: get_record(store, ids[i % len(ids)], today), repeats)
            results.append(Result("query record", "SONAR record.get_record", None, "-",
                                  p50(lat), percentile(lat, 0.99), repeats, {"patients": n}))
            lat = _timed(lambda i: conn.execute("SELECT * FROM rm_patient WHERE patient_id = %s",
                                                (ids[i % len(ids)],)).fetchall(), repeats)
            results.append(Result("query record", "raw SQL, same query (psycopg)", None, "-",
                                  p50(lat), percentile(lat, 0.99), repeats, {"patients": n}))
        store.close()
        app.close()
    return results
