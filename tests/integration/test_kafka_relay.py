"""The relay and the Kafka projection workers on a real broker, over SQLite and PostgreSQL.

Nothing here is mocked: events are written through the application, relayed to a real
Apache Kafka broker, and read back by real consumers. The read models built through Kafka are
compared row for row with the ones the in-process runner builds from the log.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from devtools.kafka_broker import KafkaBroker, KafkaBrokerError
from kafka import KafkaConsumer, TopicPartition
from pydantic import SecretStr

from sonar.adapters.kafka.envelope import from_envelope, is_published, to_envelope
from sonar.adapters.kafka.relay import KafkaRelay
from sonar.adapters.kafka.worker import KafkaProjectionWorker
from sonar.bootstrap import build_application, build_read_store
from sonar.commands.context import CommandContext
from sonar.commands.journey import ReceiveIntoPrison, ReleaseFromPrison, Transfer
from sonar.commands.pathway import AssessRisk, RecordReferralOutcome, ReferToSms
from sonar.commands.pipeline import CommandBus
from sonar.commands.record import RegisterPatient
from sonar.config import Settings
from sonar.domain import Actor
from sonar.eventstore.application import SonarApplication
from sonar.readmodels.registry import all_projections
from sonar.readmodels.runner import ProjectionRunner
from sonar.sqlstore.store import PostgresReadStore, ReadStore, SqliteReadStore
from tests.conftest import FakeClock

CTX = CommandContext(actor=Actor("sms-1", "sms_worker", "HMP Leeds HC", "HMP Leeds"),
                     correlation_id="kafka-it")
PRISONS = ("HMP Leeds", "HMP Hull")
DEADLINE_SECONDS = 30.0


# --- writing a history through the application ----------------------------------------------


def register(app: SonarApplication, clock: FakeClock, patients: int) -> list[UUID]:
    pids = []
    for n in range(patients):
        clock.advance(minutes=1)
        pids.append(CommandBus(app).handle(CTX, RegisterPatient(
            given_name="Test", family_name=f"Person{n}", date_of_birth=date(1980, 1, 1 + n % 28),
            sex="male")).patient_id)
    for pid in pids:
        clock.advance(minutes=1)
        CommandBus(app).handle(CTX, ReceiveIntoPrison(patient_id=pid, establishment=PRISONS[0]))
    return pids


def transfers(app: SonarApplication, clock: FakeClock, pids: list[UUID], rounds: int,
              start: int = 0) -> None:
    """Interleaved commands: each round moves every patient once, so streams interleave."""
    for round_number in range(start, start + rounds):
        for pid in pids:
            clock.advance(minutes=1)
            CommandBus(app).handle(CTX, Transfer(
                patient_id=pid, to_establishment=PRISONS[(round_number + 1) % 2]))


def high_risk_release(app: SonarApplication, clock: FakeClock, pid: UUID) -> None:
    """Raises both alerts SONAR emits: high risk in an active episode, then its release."""
    for step in (
        lambda: CommandBus(app).handle(CTX,
                                       ReferToSms(patient_id=pid, source="self",
                                                  substances=["heroin"], injecting_status="never",
                                                  previously_treated=False)),
        lambda: CommandBus(app).handle(CTX, RecordReferralOutcome(
            patient_id=pid, episode=1, outcome="accepted")),
        lambda: CommandBus(app).handle(CTX,
                                       AssessRisk(patient_id=pid, episode=1, level="high",
                                                  risks=["overdose"])),
        lambda: CommandBus(app).handle(CTX,
                                       ReleaseFromPrison(patient_id=pid, release_type="licence",
                                                         destination_area="Leeds")),
    ):
        clock.advance(minutes=1)
        step()


def care_versions(app: SonarApplication, pids: list[UUID]) -> dict[str, int]:
    return {str(pid): app.get_record(pid).version for pid in pids}


# --- Kafka helpers ---------------------------------------------------------------------------


def unique(name: str) -> str:
    return f"sonar.test.{name}.{uuid4().hex[:10]}"


def read_topic(bootstrap: str, topic: str, expected: int) -> list[Any]:
    """Every message on ``topic`` from the start (no group), once ``expected`` have arrived."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p)
                      for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        received: list[Any] = []
        deadline = time.monotonic() + DEADLINE_SECONDS
        while len(received) < expected and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                received += records
        return received
    finally:
        consumer.close(autocommit=False)


def applied_versions(store: ReadStore) -> dict[str, int]:
    return {r["patient_id"]: int(r["version"])
            for r in store.fetchall("SELECT patient_id, version FROM kafka_applied")}


def wait_until_applied(store: ReadStore, expected: dict[str, int]) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while applied_versions(store) != expected:
        assert time.monotonic() < deadline, (applied_versions(store), expected)
        time.sleep(0.1)


