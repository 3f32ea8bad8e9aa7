"""SONAR's PostgreSQL recorders: one statement per commit that still locks the table (ids in
commit order), notifies listeners, refuses a clash, and falls back when its function is
missing; snapshots stored as binary arrays, read back as the record folded from its events."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import date
from uuid import uuid4

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent

from sonar.bootstrap import build_application
from sonar.commands.context import CommandContext
from sonar.commands.pathway import AssessRisk, RecordReferralOutcome, ReferToSms
from sonar.commands.pipeline import CommandBus
from sonar.commands.record import RegisterPatient
from sonar.config import Settings
from sonar.domain import Actor
from sonar.eventstore.application import SonarApplication, fold
from sonar.eventstore.pg_recorder import SonarPostgresRecorder, SonarSnapshotRecorder

pytestmark = pytest.mark.postgres


def _events(n: int, first_version: int = 1) -> list[StoredEvent]:
    oid = uuid4()
    return [StoredEvent(oid, first_version + i, "t:T", f'{{"n":{i}}}'.encode())
            for i in range(n)]


_APPS: list[SonarApplication] = []  # an application closes its pool when collected


def _recorder(settings: Settings) -> SonarPostgresRecorder:
    app = build_application(settings)
    _APPS.append(app)
    assert isinstance(app.recorder, SonarPostgresRecorder)
    return app.recorder


@pytest.fixture(autouse=True)
def _close_apps() -> Iterator[None]:
    yield
    while _APPS:
        _APPS.pop().close()


def _url(settings: Settings) -> str:
    assert settings.database_url is not None
    return settings.database_url


def _table(settings: Settings) -> str:
    return f"{settings.database_schema}.sonar_events"


def test_inserts_return_the_notification_ids_in_order(postgres_settings: Settings) -> None:
    recorder = _recorder(postgres_settings)
    first = recorder.insert_events(_events(3))
    second = recorder.insert_events(_events(2))
    assert first is not None
    assert second is not None
    assert list(first) + list(second) == list(range(first[0], first[0] + 5))
    stored = recorder.select_notifications(start=first[0], limit=10)
    assert [n.state for n in stored[:3]] == [b'{"n":0}', b'{"n":1}', b'{"n":2}']


def test_a_clash_on_a_version_is_an_integrity_error_and_writes_nothing(
        postgres_settings: Settings) -> None:
    recorder = _recorder(postgres_settings)
    events = _events(2)
    recorder.insert_events(events[:1])
    with pytest.raises(IntegrityError):
        recorder.insert_events(events)  # version 1 again, with version 2
    assert [e.originator_version for e in recorder.select_events(events[0].originator_id)] == [1]


def test_the_insert_takes_the_exclusive_table_lock(postgres_settings: Settings) -> None:
    """ROW SHARE conflicts with EXCLUSIVE but not with a plain INSERT's ROW EXCLUSIVE: the
    insert waits for it only if it locks the table as the library does."""
    recorder = _recorder(postgres_settings)
    url = _url(postgres_settings)
    done = threading.Event()
    with psycopg.connect(url) as holder:
        holder.execute(f"LOCK TABLE {_table(postgres_settings)} IN ROW SHARE MODE")
        thread = threading.Thread(target=lambda: (recorder.insert_events(_events(1)),
                                                  done.set()))
        thread.start()
        time.sleep(0.5)
        assert not done.is_set()
        holder.rollback()
    thread.join(5)
    assert done.is_set()


def test_listeners_are_notified(postgres_settings: Settings) -> None:
    recorder = _recorder(postgres_settings)
    url = _url(postgres_settings)
    with psycopg.connect(url, autocommit=True) as listener:
        listener.execute(f'LISTEN "{recorder.channel_name}"')
        recorder.insert_events(_events(1))
        received = list(listener.notifies(timeout=30, stop_after=1))  # at once, unless loaded
    assert [n.channel for n in received] == [recorder.channel_name]


def test_without_its_function_the_library_insert_is_used(postgres_settings: Settings) -> None:
    recorder = _recorder(postgres_settings)
    url = _url(postgres_settings)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP FUNCTION {postgres_settings.database_schema}.sonar_insert_sonar_events")
    ids = recorder.insert_events(_events(2))
    assert ids is not None
    assert len(ids) == 2
    assert len(recorder.select_notifications(start=1, limit=10)) == 2


def test_snapshots_are_stored_in_binary_and_load_as_the_folded_record(
        postgres_settings: Settings) -> None:
    app = build_application(postgres_settings)
    _APPS.append(app)
    assert app.snapshots is not None
    assert isinstance(app.snapshots.recorder, SonarSnapshotRecorder)
    ctx = CommandContext(actor=Actor("sms-1", "sms_worker", "HMP Leeds Healthcare", "HMP Leeds"),
                         correlation_id="snapshot-test")
    pid = CommandBus(app).handle(ctx, RegisterPatient(
        given_name="Sam", family_name="Holt", date_of_birth=date(1990, 5, 1),
        sex="male")).patient_id
    CommandBus(app).handle(ctx, ReferToSms(
        patient_id=pid, source="self", substances=["alcohol"], injecting_status="never",
        previously_treated=False))
    CommandBus(app).handle(ctx, RecordReferralOutcome(
        patient_id=pid, episode=1, outcome="accepted"))
    for i in range(110):
        CommandBus(app).handle(ctx, AssessRisk(
            patient_id=pid, episode=1, level=("low", "medium", "high")[i % 3], risks=[]))
    stored = app.snapshots.recorder.select_events(pid)
    assert [s.originator_version for s in stored] == [50, 100]
    assert all(bytes(s.state)[:1] == b"\x80" for s in stored)  # pickled, stored unescaped
    cold = build_application(postgres_settings)  # nothing cached: loads from the snapshot
    _APPS.append(cold)
    loaded = cold.get_record(pid)
    folded = fold(None, cold.events.get(pid))
    assert loaded.version == folded.version == 113
    assert vars(loaded) == vars(folded)
    with pytest.raises(IntegrityError):  # a snapshot of a version already stored
        app.snapshots.recorder.insert_events(stored[:1])
