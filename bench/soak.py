"""A bounded soak: the mixed clinical workload against ``sonar serve`` for N minutes.

    python -m bench.soak --minutes 2 [--threads 4] [--interval 10]     (or scripts/soak)

Starts ``sonar serve`` on a free loopback port over a scratch PostgreSQL schema
(SONAR_TEST_DATABASE_URL, else scripts/pg-up), runs client threads through the whole pathway
(register, prison reception, referral, acceptance, TOP, caseload, risk, dual diagnosis,
brief intervention, care plan, reads of the record, timeline, caseload, search and
reports with read-your-writes, then discharge and release) and every ``--interval``
seconds prints requests, errors, latency, projection lag (events and seconds behind the
log head) and the server's RSS. It stops by itself after ``--minutes`` (at most 240), stops
the server, drops the schema, and exits 1 if any request failed unexpectedly or any 5xx.
Loopback only: nothing listens beyond 127.0.0.1.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx
import psycopg

from bench.common import database_url, percentile, scratch_schema
from bench.http_ingest import Served, _headers, sonar_served

SITE = "HMP Leeds"
MAX_MINUTES = 240


@dataclass
class Tally:
    """What the clients saw since the last sample (and in total)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    total_requests: int = 0
    total_statuses: Counter[int] = field(default_factory=Counter)
    patients: int = 0

    def record(self, status: int, ms: float, ok: bool, what: str) -> None:
        with self.lock:
            self.requests += 1
            self.total_requests += 1
            self.statuses[status] += 1
            self.total_statuses[status] += 1
            self.latencies_ms.append(ms)
            if not ok:
                self.unexpected.append(f"{status} {what}"[:300])

    def take(self) -> tuple[int, Counter[int], list[float]]:
        with self.lock:
            taken = (self.requests, self.statuses, self.latencies_ms)
            self.requests, self.statuses, self.latencies_ms = 0, Counter(), []
            return taken


class Clinician:
    """One client thread: patients through the pathway, reading its own writes."""

    def __init__(self, base: str, headers: dict[str, str], tally: Tally, n: int) -> None:
        self.http = httpx.Client(base_url=base, headers=headers, timeout=30)
        self.tally, self.n = tally, n

    def call(self, method: str, path: str, body: dict[str, Any] | None = None,
             params: dict[str, Any] | None = None, ok: tuple[int, ...] = (200, 201),
             ) -> httpx.Response | None:
        headers = {"Idempotency-Key": uuid.uuid4().hex} if method == "POST" else {}
        for _ in range(5):  # a 503 is retried with the same key, as the API asks
            began = time.perf_counter()
            try:
                response = self.http.request(method, path, json=body, params=params,
                                             headers=headers)
            except httpx.TransportError as exc:
                self.tally.record(0, (time.perf_counter() - began) * 1000, False,
                                  f"{method} {path}: {type(exc).__name__}")
                return None
            ms = (time.perf_counter() - began) * 1000
            good = response.status_code in ok
            retry = response.status_code == 503
            self.tally.record(response.status_code, ms, good or retry,
                              f"{method} {path}: {response.text[:200]}")
            if not retry:
                return response if good else None
            time.sleep(float(response.headers.get("retry-after", "1")))
        return None

    def one_patient(self, k: int) -> None:
        made = self.call("POST", "/api/v1/patients", {
            "given_name": "Soak", "family_name": f"Patient{self.n}x{k}",
            "date_of_birth": "1984-06-15", "sex": "male" if k % 2 else "female"})
        if made is None:
            return
        pid = made.json()["patient_id"]
        with self.tally.lock:
            self.tally.patients += 1
        one = f"/api/v1/patients/{pid}"
        review = (date.today() + timedelta(days=28)).isoformat()
        position = 0
        for path, body in [
            ("/custody/prison-receptions", {"establishment": SITE,
                                            "prison_number": f"A{k % 10000:04d}BC"}),
            ("/referrals", {"source": "reception_screen", "substances": ["heroin", "crack"],
                            "injecting_status": "previously", "previously_treated": True}),
            ("/episodes/1/referral-outcome", {"outcome": "accepted"}),
            ("/episodes/1/tops", {"stage": "start", "answers": {
                "opiates_days": 20 + k % 8, "crack_days": k % 12, "psychological_health": 8}}),
            ("/episodes/1/caseload-assignments", {"worker_id": f"soak-worker-{self.n}",
                                                  "site": SITE}),
            ("/episodes/1/risk-assessments", {"level": "high", "risks": ["overdose"]}),
            ("/episodes/1/dual-diagnoses", {"status": "no"}),
            ("/episodes/1/brief-interventions", {"intervention": "alcohol_brief_advice",
                                                 "outcome": "completed"}),
            ("/episodes/1/care-plans", {"goals": ["Stabilise on treatment"],
                                        "interventions": [], "named_worker": "soak",
                                        "next_review_date": review}),
        ]:
            done = self.call("POST", one + path, body)
            if done is None:
                return
            position = done.json()["position"]
        mine = {"min_position": position}
        self.call("GET", one)
        self.call("GET", f"{one}/record", params=mine)
        self.call("GET", f"{one}/timeline", params=mine)
        self.call("GET", "/api/v1/caseloads", params={"site": SITE, "limit": 50, **mine})
        self.call("GET", "/api/v1/patients/search", params={
            "family_name": f"Patient{self.n}x{k}", "date_of_birth": "1984-06-15", **mine})
        if k % 5 == 0:
            self.call("GET", "/api/v1/reports/workforce", params=mine)
            self.call("GET", "/api/v1/reports/outcomes", params=mine)
        if k % 2 == 0:
            self.call("POST", f"{one}/episodes/1/discharge",
                      {"exit_reason": "transferred_not_in_custody"})
            self.call("POST", f"{one}/custody/releases", {"release_type": "licence"})

    def run(self, until: float, max_patients: int) -> None:
        for k in range(max_patients):  # bounded as well as timed
            if time.monotonic() > until:
                break
            self.one_patient(k)
        self.http.close()


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def lag(url: str, schema: str) -> tuple[int, int, float]:
    """(log head, events the slowest read model is behind, seconds since it last moved)."""
    with psycopg.connect(url, autocommit=True) as conn:
        head = conn.execute(f"SELECT coalesce(max(notification_id), 0) "
                            f"FROM {schema}.sonar_events").fetchone()
        meta = conn.execute(f"SELECT min(position), extract(epoch FROM now() - "
                            f"min(updated_at)) FROM {schema}.rm_meta").fetchone()
    top = int(head[0]) if head else 0
    behind = top - int(meta[0]) if meta and meta[0] is not None else top
    since = float(meta[1]) if meta and meta[1] is not None and behind > 0 else 0.0
    return top, behind, since


