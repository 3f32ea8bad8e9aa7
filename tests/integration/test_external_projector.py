"""Read models kept by `sonar worker` in its own process, woken by the log's NOTIFY, while
the application's process only watches their positions (SONAR_PROJECTIONS_EXTERNAL)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import httpx
import pytest

from sonar.auth.users import UserDirectory
from sonar.bootstrap import build_application, build_record_store, build_runner
from sonar.commands.context import CommandContext
from sonar.commands.journey import ReceiveIntoPrison, Transfer
from sonar.commands.pipeline import CommandBus
from sonar.commands.record import RegisterPatient
from sonar.config import Settings
from sonar.domain import Actor
from sonar.readmodels.record import get_record
from tests.e2e.auth_helpers import PASSWORD, SECRET, SMS_WORKER

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
        pid = CommandBus(app).handle(CTX, RegisterPatient(
            given_name="Ext", family_name="Worker", date_of_birth=date(1990, 2, 2),
            sex="female")).patient_id
        for establishment in ("HMP Leeds", "HMP Hull"):  # each commit wakes the worker
            if establishment == "HMP Leeds":
                position = CommandBus(app).handle(CTX, ReceiveIntoPrison(
                    patient_id=pid, establishment=establishment)).position
            else:
                position = CommandBus(app).handle(CTX, Transfer(
                    patient_id=pid, to_establishment=establishment)).position
            assert runner.wait_for(position, timeout=45), "the worker was not woken"
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


def _wait_healthy(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert proc.poll() is None, "sonar serve exited"
        assert time.monotonic() < deadline, "sonar serve did not start"
        time.sleep(0.2)


@pytest.mark.postgres
def test_serve_leaves_the_read_models_to_the_worker(postgres_settings: Settings) -> None:
    """With SONAR_PROJECTIONS_EXTERNAL, `sonar serve` reads its own writes through the
    worker's read models, and without the worker they fall behind (503), never caught up
    by serve itself."""
    store = build_record_store(postgres_settings)
    users = UserDirectory(store)
    users.add(SMS_WORKER.username, PASSWORD, role=SMS_WORKER.role,
              organisation=SMS_WORKER.organisation, site=SMS_WORKER.site)
    store.close()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "SONAR_DATABASE_URL": postgres_settings.database_url or "",
           "SONAR_DATABASE_SCHEMA": postgres_settings.database_schema or "",
           "SONAR_AUTH_SECRET": SECRET, "SONAR_LOG_FORMAT": "json",
           "SONAR_PROJECTIONS_EXTERNAL": "true"}
    sonar = str(Path(sys.executable).with_name("sonar"))
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    serve = subprocess.Popen([sonar, "serve", "--port", str(port)], env=env, **quiet)  # noqa: S603
    worker = subprocess.Popen([sonar, "worker", "--source", "log"], env=env, **quiet)  # noqa: S603
    try:
        _wait_healthy(url, serve)
        token = httpx.post(f"{url}/api/v1/auth/token", timeout=10, data={
            "username": SMS_WORKER.username, "password": PASSWORD}).json()["access_token"]
        api = httpx.Client(base_url=f"{url}/api/v1", timeout=30,
                           headers={"Authorization": f"Bearer {token}"})
        pid = api.post("/patients", json={"given_name": "Ext", "family_name": "Serve",
                                 "date_of_birth": "1991-03-03", "sex": "male"}
                       ).json()["patient_id"]
        at = api.post(f"/patients/{pid}/custody/prison-receptions",
                      json={"establishment": "HMP Leeds"}).json()["position"]
        read = api.get(f"/patients/{pid}/record", params={"min_position": at})
        assert (read.status_code, read.json()["location"]) == (200, "HMP Leeds"), read.text
        worker.terminate()
        assert worker.wait(timeout=20) == 0
        later = api.post(f"/patients/{pid}/custody/transfers",
                         json={"to_establishment": "HMP Hull"}).json()["position"]
        behind = api.get(f"/patients/{pid}/record", params={"min_position": later})
        assert (behind.status_code, behind.json()["rule"]) == (503, "read_model.behind")
        api.close()
    finally:
        for proc in (worker, serve):
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=20)
