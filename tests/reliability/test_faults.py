"""Real faults under real load: PostgreSQL connections killed, the server restarted, the
database read-only or full. Nothing acknowledged is lost, nothing is written twice, clients
get retryable 503 problems (never a 500) and the service recovers without a restart.

All faults go to a private cluster (``private_pg``), never the shared test cluster.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from uuid import UUID

import httpx
import pytest
from fastapi import FastAPI

from sonar.api.main import create_app
from sonar.audit import checkpoints
from sonar.bootstrap import build_application, build_record_store, build_runner
from sonar.eventstore.application import SonarApplication
from sonar.readmodels.runner import ProjectionRunner
from tests.e2e.auth_helpers import PASSWORD, SMS_WORKER, add_user
from tests.reliability.conftest import LiveServer, PrivatePostgres, settings_on
from tests.reliability.workload import (
    PATIENTS,
    Clinician,
    Score,
    assert_exactly_once,
    clinical_load,
    new_patient,
    run_clients,
)

pytestmark = pytest.mark.postgres

CLIENTS = 3
LOAD_SECONDS = 8.0


@dataclass
class Service:
    database: str
    app: SonarApplication
    runner: ProjectionRunner
    api: FastAPI
    server: LiveServer
    token: str

    def clinician(self, score: Score) -> Clinician:
        return Clinician(self.server.base_url, self.token, score)


@contextmanager
def service(cluster: PrivatePostgres, *, background_runner: bool = True) -> Iterator[Service]:
    """SONAR as `sonar serve` runs it (read models in the background) on a fresh database."""
    database = cluster.new_database()
    settings = settings_on(cluster.url_for(database))
    app = build_application(settings)
    runner = build_runner(settings, app)
    runner.migrate()
    records = build_record_store(settings)
    api = create_app(settings, app, runner, records)
    add_user(api, SMS_WORKER)
    if background_runner:
        runner.start()
    try:
        with LiveServer(api) as server:
            token = httpx.post(f"{server.base_url}/api/v1/auth/token", timeout=30, data={
                "username": SMS_WORKER.username, "password": PASSWORD}).json()["access_token"]
            yield Service(database, app, runner, api, server, token)
    finally:
        runner.stop()
        app.close()
        runner.store.close()
        records.close()


def fresh_app(cluster: PrivatePostgres, database: str) -> SonarApplication:
    """A new process's view of the log: nothing cached from the service under test."""
    return build_application(settings_on(cluster.url_for(database)))


def log_head(cluster: PrivatePostgres, database: str) -> int:
    """The log's max notification id, read with plain SQL (works on a read-only database,
    without going through the application)."""
    rows = cluster.admin("SELECT coalesce(max(notification_id), 0) FROM sonar_events",
                         database=database)
    return int(rows[0][0])


def assert_recovered(svc: Service, score: Score) -> None:
    """Serving again, without a restart: health, a new command, and read models caught up."""
    deadline = time.monotonic() + 20
    while svc.app.position() == 0 or httpx.get(f"{svc.server.base_url}/health",
                                               timeout=10).status_code != 200:
        assert time.monotonic() < deadline, "/health did not come back"
        time.sleep(0.2)
    after = svc.clinician(score)
    try:
        assert new_patient(after, 999) is not None
    finally:
        after.close()
    assert svc.runner.wait_for(svc.app.position(), timeout=20), "read models did not catch up"


