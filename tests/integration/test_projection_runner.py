"""Exactly-once projection on SQLite and real PostgreSQL: crashes, restarts, rebuilds, and
report figures checked against small cohorts worked out by hand."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import pytest

from sonar.bootstrap import build_application, build_read_store, build_runner
from sonar.commands.context import CommandContext
from sonar.commands.journey import ReceiveIntoPrison, ReleaseFromPrison, Transfer
from sonar.commands.pathway import (
    AssignCaseload,
    DischargeEpisode,
    RecordReferralOutcome,
    RecordReview,
    RecordTop,
    ReferToSms,
    ReviseCarePlan,
)
from sonar.commands.pipeline import CommandBus
from sonar.commands.record import RegisterPatient
from sonar.config import Settings
from sonar.domain import (
    Actor,
    Referral,
)
from sonar.eventstore.application import SonarApplication
from sonar.readmodels import caseload, continuity, outcomes
from sonar.readmodels.base import Change, Tables
from sonar.readmodels.runner import ProjectionRunner
from sonar.readmodels.timeline import TimelineProjection
from sonar.sqlstore.store import ReadStore, Tx
from tests.conftest import FakeClock
from tests.steps import fields

LEEDS = CommandContext(actor=Actor("sms-1", "sms_worker", "HMP Leeds HC", "HMP Leeds"),
                       correlation_id="it")
HULL = CommandContext(actor=Actor("sms-9", "sms_worker", "HMP Hull HC", "HMP Hull"),
                      correlation_id="it")


def person(app: SonarApplication, ctx: CommandContext, prison: str, n: int) -> Any:
    pid = CommandBus(app).handle(ctx, RegisterPatient(
        given_name="Test", family_name=f"Person{n}", date_of_birth=date(1985, 1, n),
        sex="male")).patient_id
    CommandBus(app).handle(ctx, ReceiveIntoPrison(patient_id=pid, establishment=prison))
    return pid


def timeline_rows(store: ReadStore) -> list[tuple[str, int, int]]:
    return [(r["patient_id"], r["version"], r["position"])
            for r in store.fetchall("SELECT patient_id, version, position FROM rm_timeline")]


def test_a_batch_that_fails_once_is_retried_at_once_and_applied_once(
        store_settings: Settings, clock: FakeClock) -> None:
    """The failed attempt's rows are rolled back (to a savepoint) and the batch applied
    again, each event once; the model is not marked degraded for a passing failure."""
    app = build_application(store_settings, clock)
    for n in range(1, 6):
        person(app, LEEDS, "HMP Leeds", n)

    class Flaky(TimelineProjection):
        failures = 1

        def handle(self, tx: Tx, t: Tables, changes: Sequence[Change]) -> None:
            super().handle(tx, t, changes)  # rows written first, then the crash
            if changes and changes[-1].position > 4 and Flaky.failures:
                Flaky.failures -= 1
                raise RuntimeError("crash mid-batch")

    runner = ProjectionRunner(app, build_read_store(store_settings), [Flaky()], batch_size=3)
    runner.migrate()
    assert runner.catch_up() == app.position()
    assert Flaky.failures == 0
    assert [s.state for s in runner.status()] == ["ok"]
    rows = timeline_rows(runner.store)
    assert sorted(p for *_, p in rows) == list(range(1, app.position() + 1))


@pytest.mark.postgres
def test_a_runner_killed_mid_stream_resumes_with_no_duplicates_or_gaps(
        postgres_settings: Settings, clock: FakeClock) -> None:
    app = build_application(postgres_settings, clock)
    for n in range(1, 121):
        person(app, LEEDS, "HMP Leeds", n % 28 + 1)
    head = app.position()
    script = textwrap.dedent(f"""
        import time
        from sonar.bootstrap import build_application, build_runner
        from sonar.config import Settings
        settings = Settings(database_url={postgres_settings.database_url!r},
                            database_schema={postgres_settings.database_schema!r})
        runner = build_runner(settings, build_application(settings))
        runner.batch_size = 5
        runner.migrate()
        print("ready", flush=True)
        metas = runner.positions.metas()
        runner.replayer.run([(p, metas[p.name]) for p in runner.projections], None,
                            runner.batch_size, lambda position, head: time.sleep(0.02))
    """)
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,  # noqa: S603
                             env=os.environ.copy())
    assert child.stdout is not None
    assert child.stdout.readline().strip() == b"ready"
    store = build_read_store(postgres_settings)
    runner = build_runner(postgres_settings, app, store)
    deadline = time.monotonic() + 30
    while min((s.position for s in runner.status()), default=0) < 40:
        assert time.monotonic() < deadline, "the child runner made no progress"
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    killed_at = {s.name: s.position for s in runner.status()}
    assert 0 < min(killed_at.values()) < head, "killed after finishing; nothing to resume"
    rows = timeline_rows(store)
    assert sorted(p for *_, p in rows) == list(range(1, killed_at["timeline"] + 1))
    runner.catch_up()
    rows = timeline_rows(store)
    assert sorted(p for *_, p in rows) == list(range(1, head + 1))
    assert len(set(rows)) == len(rows)
    store.close()


def test_reports_match_a_cohort_worked_out_by_hand(store_settings: Settings,
                                                   clock: FakeClock) -> None:
    """Three people at Leeds and one at Hull, with outcomes counted by hand below."""
    app = build_application(store_settings, clock)
    start = clock.now
    a, b, c = (person(app, LEEDS, "HMP Leeds", n) for n in (1, 2, 3))
    d = person(app, HULL, "HMP Hull", 4)
    referral = Referral("reception_screen", ("heroin",), "currently", False)
    for pid, ctx in ((a, LEEDS), (b, LEEDS), (c, LEEDS), (d, HULL)):
        CommandBus(app).handle(ctx, ReferToSms(patient_id=pid, **fields(referral)))
    CommandBus(app).handle(LEEDS, RecordReferralOutcome(
        patient_id=a, episode=1, outcome="accepted"))
    CommandBus(app).handle(LEEDS, RecordReferralOutcome(
        patient_id=b, episode=1, outcome="accepted"))
    CommandBus(app).handle(LEEDS, RecordReferralOutcome(
        patient_id=c, episode=1, outcome="declined_by_patient"))
    CommandBus(app).handle(HULL, RecordReferralOutcome(patient_id=d, episode=1, outcome="accepted"))
    CommandBus(app).handle(LEEDS, AssignCaseload(
        patient_id=a, episode=1, worker_id="sms-1", site="HMP Leeds"))
    CommandBus(app).handle(HULL, AssignCaseload(
        patient_id=d, episode=1, worker_id="sms-9", site="HMP Hull"))
    # b is accepted but unassigned at Leeds.
    CommandBus(app).handle(LEEDS, RecordTop(
        patient_id=a, episode=1, stage="start", answers={"opiates_days": 28, "quality_of_life": 4}))
    CommandBus(app).handle(LEEDS, ReviseCarePlan(
        patient_id=a, episode=1, goals=["Stabilise"], interventions=["304681000000107"],
        named_worker="sms-1", next_review_date=(clock.now + timedelta(days=28)).date()))
    clock.advance(days=6)
    CommandBus(app).handle(LEEDS, RecordReview(
        patient_id=a, episode=1, kind="day_5", outcome="completed"))
    clock.advance(days=30)  # day 36: a's 28-day review is overdue; d's 5- and 28-day too
    CommandBus(app).handle(LEEDS, RecordTop(
        patient_id=a, episode=1, stage="review", answers={"opiates_days": 7,
        "quality_of_life": 12}))
    CommandBus(app).handle(LEEDS, DischargeEpisode(
        patient_id=a, episode=1, exit_reason="transferred_not_in_custody"))
    clock.advance(hours=1)
    CommandBus(app).handle(LEEDS, ReleaseFromPrison(
        patient_id=a, release_type="licence", destination_area="Leeds"))
    clock.advance(days=10)
    CommandBus(app).handle(LEEDS, ReferToSms(
        patient_id=a, source="community_service", substances=["heroin"],
        injecting_status="previously", previously_treated=True))
    CommandBus(app).handle(LEEDS, RecordReferralOutcome(  # day 10 of release
        patient_id=a, episode=2, outcome="accepted"))

    runner = build_runner(store_settings, app)
    runner.migrate()
    runner.catch_up()
    today = clock.now.date()
    work = {(r["site"], r["worker"]): r for r in caseload.workforce(runner.store, today)}
    assert work[("HMP Leeds", None)]["unassigned"] == 1  # b
    assert work[("HMP Hull", "sms-9")]["active_caseload"] == 1  # d
    assert work[("HMP Hull", "sms-9")]["reviews_overdue"] == 1  # d's next review (5-day)
    # a's second episode is in the community (site Leeds area), unassigned.
    assert work[("Leeds", None)]["unassigned"] == 1
    period = (start - timedelta(days=1), clock.now + timedelta(days=1))
    leeds = outcomes.outcomes(runner.store, *period, site="HMP Leeds")
    assert leeds["referral_outcomes"] == {"accepted": 2, "declined_by_patient": 1}
    assert leeds["top_change"]["substances"]["opiates"] == {"reduced": 1}
    assert leeds["top_change"]["scores"]["quality_of_life"]["mean_change"] == 8
    assert leeds["discharge_reasons"] == {"transferred_not_in_custody": 1}
    ended = [i for i in leeds["coded_activity"] if i["category"] == "intervention_ended"]
    assert ended == [{"category": "intervention_ended", "code": "304681000000107",
                      "term": "Opioid agonist substitution therapy", "count": 1}]
    hull = outcomes.outcomes(runner.store, *period, site="HMP Hull")
    assert hull["referral_outcomes"] == {"accepted": 1}
    after = continuity.continuity(runner.store, *period, today)
    assert after["released_with_treatment_need"] == 1
    assert after["referred_on_release"] == 1
    assert after["engaged_within_21_days"] == 1
    assert after["engagement_rate"] == 1.0


def test_status_reports_lag_until_caught_up(store_settings: Settings,
                                            clock: FakeClock) -> None:
    app = build_application(store_settings, clock)
    runner = build_runner(store_settings, app)
    runner.migrate()
    person(app, LEEDS, "HMP Leeds", 1)
    assert {s.lag_events for s in runner.status()} == {2}
    assert all(s.lag_seconds >= 0 for s in runner.status())
    runner.catch_up()
    assert {(s.position, s.lag_events) for s in runner.status()} == {(2, 0)}


def test_readers_keep_the_old_model_until_a_rebuild_is_complete(
        store_settings: Settings, clock: FakeClock) -> None:
    app = build_application(store_settings, clock)
    pid = person(app, LEEDS, "HMP Leeds", 1)
    runner = build_runner(store_settings, app)
    runner.migrate()
    runner.catch_up()
    seen: list[int] = []

    def peek(position: int, head: int) -> None:
        seen.append(len(runner.store.fetchall("SELECT * FROM rm_patient")))

    CommandBus(app).handle(LEEDS, Transfer(patient_id=pid, to_establishment="HMP Hull"))
    runner.rebuild("record", peek)
    assert seen
    assert all(n == 1 for n in seen)  # the live view stayed whole throughout
    rows = runner.store.fetchall("SELECT location FROM rm_patient")
    assert rows == [{"location": "HMP Hull"}]



def test_the_rebuild_command_rebuilds_every_model_or_the_one_named(
        store_settings: Settings, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner  # noqa: PLC0415

    from sonar.cli import cli, register_subcommands  # noqa: PLC0415

    app = build_application(store_settings, clock)
    for n in range(1, 4):
        person(app, LEEDS, "HMP Leeds", n)
    if store_settings.database_url:
        monkeypatch.setenv("SONAR_DATABASE_URL", store_settings.database_url)
        monkeypatch.setenv("SONAR_DATABASE_SCHEMA", str(store_settings.database_schema))
    else:
        monkeypatch.setenv("SONAR_DATA_DIR", str(store_settings.data_dir))
    register_subcommands()
    every = CliRunner().invoke(cli, ["projections", "rebuild"])
    assert every.exit_code == 0, every.output
    assert f"rebuilt to position {app.position()}" in every.output
    one = CliRunner().invoke(cli, ["projections", "rebuild", "timeline"])
    assert one.exit_code == 0, one.output
    unknown = CliRunner().invoke(cli, ["projections", "rebuild", "nonsense"])
    assert unknown.exit_code != 0
    runner = build_runner(store_settings, app)
    generations = {m.projection: m.generation for m in runner.positions.metas().values()}
    assert generations.pop("timeline") == 3  # created by migrate, then rebuilt twice
    assert set(generations.values()) == {2}
    assert len(timeline_rows(runner.store)) == app.position()
    runner.store.close()
    app.close()
