"""Read models kept by `sonar worker` in its own process, woken by the log's NOTIFY, while
the application's process only watches their positions (SONAR_PROJECTIONS_EXTERNAL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from sonar.app.context import CommandContext
from sonar.bootstrap import build_application, build_runner
from sonar.config import Settings
from sonar.domain import Actor, Demographics, Identity
from sonar.projections.record import get_record

CTX = CommandContext(actor=Actor("sms-1", "sms_worker", "HMP Leeds HC", "HMP Leeds"),
                     correlation_id="external")


@pytest.mark.postgres
def test_a_worker_process_keeps_the_read_models_and_is_woken_by_each_commit(
        postgres_settings: Settings) -> None:
    settings = postgres_settings.model_copy(update={"projections_external": True})
    app = build_application(settings)
    runner = build_runner(settings, app)
    assert runner.external
    runner.migrate()
    env = {**os.environ, "SONAR_DATABASE_URL": settings.database_url or "",
           "SONAR_DATABASE_SCHEMA": settings.database_schema or "", "SONAR_LOG_FORMAT": "json"}
    sonar = str(Path(sys.executable).with_name("sonar"))
    # A 60 s poll: only the NOTIFY can make the worker catch up within wait_for's timeout.
    worker = subprocess.Popen([sonar, "worker", "--source", "log", "--interval", "60"],  # noqa: S603
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert runner.wait_for(0, timeout=30)
        pid = app.register_patient(CTX, Identity(), Demographics(
            "Ext", "Worker", date(1990, 2, 2), "female")).patient_id
        for establishment in ("HMP Leeds", "HMP Hull"):  # each commit wakes the worker
            if establishment == "HMP Leeds":
                position = app.receive_into_prison(CTX, pid, establishment, None).position
            else:
                position = app.transfer(CTX, pid, establishment).position
            assert runner.wait_for(position, timeout=20), "the worker was not woken"
            row = get_record(runner.store, str(pid), date(2026, 3, 2))
            assert row is not None
            assert row["location"] == establishment
        assert runner._applied == 0
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        finally:
            if worker.poll() is None:
                worker.kill()
    assert worker.returncode == 0, (worker.stdout.read() if worker.stdout else b"")[-2000:]