def test_connections_killed_under_load_lose_nothing_and_write_nothing_twice(
        private_pg: PrivatePostgres) -> None:
    score = Score()
    killed: list[int] = []
    stop = threading.Event()
    with service(private_pg) as svc:

        def killer() -> None:
            rng = random.Random(7)
            until = time.monotonic() + LOAD_SECONDS
            for _ in range(200):  # bounded, and only while the load runs
                if stop.wait(rng.uniform(0.3, 0.8)) or time.monotonic() > until:
                    return
                killed.append(private_pg.terminate(svc.database))

        fault = threading.Thread(target=killer, daemon=True)
        clients = [svc.clinician(score) for _ in range(CLIENTS)]
        fault.start()
        try:
            run_clients(clients, lambda c: clinical_load(c, LOAD_SECONDS), timeout=90)
        finally:
            stop.set()
            fault.join(timeout=10)
            for c in clients:
                c.close()
        assert sum(killed) >= 10, f"the fault hardly fired: {killed}"
        assert score.violations == []
        assert set(score.statuses) <= {200, 201, 503}, score.statuses
        assert score.transport_errors == 0, "a client timed out instead of getting an answer"
        assert score.unacknowledged == []
        assert score.refusals == []
        assert len(score.acknowledged) >= 20, "too little load to mean anything"
        assert_recovered(svc, score)
        assert_exactly_once(fresh_app(private_pg, svc.database), score)
        assert checkpoints.verify(fresh_app(private_pg, svc.database), []).broken is None


def test_a_database_restart_under_load_loses_nothing_and_the_service_recovers(
        private_pg: PrivatePostgres) -> None:
    score = Score()
    restarts: list[float] = []
    with service(private_pg) as svc:

        def restarter() -> None:
            for _ in range(2):
                time.sleep(2.0)
                began = time.monotonic()
                private_pg.restart()
                restarts.append(time.monotonic() - began)

        fault = threading.Thread(target=restarter, daemon=True)
        clients = [svc.clinician(score) for _ in range(CLIENTS)]
        fault.start()
        try:
            run_clients(clients, lambda c: clinical_load(c, LOAD_SECONDS), timeout=120)
        finally:
            fault.join(timeout=60)
            for c in clients:
                c.close()
        assert len(restarts) == 2
        assert score.violations == []
        assert set(score.statuses) <= {200, 201, 503}, score.statuses
        assert score.transport_errors == 0, "a client timed out instead of getting an answer"
        assert score.unacknowledged == []
        assert score.refusals == []
        assert len(score.acknowledged) >= 20
        assert_recovered(svc, score)
        assert_exactly_once(fresh_app(private_pg, svc.database), score)
        assert checkpoints.verify(fresh_app(private_pg, svc.database), []).broken is None


