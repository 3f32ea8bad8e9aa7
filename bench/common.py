"""Shared pieces of the harness: results, percentiles, scratch schemas, bounded load loops."""

from __future__ import annotations

import os
import random
import resource
import statistics
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from sonar.bootstrap import build_application
from sonar.commands.context import CommandContext
from sonar.commands.journey import ReceiveIntoPrison
from sonar.commands.pathway import (
    AssessDualDiagnosis,
    AssessRisk,
    RecordBriefIntervention,
    RecordReferralOutcome,
    RecordTop,
    ReferToSms,
    ReviseCarePlan,
)
from sonar.commands.pipeline import CommandBus
from sonar.commands.record import RegisterPatient
from sonar.config import Settings
from sonar.domain import Actor, Attribution, Demographics, Identity
from sonar.domain.care_record import CareRecord
from sonar.domain.identity import PrisonNumber
from sonar.domain.pathway import (
    BriefIntervention,
    DualDiagnosis,
    Referral,
    ReferralOutcome,
    RiskAssessment,
)
from sonar.domain.top import Top, TopAnswers
from sonar.eventstore.application import SonarApplication

ROOT = Path(__file__).resolve().parents[1]
SITE = "HMP Leeds"
ORG = "HMP Leeds Healthcare"


@dataclass
class Result:
    """One figure of one system in one scenario (every figure of a run comes from that run)."""

    scenario: str
    system: str
    rate: float | None = None  # operations (commands, requests, events) per second
    unit: str = "ops/s"
    p50_ms: float | None = None
    p99_ms: float | None = None
    count: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Sizes:
    """Every size the scenarios use, from --quick / full and --scale."""

    ingest_seconds: float
    ingest_patients_per_writer: int
    writers: tuple[int, ...]
    http_seconds: float
    http_threads: int
    catchup_events: int
    lag_rates: tuple[int, ...]
    lag_seconds: float
    replay_events: int
    replay_repeats: int
    query_patients: int
    query_repeats: int
    quick: bool = False

    @classmethod
    def make(cls, *, quick: bool, scale: float) -> Sizes:
        def n(value: float, least: int = 1) -> int:
            return max(least, round(value * scale))

        if quick:
            return cls(ingest_seconds=1.5 * scale, ingest_patients_per_writer=n(3),
                       writers=(1, 4, 16), http_seconds=2.0 * scale, http_threads=4,
                       catchup_events=n(3_000, 100), lag_rates=(100,),
                       lag_seconds=2.0 * scale, replay_events=1000, replay_repeats=n(20, 5),
                       query_patients=n(10_000, 100), query_repeats=n(50, 10), quick=True)
        return cls(ingest_seconds=10.0 * scale, ingest_patients_per_writer=n(10),
                   writers=(1, 4, 16), http_seconds=15.0 * scale, http_threads=8,
                   catchup_events=n(60_000, 100), lag_rates=(100, 500),
                   lag_seconds=15.0 * scale, replay_events=1000, replay_repeats=n(200, 5),
                   query_patients=n(100_000, 100), query_repeats=n(500, 10))


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def p50(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def database_url() -> str:
    url = os.environ.get("SONAR_TEST_DATABASE_URL")
    if url:
        return url
    return subprocess.run([str(ROOT / "scripts" / "pg-up")], check=True,
                          capture_output=True, text=True).stdout.strip()


@contextmanager
def scratch_schema(url: str, label: str) -> Iterator[str]:
    """A fresh PostgreSQL schema for one system in one scenario, dropped afterwards (with
    the records' schema SONAR makes beside it).

    It starts with a CHECKPOINT, so no system pays for flushing the pages the one before it
    dirtied (the batched-INSERT peer leaves ~250,000 rows behind). Without superuser (or
    pg_checkpoint) rights it starts without one."""
    schema = f"bench_{label}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
        with suppress(psycopg.errors.InsufficientPrivilege):
            conn.execute("CHECKPOINT")
    try:
        yield schema
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema}_records CASCADE")
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def settings_for(url: str, schema: str, pool_size: int = 20) -> Settings:
    return Settings(database_url=url, database_schema=schema, pool_size=pool_size)


