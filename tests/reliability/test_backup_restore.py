"""Backup and restore with the documented procedure (scripts/backup, scripts/restore): a store
restored into an empty database, with every read model rebuilt from the restored log, gives
identical reports, the same log byte for byte, its users and checkpoints back (the records'
schema is in the backup), a passing `sonar audit verify`, and takes new writes after the old
head."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from sonar.api.main import create_app
from sonar.audit import checkpoints
from sonar.bootstrap import build_application, build_record_store, build_runner
from sonar.cli.demo import seed_cohort
from sonar.config import Settings
from tests.e2e.auth_helpers import PASSWORD, SMS_WORKER, add_user

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
PATIENTS = 25


@contextmanager
def serving(settings: Settings) -> Iterator[TestClient]:
    app = build_application(settings)
    runner = build_runner(settings, app)
    runner.migrate()
    records = build_record_store(settings)
    api = create_app(settings, app, runner, records)
    try:
        with TestClient(api, raise_server_exceptions=False) as client:
            yield client
    finally:
        app.close()
        runner.store.close()
        records.close()


def _sign_in(client: TestClient) -> None:
    token = client.post("/api/v1/auth/token", data={"username": SMS_WORKER.username,
                                                    "password": PASSWORD})
    assert token.status_code == 200, token.text  # users come back with the backup
    client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"


def reports(client: TestClient, head: int) -> dict[str, Any]:
    """Every report and list a manager or analyst reads, as JSON and CSV."""
    today = date.today()
    period = {"from": (today - timedelta(days=400)).isoformat(), "to": today.isoformat(),
              "min_position": head}
    found: dict[str, Any] = {}
    for name, path, params in [
        ("workforce", "/api/v1/reports/workforce", {"min_position": head, "within_days": 90}),
        ("outcomes", "/api/v1/reports/outcomes", period),
        ("continuity", "/api/v1/reports/continuity", period),
        ("caseload", "/api/v1/caseloads", {"site": "HMP Leeds", "min_position": head,
                                           "limit": 500}),
    ]:
        as_json = client.get(path, params=params)
        assert as_json.status_code == 200, as_json.text
        as_csv = client.get(path, params=params, headers={"Accept": "text/csv"})
        assert as_csv.status_code == 200, as_csv.text
        found[name] = (as_json.json(), as_csv.text)
    return found


def log_rows(url: str, schema: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            f"SELECT notification_id, originator_id, originator_version, topic, md5(state) "  # noqa: S608
            f"FROM {schema}.sonar_events ORDER BY notification_id").fetchall()


def env_for(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SONAR_")}
    env |= {"SONAR_DATABASE_URL": settings.database_url or "",
            "SONAR_DATABASE_SCHEMA": settings.database_schema or "",
            "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ.get('PATH', '')}"}
    return env


@pytest.fixture
def empty_database(postgres_settings: Settings) -> Iterator[str]:
    """A new, empty database on the test server, dropped afterwards."""
    url = postgres_settings.database_url
    assert url is not None
    name = f"restore_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield url.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_restore_into_an_empty_database_rebuilds_identical_reports_and_verifies(
        postgres_settings: Settings, empty_database: str, tmp_path: Path) -> None:
    source = postgres_settings
    app = build_application(source)
    seed_cohort(app, PATIENTS)
    head = app.position()
    assert head > PATIENTS * 5
    records = build_record_store(source)
    try:
        checkpoints.take_checkpoint(app, records)  # verify checks it after the restore
    finally:
        records.close()
        app.close()
    with serving(source) as client:
        add_user(client.app, SMS_WORKER)  # type: ignore[arg-type]
        _sign_in(client)
        before = reports(client, head)
    assert before["outcomes"][0]["referral_outcomes"], "the cohort should fill the reports"

    backup = tmp_path / "sonar.dump"
    subprocess.run([str(ROOT / "scripts" / "backup"), str(backup)], env=env_for(source),  # noqa: S603
                   check=True, capture_output=True, text=True, timeout=120)

    target = source.model_copy(update={"database_url": empty_database})
    restored = subprocess.run([str(ROOT / "scripts" / "restore"), str(backup)],  # noqa: S603
                              env=env_for(target), check=False, capture_output=True,
                              text=True, timeout=300)
    assert restored.returncode == 0, restored.stderr[-3000:]
    assert restored.stdout.startswith(f"OK: {head} events, 1 checkpoints verified"), (
        restored.stdout)

    # The log is the same, row for row and byte for byte.
    assert log_rows(empty_database, source.database_schema or "public") == log_rows(
        source.database_url or "", source.database_schema or "public")
    # Every read model was rebuilt from it (a new generation), not just copied.
    with psycopg.connect(empty_database) as conn:
        metas = conn.execute(f"SELECT projection, generation, position FROM "  # noqa: S608
                             f"{source.database_schema}.rm_meta").fetchall()
    assert metas
    assert all(generation >= 2 for _, generation, _ in metas), metas
    assert all(position == head for _, _, position in metas), metas
    # Users, the access log, the outbox and checkpoints came back in their own schema.
    with psycopg.connect(empty_database) as conn:
        kept = {r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            [source.records_schema]).fetchall()}
    assert {"auth_user", "access_log", "notification", "audit_checkpoint"} <= kept, kept

    with serving(target) as client:
        _sign_in(client)
        after = reports(client, head)
        assert after == before
        # The restored store carries on: a new write lands after the old head.
        made = client.post("/api/v1/patients", json={
            "given_name": "After", "family_name": "Restore", "date_of_birth": "1990-01-01",
            "sex": "male"})
        assert made.status_code == 201, made.text
        assert made.json()["position"] == head + 1
    assert checkpoints.verify(build_application(target), []).broken is None


def test_restore_refuses_a_database_that_already_holds_a_store(
        postgres_settings: Settings, tmp_path: Path) -> None:
    app = build_application(postgres_settings)
    seed_cohort(app, 2)
    head = app.position()
    app.close()
    backup = tmp_path / "sonar.dump"
    subprocess.run([str(ROOT / "scripts" / "backup"), str(backup)],  # noqa: S603
                   env=env_for(postgres_settings), check=True, capture_output=True,
                   timeout=120)
    refused = subprocess.run([str(ROOT / "scripts" / "restore"), str(backup)],  # noqa: S603
                             env=env_for(postgres_settings), check=False,
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode != 0
    assert "already has" in refused.stderr
    assert build_application(postgres_settings).position() == head
