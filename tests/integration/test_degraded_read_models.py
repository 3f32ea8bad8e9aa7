"""A read model that cannot apply an event stops there, alone: the others keep up, the
server still starts, /health and `sonar projections status` say it is degraded, and it
resumes from its last good position once the cause is fixed."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from sonar.bootstrap import build_application, build_read_store, build_runner
from sonar.commands.context import CommandContext
from sonar.commands.journey import ReceiveIntoPrison
from sonar.commands.pipeline import CommandBus
from sonar.commands.record import RegisterPatient
from sonar.config import Settings
from sonar.domain import Actor, Attribution, CareRecord
from sonar.domain.reset import Appointment
from sonar.eventstore.application import SonarApplication
from sonar.readmodels.base import Change, Tables
from sonar.readmodels.caseload import CaseloadProjection
from sonar.readmodels.runner import ProjectionRunner
from sonar.readmodels.timeline import TimelineProjection
from sonar.sqlstore.store import ReadStore, Tx
from tests.conftest import FakeClock
from tests.e2e.test_serve import _free_port

LEEDS = CommandContext(actor=Actor("sms-1", "sms_worker", "HMP Leeds HC", "HMP Leeds"),
                       correlation_id="it")


def person(app: SonarApplication, n: int) -> Any:
    pid = CommandBus(app).handle(LEEDS, RegisterPatient(
        given_name="Test", family_name=f"Person{n}",
        date_of_birth=datetime(1985, 1, n, tzinfo=UTC).date(), sex="male")).patient_id
    CommandBus(app).handle(LEEDS, ReceiveIntoPrison(patient_id=pid, establishment="HMP Leeds"))
    return pid


def append_poisoned_appointment(app: SonarApplication, patient_id: Any) -> int:
    """Below the API and the domain's checks: an appointment at 0001-01-01 00:30 +14:00,
    which cannot be converted to UTC (as an older SONAR accepted). Returns its position."""
    record = app.get_record(patient_id)
    now = app.clock()
    at = Attribution(LEEDS.actor, "direct_care", "api", "poison", now, now)
    start = datetime(1, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=14)))
    poisoned = object.__new__(Appointment)
    for field, value in (("appointment_id", "poison"), ("kind", "gp"), ("agency", "GP"),
                         ("agency_contact", None), ("starts_at", start),
                         ("ends_at", start + timedelta(hours=1)), ("place", "Leeds")):
        object.__setattr__(poisoned, field, value)
    record.trigger_event(CareRecord.AppointmentBooked, attribution=at, timestamp=now,
                         appointment=poisoned)
    return app.save(record)[-1].notification.id


def positions(runner: ProjectionRunner) -> dict[str, tuple[int, str]]:
    return {s.name: (s.position, s.state) for s in runner.status()}


def test_a_poisoned_event_degrades_only_the_model_that_cannot_store_it(
        sqlite_settings: Settings, clock: FakeClock) -> None:
    """On SQLite, where the read store converts times to UTC (PostgreSQL stores year 1 as it
    is; the next test breaks a model on both stores)."""
    store_settings = sqlite_settings
    app = build_application(store_settings, clock)
    runner = build_runner(store_settings, app)
    runner.migrate()
    first = person(app, 1)
    poison = append_poisoned_appointment(app, first)
    later = person(app, 2)  # events after the poisoned one
    head = app.position()

    assert runner.catch_up() == head  # every healthy model reached the head
    status = positions(runner)
    assert status["diary"] == (poison - 1, "degraded")
    assert all(s == (head, "ok") for name, s in status.items() if name != "diary")
    failure = runner.failures()["diary"]
    assert failure.position == poison
    assert failure.error.startswith("OverflowError")
    assert runner.wait_for(head, timeout=1)  # read-your-writes is not held up by it
    rows = runner.store.fetchall("SELECT patient_id FROM rm_patient")
    assert {r["patient_id"] for r in rows} == {str(first), str(later)}

    # A restart: the same store, a new runner; nothing raises and nothing is re-applied.
    again = build_runner(store_settings, build_application(store_settings, clock))
    again.migrate()
    assert again.catch_up() == head
    assert positions(again)["diary"] == (poison - 1, "degraded")
    # Still broken: a retry records it again, the others are untouched.
    again.retry()
    assert positions(again)["diary"] == (poison - 1, "degraded")
    # A rebuild keeps the model degraded at the same event, in its new generation.
    again.rebuild("diary")
    assert positions(again)["diary"] == (poison - 1, "degraded")


class Broken(TimelineProjection):
    """The timeline with a bug on one event: it writes rows, then raises."""

    broken_at = 5

    def handle(self, tx: Tx, t: Tables, changes: Sequence[Change]) -> None:
        super().handle(tx, t, changes)
        if any(c.position == Broken.broken_at for c in changes):
            raise RuntimeError("a projection bug")


def timeline_positions(store: ReadStore) -> list[int]:
    return sorted(r["position"] for r in store.fetchall("SELECT position FROM rm_timeline"))


def test_a_degraded_model_keeps_what_it_applied_and_resumes_once_fixed(
        store_settings: Settings, clock: FakeClock) -> None:
    app = build_application(store_settings, clock)
    for n in range(1, 5):
        person(app, n)
    head = app.position()
    runner = ProjectionRunner(app, build_read_store(store_settings),
                              [Broken(), CaseloadProjection()], batch_size=3)
    runner.migrate()
    assert runner.catch_up() == head
    assert positions(runner) == {"timeline": (4, "degraded"), "caseload": (head, "ok")}
    assert timeline_positions(runner.store) == [1, 2, 3, 4]  # none of the failed attempts

    Broken.broken_at = -1  # the fix is deployed
    try:
        assert runner.retry() == head
    finally:
        Broken.broken_at = 5
    assert positions(runner) == {"timeline": (head, "ok"), "caseload": (head, "ok")}
    assert timeline_positions(runner.store) == list(range(1, head + 1))  # each once


def test_sonar_serve_starts_on_a_log_with_a_poisoned_event_and_says_degraded(
        tmp_path: Path, clock: FakeClock) -> None:
    settings = Settings(data_dir=tmp_path)
    app = build_application(settings, clock)
    clock.now = datetime.now(UTC)
    append_poisoned_appointment(app, person(app, 1))
    runner = build_runner(settings, app)
    runner.migrate()
    runner.catch_up()
    port = _free_port()
    env = {**os.environ, "SONAR_DATA_DIR": str(tmp_path), "SONAR_LOG_FORMAT": "json"}
    env.pop("SONAR_DATABASE_URL", None)
    sonar = Path(sys.executable).with_name("sonar")
    proc = subprocess.Popen([str(sonar), "serve", "--port", str(port)], env=env,  # noqa: S603
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        health = _wait_for_health(port, proc)
        assert health.status_code == 200
        assert health.json()["status"] == "degraded"
        assert health.json()["degraded"] == [{"read_model": "diary", "position": 3}]
        status = subprocess.run([str(sonar), "projections", "status"], env=env,  # noqa: S603
                                capture_output=True, text=True, timeout=60, check=True)
        assert "degraded" in status.stdout
        assert "sonar projections retry" in status.stdout
        retried = subprocess.run([str(sonar), "projections", "retry"], env=env,  # noqa: S603
                                 capture_output=True, text=True, timeout=60, check=False)
        assert retried.returncode == 1
        assert "still degraded at position 3" in retried.stdout
    finally:
        proc.terminate()
        output = proc.communicate(timeout=20)[0].decode()
    assert "Traceback" not in output


def _wait_for_health(port: int, proc: subprocess.Popen[bytes]) -> httpx.Response:
    import time  # noqa: PLC0415

    deadline = time.monotonic() + 60
    while True:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
        except httpx.TransportError:
            if time.monotonic() > deadline or proc.poll() is not None:
                pytest.fail("sonar serve did not start")
            time.sleep(0.2)