def sonar_app(url: str, schema: str, pool_size: int = 20) -> SonarApplication:
    return build_application(settings_for(url, schema, pool_size))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


# --- load ---------------------------------------------------------------------------------

Op = Callable[[int], None]  # one operation; the argument is the operation's sequence number


@dataclass
class LoadOutcome:
    count: int
    errors: int
    seconds: float
    latencies_ms: list[float]
    first_error: str = ""

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds > 0 else 0.0


def run_closed_loop(ops: list[Op], seconds: float, max_ops_per_thread: int = 1_000_000,
                    ) -> LoadOutcome:
    """One thread per op: each calls its op back to back until time is up (bounded)."""
    deadline_box: list[float] = []
    start_gate = threading.Barrier(len(ops) + 1)
    lock = threading.Lock()
    latencies: list[float] = []
    errors: list[str] = []

    def worker(op: Op) -> None:
        mine: list[float] = []
        start_gate.wait()
        deadline = deadline_box[0]
        for i in range(max_ops_per_thread):
            if time.perf_counter() >= deadline:
                break
            began = time.perf_counter()
            try:
                op(i)
            except Exception as exc:
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}"[:300])
                continue
            mine.append((time.perf_counter() - began) * 1000)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker, args=(op,), daemon=True) for op in ops]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    deadline_box.append(began + seconds)
    start_gate.wait()
    for thread in threads:
        thread.join(timeout=seconds + 120)
    elapsed = time.perf_counter() - began
    return LoadOutcome(len(latencies), len(errors), elapsed, latencies,
                       errors[0] if errors else "")


# --- SONAR patients ready for clinical commands ----------------------------------------------


def actor(worker: int = 1) -> Actor:
    return Actor(f"bench-sms-{worker}", "sms_worker", ORG, SITE)


def context(worker: int = 1) -> CommandContext:
    return CommandContext(actor=actor(worker), correlation_id=f"bench-{uuid.uuid4().hex[:12]}")


def open_patient(app: SonarApplication, ctx: CommandContext, n: int) -> uuid.UUID:
    """Register, receive into prison, refer and accept: an open SMS episode (4 commands)."""
    pid = CommandBus(app).handle(ctx, RegisterPatient(
        given_name="Bench", family_name=f"Person{n}", date_of_birth=date(1980, 1, 1 + n % 28),
        sex="male")).patient_id
    CommandBus(app).handle(ctx, ReceiveIntoPrison(patient_id=pid, establishment=SITE))
    CommandBus(app).handle(ctx, ReferToSms(
        patient_id=pid, source="self", substances=["heroin", "crack"], injecting_status="never",
        previously_treated=False))
    CommandBus(app).handle(ctx, RecordReferralOutcome(
        patient_id=pid, episode=1, outcome="accepted"))
    return pid


TOP_ANSWERS: dict[str, int | float | bool | None] = {
    "opiates_days": 12, "opiates_amount": 0.5, "crack_days": 4, "alcohol_days": 2,
    "tobacco_days": 28, "tobacco_amount": 10, "injecting_days": 0, "shared_needles": False,
    "shoplifting_days": 1, "psychological_health": 9, "physical_health": 11,
    "quality_of_life": 8, "acute_housing_problem": False}


