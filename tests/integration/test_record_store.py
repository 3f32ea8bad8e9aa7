"""The records' store: users, the access log, the notification outbox and audit checkpoints
live apart from the read models (their own SQLite file, their own PostgreSQL schema), a
rebuild of the read models never touches them, and a store made when they lived with the
read models has them moved across, rows, triggers and all."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from sonar.audit import checkpoints
from sonar.audit.access_log import AccessLog, AccessRecord
from sonar.auth.users import UserDirectory
from sonar.bootstrap import (
    RECORD_TABLES,
    build_application,
    build_dispatcher,
    build_read_store,
    build_record_store,
)
from sonar.cli import cli, register_subcommands
from sonar.config import Settings
from sonar.notifications import outbox
from sonar.sqlstore.records import RecordStore
from tests.e2e.auth_helpers import PASSWORD, SMS_WORKER, api_client, settings_for, sign_in
from tests.e2e.test_api import received_and_referred

ARGON2 = "$argon2"  # how every stored password hash starts


def tables_of(settings: Settings) -> tuple[set[str], set[str]]:
    """The tables of the read models' store and of the records' store."""
    if settings.database_url is None:
        return _sqlite_tables(settings.read_models_path), _sqlite_tables(settings.records_path)
    with psycopg.connect(settings.database_url) as conn:
        def tables(schema: str | None) -> set[str]:
            return {r[0] for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
                "AND table_type = 'BASE TABLE'", [schema]).fetchall()}
        return tables(settings.database_schema), tables(settings.records_schema)


def _sqlite_tables(path: Any) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


@contextmanager
def signed_in(settings: Settings) -> Iterator[TestClient]:
    """The API with a clinician signed in who has read one patient (an access-log row)."""
    with api_client(settings_for(settings.data_dir, database_url=settings.database_url,
                                 database_schema=settings.database_schema),
                    lambda: datetime.now(UTC)) as client:
        client.headers.update(sign_in(client, SMS_WORKER))
        pid = received_and_referred(client)
        assert client.get(f"/api/v1/patients/{pid}").status_code == 200
        yield client


def test_users_access_log_outbox_and_checkpoints_are_not_in_the_read_models_store(
        store_settings: Settings) -> None:
    with signed_in(store_settings) as client:
        app = client.app.state.application  # type: ignore[attr-defined]
        records: RecordStore = client.app.state.users.store  # type: ignore[attr-defined]
        checkpoints.take_checkpoint(app, records)
        build_dispatcher(store_settings, app, records,
                         client.app.state.runner.store).enqueue()  # type: ignore[attr-defined]
        read_models, kept = tables_of(store_settings)
    assert set(RECORD_TABLES) <= kept
    assert not read_models & set(RECORD_TABLES)
    assert "rm_meta" in read_models  # the read models are there, and only there
    assert any(t.startswith("rm_patient_g") for t in read_models)
    assert not any(t.startswith("rm_") for t in kept)


def test_the_read_models_store_holds_no_password_hash(sqlite_settings: Settings) -> None:
    with signed_in(sqlite_settings):
        pass
    dump = "\n".join(sqlite3.connect(sqlite_settings.read_models_path).iterdump())
    assert ARGON2 not in dump
    assert SMS_WORKER.username not in dump


def test_a_rebuild_of_the_read_models_leaves_the_records_alone(
        store_settings: Settings) -> None:
    with signed_in(store_settings) as client:
        state = client.app.state  # type: ignore[attr-defined]
        records: RecordStore = state.users.store
        taken = checkpoints.take_checkpoint(state.application, records)
        reads = state.access_log.search(actor_id=SMS_WORKER.username)
        state.runner.rebuild_many([p.name for p in state.runner.projections])
        assert state.users.authenticate(SMS_WORKER.username, PASSWORD) is not None
        assert state.access_log.search(actor_id=SMS_WORKER.username) == reads
        assert checkpoints.stored_checkpoints(records) == [taken]


def _legacy_records(settings: Settings) -> int:
    """What an older SONAR left: the records' tables in the read models' store, with rows.
    Returns the access log's last id."""
    app = build_application(settings)
    sql = build_read_store(settings)
    legacy = RecordStore(sql)  # type: ignore[arg-type]  # the read models' store itself
    try:
        users = UserDirectory(legacy)
        users.migrate()
        users.add(SMS_WORKER.username, PASSWORD, role=SMS_WORKER.role,
                  organisation=SMS_WORKER.organisation, site=SMS_WORKER.site)
        log = AccessLog(legacy)
        log.migrate()
        for _ in range(2):
            log.append(_read())
        checkpoints.take_checkpoint(app, legacy)
        outbox.migrate(legacy)
        with legacy.transaction() as tx:
            tx.execute("UPDATE notification_position SET position = 7 WHERE name = 'missed'")
        return int(legacy.fetchall("SELECT max(id) AS id FROM access_log")[0]["id"])
    finally:
        sql.close()
        app.close()


