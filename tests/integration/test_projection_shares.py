"""A rebuild split into shares of the patients, replayed side by side by worker processes,
gives exactly the read models one process gives; a share that fails leaves the live
generation as it was; events that arrive meanwhile are in the swapped-in tables."""

from __future__ import annotations

import base64
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import SecretStr

from sonar.bootstrap import build_application, build_read_store, build_runner
from sonar.cli.demo import seed_cohort
from sonar.commands.context import CommandContext
from sonar.commands.pathway import AssessRisk
from sonar.commands.pipeline import CommandBus
from sonar.commands.record import MarkEnteredInError
from sonar.commands.reset import BookAppointment
from sonar.config import Settings
from sonar.domain import Actor
from sonar.eventstore.application import SonarApplication
from sonar.eventstore.pg_recorder import Share
from sonar.readmodels.runner import ProjectionRunner
from sonar.readmodels.shares import ShareFailed, ShareJob, ShareWorkers
from sonar.sqlstore.store import ReadStore

pytestmark = pytest.mark.postgres

CTX = CommandContext(actor=Actor("sms-1", "sms_worker", "HMP Leeds HC", "HMP Leeds"),
                     correlation_id="shares")
TABLES = ("patient", "episode", "referral", "coded_activity", "top_change", "release",
          "timeline", "appointment")


def dump(store: ReadStore) -> dict[str, list[dict[str, Any]]]:
    return {t: store.fetchall(f"SELECT * FROM rm_{t} ORDER BY 1, 2, 3")  # noqa: S608
            for t in TABLES}


def _cohort(app: SonarApplication, patients: int) -> list[Any]:
    """The demo's journeys (custody, prison, the pathway, release, recall), with entries
    marked in error and ReSet appointments on top, so every read model has rows."""
    seed_cohort(app, patients, seed=3)
    rng = random.Random(5)
    ids = [i for i in _patients(app) if app.get_record(i).episodes]
    for pid in ids[::3]:
        record = app.get_record(pid)
        team = team_of(app, pid)
        entries = [e for ep in record.episodes for e in ep.entries if e.in_error is None]
        if entries:
            CommandBus(app).handle(team, MarkEnteredInError(
                patient_id=pid, entry_version=rng.choice(entries).version, reason="wrong patient"))
        start = datetime.now(UTC) + timedelta(days=rng.randint(1, 9))
        CommandBus(app).handle(team, BookAppointment(
            patient_id=pid, kind="drug_alcohol_service", agency="Forward", agency_contact=None,
            starts_at=start, ends_at=start + timedelta(hours=1), place="Leeds"))
    return ids


def team_of(app: SonarApplication, pid: Any) -> CommandContext:
    """A clinician of the team where the person is now (so they have a relationship)."""
    site = app.get_record(pid).journey.location or "HMP Leeds"
    return CommandContext(actor=Actor("sms-9", "sms_worker", "Healthcare", site),
                          correlation_id="shares")


def _patients(app: SonarApplication) -> list[Any]:
    return sorted({row[1] for row in app.stored_rows(1, 100_000)
                   if row[3].startswith("sonar.domain.care_record:")})


KEY = base64.b64encode(bytes(range(32))).decode()  # synthetic test key


@pytest.fixture(params=["plain", "encrypted"])
def shared(postgres_settings: Settings, request: pytest.FixtureRequest,
           ) -> Iterator[tuple[SonarApplication, ProjectionRunner]]:
    """Two share workers on the store; also with payloads encrypted and compressed at rest,
    which the workers must read with the key they are given on stdin."""
    at_rest = ({"cipher_key": SecretStr(KEY), "compress": True}
               if request.param == "encrypted" else {})
    settings = postgres_settings.model_copy(update={"rebuild_workers": 2, **at_rest})
    app = build_application(settings)
    store = build_read_store(settings)
    runner = build_runner(settings, app, store)
    runner.SHARE_FROM = 0  # split even this small log
    runner.migrate()
    yield app, runner
    store.close()
    app.close()


def _names(runner: ProjectionRunner) -> list[str]:
    return [p.name for p in runner.projections]