def sonar_command(app: SonarApplication, ctx: CommandContext, pid: uuid.UUID, i: int) -> int:
    """One clinical command from a fixed mix (risk, TOP, dual diagnosis, BI, care plan)."""
    kind = i % 5
    if kind == 0:
        return CommandBus(app).handle(ctx, AssessRisk(
            patient_id=pid, episode=1, level=("low", "medium", "high")[i % 3],
            risks=["overdose", "opiate_withdrawal"])).position
    if kind == 1:
        return CommandBus(app).handle(ctx, RecordTop(
            patient_id=pid, episode=1, stage="review", answers=dict(TOP_ANSWERS))).position
    if kind == 2:
        return CommandBus(app).handle(ctx, AssessDualDiagnosis(
            patient_id=pid, episode=1, status="no")).position
    if kind == 3:
        return CommandBus(app).handle(ctx, RecordBriefIntervention(
            patient_id=pid, episode=1, intervention="alcohol_brief_advice",
            outcome="completed")).position
    return CommandBus(app).handle(ctx, ReviseCarePlan(
        patient_id=pid, episode=1, goals=["Stabilise", "Reduce illicit use"],
        interventions=["304681000000107"], named_worker="bench-sms-1",
        next_review_date=date.today() + timedelta(days=28))).position


# --- a log written fast, still through the application (domain + mapper + hash chain) --------


def build_records_in_bulk(app: SonarApplication, patients: int, events_per_patient: int,
                          *, wave: int = 200, per_save: int = 10, seed: int = 11,
                          progress: Callable[[int], None] | None = None) -> int:
    """Write ``patients`` care records of about ``events_per_patient`` events each.

    Each save is one transaction holding ``per_save`` events of each of ``wave`` patients,
    so patients interleave in the log in runs of ``per_save`` events, as they would under
    real load. Every event goes through the domain, the transcoder and the hash chain;
    only the per-command round trips are skipped.
    """
    rng = random.Random(seed)  # noqa: S311 - synthetic data
    base = datetime.now(UTC) - timedelta(days=400)
    written = 0
    clock = [base]

    def at() -> Attribution:
        clock[0] += timedelta(milliseconds=1)
        return Attribution(actor(1), "direct_care", "import", "bench", clock[0], clock[0])

    for first in range(0, patients, wave):
        count = min(wave, patients - first)
        records: list[CareRecord] = []
        for k in range(count):
            record = CareRecord.register(Identity(), Demographics(
                "Bulk", f"Person{first + k}", date(1970 + k % 30, 1 + k % 12, 1 + k % 28),
                "female" if k % 2 else "male"), at())
            record.receive_into_prison(SITE, PrisonNumber(f"A{1000 + k % 9000}BC"), at())
            record.refer_to_sms(Referral("reception_screen", ("heroin",), "never", False), at())
            record.record_referral_outcome(1, ReferralOutcome("accepted"), at())
            record.assign_caseload(1, f"bench-sms-{k % 40}", SITE, at())
            records.append(record)
        done = 5
        while True:
            step = min(per_save, events_per_patient - done)
            for record in records:
                for j in range(step):
                    _bulk_step(record, done + j + rng.randrange(5), at())
            done += max(step, 0)
            written += sum(len(r.pending_events) for r in records)
            app.save(*records)
            if progress:
                progress(written)
            if done >= events_per_patient:
                break
    return written


def _bulk_step(record: CareRecord, i: int, at: Attribution) -> None:
    kind = i % 4
    if kind == 0:
        record.assess_risk(1, RiskAssessment(("low", "medium", "high")[i % 3], ("overdose",)),
                           at)
    elif kind == 1:
        record.record_top(1, Top("review", TopAnswers(dict(TOP_ANSWERS))), at)
    elif kind == 2:
        record.assess_dual_diagnosis(1, DualDiagnosis("no"), at)
    else:
        record.record_brief_intervention(1, BriefIntervention("alcohol_brief_advice",
                                                              "completed"), at)


def mean_stored_state_bytes(url: str, schema: str) -> int:
    """Average stored event size in SONAR's log, so raw peers write rows of the same size."""
    with psycopg.connect(url) as conn:
        row = conn.execute(f"SELECT avg(octet_length(state))::int FROM {schema}.sonar_events"
                           ).fetchone()
    return int(row[0]) if row and row[0] else 600


def fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"