def _read() -> AccessRecord:
    return AccessRecord(datetime.now(UTC), "sms-1", "sms_worker", "Org", "Site", "direct_care",
                        "GET", "/api/v1/patients/{patient_id}", ("p-1",), 200, False, "c-1")


def test_records_kept_with_the_read_models_by_an_older_version_are_moved_to_their_store(
        store_settings: Settings) -> None:
    last_id = _legacy_records(store_settings)
    assert set(RECORD_TABLES) <= tables_of(store_settings)[0]
    records = build_record_store(store_settings)
    try:
        read_models, kept = tables_of(store_settings)
        assert not read_models & set(RECORD_TABLES)
        assert set(RECORD_TABLES) <= kept
        assert UserDirectory(records).authenticate(SMS_WORKER.username, PASSWORD) is not None
        log = AccessLog(records)
        log.append(_read())  # the id goes on from where it was
        assert [r["id"] for r in log.search(actor_id="sms-1")] == [1, 2, last_id + 1]
        assert len(checkpoints.stored_checkpoints(records)) == 1
        assert records.fetchall("SELECT position FROM notification_position")[0][
            "position"] == 7
        with pytest.raises(Exception, match="append-only"), records.transaction() as tx:
            tx.execute("DELETE FROM access_log")  # still refused where it is now
    finally:
        records.close()
    build_record_store(store_settings).close()  # a second start finds nothing to move
    if store_settings.database_url:  # the triggers' function moved with the table
        with psycopg.connect(store_settings.database_url) as conn:
            assert conn.execute("SELECT to_regprocedure(%s)", [
                f"{store_settings.database_schema}.access_log_append_only()"]
                                ).fetchone() == (None,)


def test_a_move_cut_short_is_finished_on_the_next_start(sqlite_settings: Settings) -> None:
    """SQLite copies, commits, then drops: a crash in between leaves the rows in both
    files, and the next start drops them without copying any row twice."""
    _legacy_records(sqlite_settings)
    build_record_store(sqlite_settings).close()
    with sqlite3.connect(sqlite_settings.read_models_path) as conn:  # as if never dropped
        conn.execute("ATTACH DATABASE ? AS kept", [str(sqlite_settings.records_path)])
        conn.execute("CREATE TABLE access_log AS SELECT * FROM kept.access_log")
    records = build_record_store(sqlite_settings)
    try:
        assert "access_log" not in tables_of(sqlite_settings)[0]
        assert [r["id"] for r in AccessLog(records).search(actor_id="sms-1")] == [1, 2]
    finally:
        records.close()


@pytest.mark.postgres
def test_sonar_migrate_makes_the_records_schema(postgres_settings: Settings) -> None:
    register_subcommands()
    env = {"SONAR_DATABASE_URL": postgres_settings.database_url or "",
           "SONAR_DATABASE_SCHEMA": postgres_settings.database_schema or ""}
    done = CliRunner().invoke(cli, ["migrate"], env=env)
    assert done.exit_code == 0, done.output
    assert set(RECORD_TABLES) <= tables_of(postgres_settings)[1]