def soak(minutes: float, threads: int, interval: float) -> int:
    url = database_url()
    print(f"soak: {minutes:g} min, {threads} client threads, sample every {interval:g} s",
          flush=True)
    with scratch_schema(url, "soak") as schema, tempfile.TemporaryDirectory() as tmp:
        served: Served | None = None
        try:
            with sonar_served(url, schema, tmp, threads + 6,
                              SONAR_CHECKPOINT_MINUTES="1") as served:
                headers, _ = _headers(served.base, served.env)
                return _drive(served.base, headers, served.server, url, schema, minutes,
                              threads, interval)
        finally:
            tail = (served.log_path.read_text(errors="replace").strip().splitlines()[-5:]
                    if served else [])
            if tail:
                print("server log tail:", *tail, sep="\n  ")


def _drive(base: str, headers: dict[str, str], server: subprocess.Popen[bytes], url: str,
           schema: str, minutes: float, threads: int, interval: float) -> int:
    tally = Tally()
    started = time.monotonic()
    until = started + minutes * 60
    workers = [threading.Thread(target=Clinician(base, headers, tally, n).run,
                                args=(until, 100_000), daemon=True) for n in range(threads)]
    for worker in workers:
        worker.start()
    print(f"{'t(s)':>6} {'req':>6} {'req/s':>7} {'p50ms':>7} {'p99ms':>7} {'errors':>6} "
          f"{'5xx':>4} {'head':>7} {'lag(ev)':>7} {'lag(s)':>6} {'rss(MB)':>8}", flush=True)
    samples: list[tuple[float, float, int, float]] = []  # t, rss, lag events, lag seconds
    errors_seen = 0
    next_sample = started + interval
    while any(w.is_alive() for w in workers) and time.monotonic() < until + 60:
        time.sleep(max(0.0, min(next_sample, until + 60) - time.monotonic()))
        next_sample += interval
        count, statuses, latencies = tally.take()
        head, behind, since = lag(url, schema)
        rss = rss_mb(server.pid)
        elapsed = time.monotonic() - started
        with tally.lock:
            errors_now = len(tally.unexpected)
        samples.append((elapsed, rss, behind, since))
        print(f"{elapsed:6.0f} {count:6d} {count / interval:7.1f} "
              f"{percentile(latencies, 0.5) or 0:7.1f} {percentile(latencies, 0.99) or 0:7.1f} "
              f"{errors_now - errors_seen:6d} "
              f"{sum(n for s, n in statuses.items() if s >= 500):4d} {head:7d} {behind:7d} "
              f"{since:6.1f} {rss:8.1f}", flush=True)
        errors_seen = errors_now
    for worker in workers:
        worker.join(timeout=60)
    head, behind, _ = lag(url, schema)
    settle = time.monotonic() + 30
    while behind and time.monotonic() < settle:  # read models drain once the load stops
        time.sleep(0.5)
        head, behind, _ = lag(url, schema)
    five_xx = sum(n for s, n in tally.total_statuses.items() if s >= 500)
    print(f"\nsummary: {tally.total_requests} requests in {time.monotonic() - started:.0f} s, "
          f"{tally.patients} patients, statuses {dict(sorted(tally.total_statuses.items()))}")
    print(f"  unexpected errors: {len(tally.unexpected)}; 5xx: {five_xx}")
    for line in tally.unexpected[:10]:
        print(f"    {line}")
    if samples:
        print(f"  server RSS: first {samples[0][1]:.1f} MB, last {samples[-1][1]:.1f} MB, "
              f"max {max(s[1] for s in samples):.1f} MB")
        print(f"  projection lag while loaded: max {max(s[2] for s in samples)} events, "
              f"max {max(s[3] for s in samples):.1f} s; after the load: {behind} events "
              f"(log head {head})")
    return 1 if tally.unexpected or five_xx or behind else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=2.0,
                        help=f"how long to run (at most {MAX_MINUTES})")
    parser.add_argument("--threads", type=int, default=4, help="client threads (1-32)")
    parser.add_argument("--interval", type=float, default=10.0, help="seconds per sample")
    args = parser.parse_args(argv)
    if not 0 < args.minutes <= MAX_MINUTES or not 1 <= args.threads <= 32 or args.interval < 1:
        parser.error(f"--minutes in (0, {MAX_MINUTES}], --threads in 1..32, --interval >= 1")
    return soak(args.minutes, args.threads, args.interval)


if __name__ == "__main__":
    sys.exit(main())