def wait_for_assignment(workers: list[KafkaProjectionWorker], sizes: dict[int, int]) -> None:
    """Until each listed worker holds that many partitions (the group has rebalanced)."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while any(len(workers[n].assignment()) != size for n, size in sizes.items()):
        assert time.monotonic() < deadline, [w.assignment() for w in workers]
        time.sleep(0.1)


@contextmanager
def running(target: Any, *args: Any) -> Iterator[threading.Event]:
    """Run ``target.run_forever(stop, *args)`` in a thread until the block ends."""
    stop = threading.Event()
    thread = threading.Thread(target=target.run_forever, args=(stop, *args), daemon=True)
    thread.start()
    try:
        yield stop
    finally:
        stop.set()
        thread.join(timeout=DEADLINE_SECONDS)
        assert not thread.is_alive()


# --- the reference: the in-process runner on a read store of the same kind -------------------


@contextmanager
def reference_store(settings: Settings) -> Iterator[ReadStore]:
    if not settings.database_url:
        store: ReadStore = SqliteReadStore(settings.data_dir / "reference_read_models.db")
        try:
            yield store
        finally:
            store.close()
        return
    schema = f"{settings.database_schema}_ref"
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    store = PostgresReadStore(settings.database_url, schema, pool_size=2)
    try:
        yield store
    finally:
        store.close()
        with psycopg.connect(settings.database_url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def read_model(store: ReadStore) -> dict[str, list[str]]:
    """Every row of every read model, order-free, in one comparable form."""
    tables = [t for p in all_projections() for t in p.tables]
    return {t: sorted(json.dumps(r, sort_keys=True, default=str)
                      for r in store.fetchall(f"SELECT * FROM rm_{t}"))  # noqa: S608
            for t in tables}


def assert_same_as_in_process_runner(app: SonarApplication, settings: Settings,
                                     store: ReadStore) -> None:
    with reference_store(settings) as reference:
        runner = ProjectionRunner(app, reference, all_projections())
        runner.migrate()
        runner.catch_up()
        expected = read_model(reference)
    actual = read_model(store)
    assert expected["patient"]
    assert expected["timeline"]
    assert actual == expected


# --- the tests -------------------------------------------------------------------------------


def test_each_patients_events_arrive_in_order_with_none_missing_and_alerts_beside_them(
        store_settings: Settings, clock: FakeClock, kafka_bootstrap: str) -> None:
    app = build_application(store_settings, clock)
    store = build_read_store(store_settings)
    pids = register(app, clock, 5)
    transfers(app, clock, pids, rounds=4)
    high_risk_release(app, clock, pids[0])
    topic, alerts = unique("events"), unique("alerts")
    relay = KafkaRelay(app, store, kafka_bootstrap, topic, alerts_topic=alerts, batch_size=7)
    try:
        expected = care_versions(app, pids)
        published = relay.run_once()
        assert published == sum(expected.values())  # receipts and the index stay inside
        assert relay.position() == app.position()
        assert relay.run_once() == 0  # nothing new, nothing re-sent
        messages = read_topic(kafka_bootstrap, topic, published)
        alert_messages = read_topic(kafka_bootstrap, alerts, 2)
    finally:
        relay.close()
        store.close()

    seen: dict[str, list[int]] = defaultdict(list)
    partitions: dict[str, set[int]] = defaultdict(set)
    for message in messages:
        body = json.loads(message.value)
        assert message.key.decode() == body["patient_id"]
        assert body["event_id"] == f"{body['patient_id']}:{body['version']}"
        assert body["attribution"]["actor_id"] == "sms-1"
        position, event = from_envelope(app, message.value)
        assert (position, event.originator_version) == (body["position"], body["version"])
        seen[body["patient_id"]].append(body["version"])
        partitions[body["patient_id"]].add(message.partition)
    assert seen == {pid: list(range(1, last + 1)) for pid, last in expected.items()}
    assert all(len(p) == 1 for p in partitions.values())
    kinds = [json.loads(m.value)["kind"] for m in alert_messages]
    assert sorted(kinds) == ["high_risk", "high_risk_on_release"]
    assert all(m.key.decode() == str(pids[0]) for m in alert_messages)


@pytest.fixture(scope="module")
def own_broker() -> Iterator[KafkaBroker]:
    """A broker of this module's own, so stopping it leaves the session's broker alone."""
    broker = KafkaBroker()
    try:
        broker.start(timeout=180)
    except (KafkaBrokerError, OSError) as error:
        broker.stop()
        pytest.skip(f"no Kafka broker could be started: {error}")
    try:
        yield broker
    finally:
        broker.stop()


def test_a_broker_restart_mid_relay_loses_nothing_and_the_worker_applies_nothing_twice(
        store_settings: Settings, clock: FakeClock, own_broker: KafkaBroker) -> None:
    app = build_application(store_settings, clock)
    store = build_read_store(store_settings)
    topic = unique("restart")
    relay = KafkaRelay(app, store, own_broker.bootstrap, topic, alerts_topic=unique("alerts"),
                       batch_size=5, ack_timeout=2.0)
    worker = KafkaProjectionWorker(app, store, own_broker.bootstrap, topic,
                                   group_id=unique("group"))
    pids = register(app, clock, 4)
    try:
        relay.ensure_ready()
        worker.migrate()
        with running(relay, 0.05), running(worker, 0.2):
            transfers(app, clock, pids, rounds=2)
            wait_until_applied(store, care_versions(app, pids))

            own_broker.stop(remove_data=False)  # mid-run: relay and worker both lose it
            transfers(app, clock, pids, rounds=2, start=2)
            deadline = time.monotonic() + DEADLINE_SECONDS
            while relay.failed_batches == 0:  # the relay errs instead of moving on
                assert time.monotonic() < deadline, "the relay never noticed the broker stop"
                time.sleep(0.1)
            assert relay.position() < app.position()  # nothing unacknowledged was passed

            own_broker.start(timeout=120)  # same ports, same data
            high_risk_release(app, clock, pids[1])
            wait_until_applied(store, care_versions(app, pids))
        assert relay.position() == app.position()

        # A relay that crashed after the broker acknowledged but before it saved its
        # position sends everything again; the worker must drop every copy.
        with store.transaction() as tx:
            tx.execute("UPDATE relay_position SET position = 0")
        expected = care_versions(app, pids)
        applied_before = worker.applied_events
        assert relay.run_once() == sum(expected.values())
        on_topic = read_topic(own_broker.bootstrap, topic, 2 * sum(expected.values()))
        ids = [json.loads(m.value)["event_id"] for m in on_topic]
        assert set(ids) == {f"{p}:{v}" for p, last in expected.items()
                            for v in range(1, last + 1)}  # nothing lost
        drained_at = time.monotonic() + 1.5
        while time.monotonic() < drained_at:
            worker.poll_once(0.2)
        assert worker.applied_events == applied_before == sum(expected.values())
        assert applied_versions(store) == expected
        assert_same_as_in_process_runner(app, store_settings, store)
        lags = worker.status()
        assert len(lags) == 6
        assert all(s.lag == 0 for s in lags)
    finally:
        worker.close()
        relay.close()
        store.close()


def test_two_workers_in_one_group_split_the_partitions_and_build_the_same_read_model(
        store_settings: Settings, clock: FakeClock, kafka_bootstrap: str) -> None:
    app = build_application(store_settings, clock)
    store = build_read_store(store_settings)
    topic, group = unique("group"), unique("workers")
    relay = KafkaRelay(app, store, kafka_bootstrap, topic, alerts_topic=unique("alerts"))
    relay.ensure_ready()  # the topic exists before the group forms
    stores = [build_read_store(store_settings) for _ in range(2)]  # as two processes would
    workers = [KafkaProjectionWorker(app, stores[n], kafka_bootstrap, topic, group_id=group,
                                     client_id=f"worker-{n}", rejoin_after=5.0)
               for n in range(2)]
    try:
        workers[0].migrate()
        with running(workers[0], 0.2):
            wait_for_assignment(workers, {0: 6})  # one worker holds every partition
            with running(workers[1], 0.2):  # scaling out: a second worker joins the group
                wait_for_assignment(workers, {0: 3, 1: 3})
                assert not workers[0].assignment() & workers[1].assignment()
                pids = register(app, clock, 12)
                transfers(app, clock, pids, rounds=3)
                high_risk_release(app, clock, pids[2])
                relay.run_once()
                wait_until_applied(store, care_versions(app, pids))
        assert all(w.applied_events > 0 for w in workers)
        assert sum(w.applied_events for w in workers) == sum(care_versions(app, pids).values())
        assert_same_as_in_process_runner(app, store_settings, store)
    finally:
        for worker in workers:
            worker.close()
            worker.store.close()
        relay.close()
        store.close()


def test_with_encryption_at_rest_the_envelope_carries_no_clear_clinical_fact_or_attribution(
        sqlite_settings: Settings, clock: FakeClock) -> None:
    key = base64.b64encode(b"k" * 32).decode()
    settings = sqlite_settings.model_copy(update={"cipher_key": SecretStr(key)})
    app = build_application(settings, clock)
    pid = register(app, clock, 1)[0]
    high_risk_release(app, clock, pid)
    for notification in app.recorder.select_notifications(start=1, limit=100):
        if not is_published(notification):
            continue
        data = to_envelope(app, notification)
        body = json.loads(data)
        assert body["encrypted"] is True
        assert "attribution" not in body
        assert b"overdose" not in data
        assert b"sms-1" not in data
        assert base64.b64decode(body["state"]) == notification.state  # exactly as stored
        position, event = from_envelope(app, data)
        assert position == notification.id
        assert event.originator_version == notification.originator_version