def _problem(response: httpx.Response, status: int, rule: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["rule"] == rule
    if status == 503:
        assert response.headers["retry-after"].isdigit()


def test_a_read_only_database_refuses_writes_clearly_and_writes_nothing(
        private_pg: PrivatePostgres) -> None:
    score = Score()
    with service(private_pg) as svc:
        client = svc.clinician(score)
        try:
            pid = new_patient(client, 1)
            assert pid is not None
            before = svc.app.position()
            private_pg.admin(f"ALTER DATABASE {svc.database} SET default_transaction_read_only"
                             " = on")
            private_pg.terminate(svc.database)  # sessions pick the setting up as they reconnect
            for path, body in [("/episodes/1/risk-assessments",
                                {"level": "high", "risks": ["overdose"]}),
                               ("/episodes/1/dual-diagnoses", {"status": "no"})]:
                refused = client.http.post(f"{PATIENTS}/{pid}{path}", json=body,
                                           headers={"Idempotency-Key": f"ro-{path}"})
                _problem(refused, 503, "store.read_only")
            registered = client.http.post(PATIENTS, json={
                "given_name": "Read", "family_name": "Only", "date_of_birth": "1990-01-01",
                "sex": "male"})
            _problem(registered, 503, "store.read_only")
            # Reading identifiable data writes the access log first, so reads are refused
            # the same way: never served unaudited.
            _problem(client.http.get(f"{PATIENTS}/{pid}"), 503, "store.read_only")
            assert httpx.get(f"{svc.server.base_url}/health", timeout=10).status_code == 200
            assert log_head(private_pg, svc.database) == before
            # Tooling still starts on the read-only store (it cannot create tables there):
            auditor = fresh_app(private_pg, svc.database)
            assert checkpoints.verify(auditor, []).ok
            assert auditor.get_record(UUID(str(pid))).version >= 1
            auditor.close()
            private_pg.admin(f"ALTER DATABASE {svc.database} RESET "
                             "default_transaction_read_only")
            private_pg.terminate(svc.database)
            # The client's retry with the same key now goes through, once.
            path = "/episodes/1/risk-assessments"
            again = client.http.post(f"{PATIENTS}/{pid}{path}",
                                     json={"level": "high", "risks": ["overdose"]},
                                     headers={"Idempotency-Key": f"ro-{path}"})
            assert again.status_code == 201, again.text
            assert log_head(private_pg, svc.database) == before + 2  # the entry + its receipt
        finally:
            client.close()


def big_plan(review_date: str) -> dict[str, object]:
    """A care plan of ~10 kB: each one needs fresh pages in the log's table."""
    return {"goals": [f"goal {g} " + "x" * 480 for g in range(20)], "interventions": [],
            "named_worker": "sms-1", "next_review_date": review_date}


def test_a_full_database_refuses_writes_clearly_writes_nothing_and_recovers(
        private_pg: PrivatePostgres) -> None:
    """The log's tables live in a tablespace on a tiny tmpfs: a real ENOSPC from the kernel
    (SQLSTATE 53100 disk_full), not a simulated error. WAL stays on the main volume."""
    if os.geteuid() != 0:
        pytest.skip("mounting the tiny tmpfs needs root (CI runs as root)")
    space = private_pg.mount_tmpfs(f"full{random.randrange(10**6)}", "4m")
    tablespace = f"tiny_{space.name[-6:]}"
    private_pg.admin(f"CREATE TABLESPACE {tablespace} LOCATION '{space}'")
    database = private_pg.new_database()
    private_pg.admin(f"ALTER DATABASE {database} SET default_tablespace = {tablespace}")
    settings = settings_on(private_pg.url_for(database))
    app = build_application(settings)
    runner = build_runner(settings, app)
    runner.migrate()
    records = build_record_store(settings)
    api = create_app(settings, app, runner, records)
    add_user(api, SMS_WORKER)
    score = Score()
    filler = space / "filler"
    review_date = (date.today() + timedelta(days=30)).isoformat()
    try:
        with LiveServer(api) as server:
            token = httpx.post(f"{server.base_url}/api/v1/auth/token", timeout=30, data={
                "username": SMS_WORKER.username, "password": PASSWORD}).json()["access_token"]
            client = Clinician(server.base_url, token, score)
            pid = new_patient(client, 1)
            assert pid is not None
            with filler.open("wb") as out:  # fill the volume to the last block
                for _ in range(10_000):
                    try:
                        out.write(b"\0" * 65536)
                        out.flush()
                    except OSError:
                        break
            refused = None
            for i in range(200):  # a page or two may still have room; then it is full
                before = app.position()
                response = client.http.post(
                    f"{PATIENTS}/{pid}/episodes/1/care-plans",
                    headers={"Idempotency-Key": f"full-{i}"},
                    json=big_plan(review_date))
                assert response.status_code in (201, 503), response.text
                if response.status_code == 503:
                    refused = (i, response)
                    assert log_head(private_pg, database) == before
                    break
            assert refused is not None, "the tablespace never filled up"
            _problem(refused[1], 503, "store.full")
            filler.unlink()  # the operator frees space; the same request now goes through
            again = client.http.post(
                f"{PATIENTS}/{pid}/episodes/1/care-plans",
                headers={"Idempotency-Key": f"full-{refused[0]}"},
                json=big_plan(review_date))
            assert again.status_code == 201, again.text
            assert checkpoints.verify(fresh_app(private_pg, database), []).broken is None
            client.close()
    finally:
        app.close()
        runner.store.close()
        private_pg.admin(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        private_pg.admin(f"DROP TABLESPACE IF EXISTS {tablespace}")