def test_a_rebuild_in_shares_equals_the_read_models_kept_as_events_arrived(
        shared: tuple[SonarApplication, ProjectionRunner]) -> None:
    app, runner = shared
    ids = _cohort(app, 30)
    runner.catch_up()
    incremental = dump(runner.store)
    assert len(incremental["appointment"]) >= 3
    assert sum(r["in_error_reason"] is not None for r in incremental["timeline"]) >= 3
    assert {Share(0, 2).holds(i) for i in ids} == {True, False}  # both shares have patients
    assert runner.share_workers is not None
    assert runner.share_workers.count == 2
    progress: list[int] = []
    head = app.position()
    assert runner.rebuild_many(_names(runner), lambda at, _: progress.append(at)) == head
    assert dump(runner.store) == incremental
    assert progress[-1] == head
    assert progress == sorted(progress)
    assert {m.generation for m in runner.positions.metas().values()} == {2}
    assert all("#" not in name for name in runner.positions.metas())  # no share's positions left
    assert len(runner.share_workers.peak_rss_mb) == 2  # type: ignore[attr-defined]


class _Broken:
    """Real share workers, given jobs for a generation that is not the one being built."""

    def __init__(self, inner: ShareWorkers) -> None:
        self.inner, self.count = inner, inner.count

    def run(self, jobs: Sequence[ShareJob], progress: Callable[[int], None] | None) -> None:
        self.inner.run([replace(j, models=tuple((n, g + 7) for n, g in j.models))
                        for j in jobs], progress)


def test_a_failed_share_leaves_the_live_read_models_and_no_share_positions(
        shared: tuple[SonarApplication, ProjectionRunner]) -> None:
    app, runner = shared
    _cohort(app, 12)
    runner.catch_up()
    before = dump(runner.store)
    assert runner.share_workers is not None
    runner.share_workers = _Broken(runner.share_workers)
    with pytest.raises(ShareFailed, match=r"share [01] of 2 failed"):
        runner.rebuild_many(_names(runner))
    assert dump(runner.store) == before  # readers never saw the half-built generation
    metas = runner.positions.metas()
    assert {metas[n].generation for n in _names(runner)} == {1}
    assert not any("#rebuild#" in name for name in metas)


class _LateWrites:
    """Real share workers; while they start, a clinician records more for one patient."""

    def __init__(self, inner: ShareWorkers, app: SonarApplication, pid: Any) -> None:
        self.inner, self.count, self.app, self.pid = inner, inner.count, app, pid

    def run(self, jobs: Sequence[ShareJob], progress: Callable[[int], None] | None) -> None:
        episode = len(self.app.get_record(self.pid).episodes)
        for level in ("low", "high"):
            CommandBus(self.app).handle(team_of(self.app, self.pid), AssessRisk(
                patient_id=self.pid, episode=episode, level=level, risks=["overdose"]))
        self.inner.run(jobs, progress)


def test_events_after_the_rebuilds_head_are_applied_before_the_swap(
        shared: tuple[SonarApplication, ProjectionRunner]) -> None:
    app, runner = shared
    ids = _cohort(app, 12)
    pid = next(i for i in ids if app.get_record(i).active_episode is not None)
    assert runner.share_workers is not None
    runner.share_workers = _LateWrites(runner.share_workers, app, pid)
    assert runner.rebuild_many(_names(runner)) == app.position()
    rebuilt = dump(runner.store)
    alone = ProjectionRunner(app, runner.store, runner.projections)  # one process
    assert alone.share_workers is None
    alone.rebuild_many(_names(alone))
    assert dump(runner.store) == rebuilt
    versions = sum(app.get_record(i).version for i in _patients(app))
    assert len(rebuilt["timeline"]) == versions
    row = next(r for r in rebuilt["patient"] if r["patient_id"] == str(pid))
    assert row["risk_level"] == "high"  # the last late write


@pytest.mark.parametrize("count", [1, 2, 3])
def test_the_shares_of_a_log_hold_every_event_once_in_log_order(
        shared: tuple[SonarApplication, ProjectionRunner], count: int) -> None:
    app, _ = shared
    _cohort(app, 10)
    every = app.stored_rows(1, 100_000)
    parts = [app.stored_rows(1, 100_000, share=Share(i, count)) for i in range(count)]
    assert sorted(r for part in parts for r in part) == sorted(every)
    for i, part in enumerate(parts):
        assert [r[0] for r in part] == sorted(r[0] for r in part)
        assert all(Share(i, count).holds(r[1]) for r in part)
    limited = app.stored_rows(1, 5, share=Share(0, count))
    assert limited == parts[0][:5]


def test_a_share_outside_its_count_is_refused() -> None:
    for index, count in ((2, 2), (-1, 2), (0, 0), (0, 300)):
        with pytest.raises(ValueError, match="no share"):
            Share(index, count)
