"""Tamper evidence on real stores: alter, delete or reorder a stored row and verify fails
at exactly that row; an untouched log verifies; checkpoints catch a truncated tail."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta
from typing import Any

import psycopg
import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from sonar.audit import checkpoints as cp
from sonar.audit.time_travel import record_as_of
from sonar.bootstrap import build_application, build_record_store
from sonar.cli import cli, register_subcommands
from sonar.commands.context import CommandContext
from sonar.commands.journey import ReceiveIntoPrison, Transfer
from sonar.commands.pathway import AssessRisk, RecordReferralOutcome, ReferToSms
from sonar.commands.pipeline import CommandBus
from sonar.commands.record import MarkEnteredInError, RegisterPatient
from sonar.config import Settings
from sonar.domain import Actor
from sonar.eventstore.application import SonarApplication
from tests.conftest import FakeClock

CTX = CommandContext(actor=Actor("sms-1", "sms_worker", "HMP Leeds HC", "HMP Leeds"),
                     correlation_id="audit")


def seed(app: SonarApplication, clock: FakeClock, people: int = 3) -> list[Any]:
    ids = []
    for n in range(people):
        pid = CommandBus(app).handle(CTX, RegisterPatient(
            given_name="Ada", family_name=f"Test{n}", date_of_birth=date(1980, 1, 1 + n),
            sex="female")).patient_id
        CommandBus(app).handle(CTX, ReceiveIntoPrison(patient_id=pid, establishment="HMP Leeds"))
        CommandBus(app).handle(CTX, Transfer(patient_id=pid, to_establishment="HMP Hull"))
        clock.advance(minutes=5)
        ids.append(pid)
    return ids


def tamper(settings: Settings, sql_sqlite: str, sql_pg: str, *params: Any) -> None:
    """Change stored rows directly, as someone with database access could."""
    if settings.database_url:
        with psycopg.connect(settings.database_url, autocommit=True) as conn:
            conn.execute(f"SET search_path TO {settings.database_schema}")
            conn.execute(sql_pg, params)
    else:
        conn = sqlite3.connect(settings.sqlite_path)
        conn.execute(sql_sqlite, params)
        conn.commit()
        conn.close()


def key(settings: Settings, patient_id: Any) -> Any:
    """How the store writes an originator id: a UUID in PostgreSQL, hex text in SQLite."""
    return patient_id if settings.database_url else patient_id.hex


def events_table(settings: Settings) -> str:
    return "sonar_events" if settings.database_url else "stored_events"


def test_an_untouched_log_verifies(store_settings: Settings, clock: FakeClock) -> None:
    app = build_application(store_settings, clock)
    seed(app, clock)
    report = cp.verify(app, [])
    assert report.ok
    assert report.checked == app.position()


def test_an_altered_event_breaks_the_chain_at_that_row(store_settings: Settings,
                                                       clock: FakeClock) -> None:
    app = build_application(store_settings, clock)
    patients = seed(app, clock)
    table = events_table(store_settings)
    target = str(patients[1])
    tamper(store_settings,
           f"UPDATE {table} SET state = CAST(replace(state, 'HMP Hull', 'HMP Leed') AS BLOB) "  # noqa: S608
           "WHERE originator_id = ? AND originator_version = 3",
           f"UPDATE {table} SET state = convert_to(replace(convert_from(state, 'UTF8'), "  # noqa: S608
           "'HMP Hull', 'HMP Leed'), 'UTF8') WHERE originator_id = %s "
           "AND originator_version = 3", key(store_settings, patients[1]))
    report = cp.verify(app, [])
    assert report.broken is not None
    assert (report.broken.originator_id, report.broken.version) == (target, 3)
    assert "altered" in report.broken.reason


def test_a_deleted_event_breaks_the_chain(store_settings: Settings, clock: FakeClock) -> None:
    app = build_application(store_settings, clock)
    patients = seed(app, clock)
    table = events_table(store_settings)
    pid = key(store_settings, patients[0])
    tamper(store_settings,
           f"DELETE FROM {table} WHERE originator_id = ? AND originator_version = 2",  # noqa: S608
           f"DELETE FROM {table} WHERE originator_id = %s AND originator_version = 2",  # noqa: S608
           pid)
    report = cp.verify(app, [])
    assert report.broken is not None
    assert report.broken.version == 3
    assert "deleted or reordered" in report.broken.reason


def test_reordered_events_break_the_chain(store_settings: Settings, clock: FakeClock) -> None:
    app = build_application(store_settings, clock)
    patients = seed(app, clock)
    table = events_table(store_settings)
    pid = key(store_settings, patients[2])
    placeholder = "%s" if store_settings.database_url else "?"
    for step in ("UPDATE {t} SET originator_version = 99 WHERE originator_id = {p} "
                 "AND originator_version = 2",  # through a free version: the key is unique
                 "UPDATE {t} SET originator_version = 2 WHERE originator_id = {p} "
                 "AND originator_version = 3",
                 "UPDATE {t} SET originator_version = 3 WHERE originator_id = {p} "
                 "AND originator_version = 99"):
        sql = step.format(t=table, p=placeholder)
        tamper(store_settings, sql, sql, pid)
    report = cp.verify(app, [])
    assert report.broken is not None
    assert report.broken.originator_id == str(patients[2])
    assert report.broken.version in (2, 3)


def test_a_checkpoint_catches_a_truncated_tail(store_settings: Settings,
                                               clock: FakeClock) -> None:
    app = build_application(store_settings, clock)
    patients = seed(app, clock)
    store = build_record_store(store_settings)
    taken = cp.take_checkpoint(app, store)
    assert cp.verify(app, cp.stored_checkpoints(store)).checkpoints_checked == 1
    last = key(store_settings, patients[-1])
    table = events_table(store_settings)
    tamper(store_settings,
           f"DELETE FROM {table} WHERE originator_id = ? AND originator_version = 3",  # noqa: S608
           f"DELETE FROM {table} WHERE originator_id = %s AND originator_version = 3",  # noqa: S608
           last)
    assert cp.verify(app, []).ok  # the chain alone cannot see a missing last event
    report = cp.verify(app, cp.load_checkpoints_from_text(cp.export_checkpoints([taken])))
    assert report.broken is not None
    assert "deleted" in report.broken.reason or "truncated" in report.broken.reason


def test_tampering_is_caught_with_encryption_at_rest(sqlite_settings: Settings,
                                                     clock: FakeClock) -> None:
    key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="  # test key only
    settings = sqlite_settings.model_copy(update={"cipher_key": SecretStr(key)})
    app = build_application(settings, clock)
    patients = seed(app, clock)
    assert cp.verify(app, []).ok
    # A different last byte (the cipher's output is random: it may already end in 00).
    tamper(settings, "UPDATE stored_events SET state = CAST(substr(state, 1, length(state) - 1) "
           "|| CASE WHEN substr(state, length(state), 1) = X'00' THEN X'01' ELSE X'00' END "
           "AS BLOB) WHERE originator_id = ? AND originator_version = 2", "", patients[0].hex)
    report = cp.verify(app, [])
    assert report.broken is not None
    assert report.broken.version == 2


def test_audit_verify_command_exits_non_zero_naming_the_first_broken_link(
        sqlite_settings: Settings, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    app = build_application(sqlite_settings, clock)
    patients = seed(app, clock)
    monkeypatch.setenv("SONAR_DATA_DIR", str(sqlite_settings.data_dir))
    runner = CliRunner()
    register_subcommands()
    ok = runner.invoke(cli, ["audit", "verify"])
    assert ok.exit_code == 0, ok.output
    assert f"{app.position()} events" in ok.output
    tamper(sqlite_settings, "UPDATE stored_events SET state = CAST(replace(state, 'Leeds', "
           "'Luton') AS BLOB) WHERE originator_id = ? AND originator_version = 2", "",
           patients[1].hex)
    broken = runner.invoke(cli, ["audit", "verify"])
    assert broken.exit_code == 1
    assert f"stream {patients[1]}, version 2" in broken.output


def test_time_travel_shows_an_entry_as_it_stood_before_it_was_marked_in_error(
        store_settings: Settings, clock: FakeClock) -> None:
    app = build_application(store_settings, clock)
    pid = seed(app, clock, people=1)[0]
    CommandBus(app).handle(CTX, ReferToSms(
        patient_id=pid, source="self", substances=["heroin"], injecting_status="never",
        previously_treated=False))
    CommandBus(app).handle(CTX, RecordReferralOutcome(
        patient_id=pid, episode=1, outcome="accepted"))
    clock.advance(hours=1)
    CommandBus(app).handle(CTX, AssessRisk(
        patient_id=pid, episode=1, level="high", risks=["overdose"]))
    before_correction = clock.now + timedelta(minutes=1)
    clock.advance(hours=1)
    risk_version = app.get_record(pid).version
    CommandBus(app).handle(CTX, MarkEnteredInError(
        patient_id=pid, entry_version=risk_version, reason="Wrong patient"))
    then = record_as_of(app, pid, before_correction)
    assert then is not None
    assert then["risk_level"] == "high"
    entry = then["detail"]["episodes"][0]["entries"][0]
    assert entry["in_error"] is None
    now = record_as_of(app, pid, clock.now)
    assert now is not None
    assert now["risk_level"] is None
    assert now["detail"]["episodes"][0]["entries"][0]["in_error"] == "Wrong patient"
    assert record_as_of(app, pid, clock.now - timedelta(days=3)) is None
