"""The same clinical scenarios on the embedded SQLite store and on real PostgreSQL."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import date

from sonar.bootstrap import build_application
from sonar.commands.context import CommandContext
from sonar.commands.journey import ReceiveIntoPrison, Transfer
from sonar.commands.pathway import (
    AssessRisk,
    RecordReferralOutcome,
    RecordReview,
    RecordTop,
    ReferToSms,
)
from sonar.commands.pipeline import CommandBus
from sonar.commands.record import RegisterPatient
from sonar.config import Settings
from sonar.domain import (
    Actor,
    Demographics,
    IllegalStep,
    InvalidValue,
    NhsNumber,
    Top,
    TopAnswers,
)
from tests.conftest import FakeClock
from tests.steps import fields

CTX = CommandContext(actor=Actor("sms-1", "sms_worker", "HMP Leeds HC", "HMP Leeds"),
                     correlation_id="it")
PERSON = Demographics("Lee", "Kilner", date(1979, 11, 30), "male")


def test_pathway_is_durable_across_application_restarts(store_settings: Settings,
                                                       clock: FakeClock) -> None:
    app = build_application(store_settings, clock)
    pid = CommandBus(app).handle(CTX, RegisterPatient(
        nhs_number="9434765919", **fields(PERSON))).patient_id
    CommandBus(app).handle(CTX, ReceiveIntoPrison(patient_id=pid, establishment="HMP Leeds"))
    CommandBus(app).handle(CTX, ReferToSms(
        patient_id=pid, source="reception_screen", substances=["heroin"],
        injecting_status="currently", previously_treated=False))
    CommandBus(app).handle(CTX, RecordReferralOutcome(
        patient_id=pid, episode=1, outcome="accepted"))
    CommandBus(app).handle(CTX, RecordTop(
        patient_id=pid, episode=1, stage="start", answers={"opiates_days": 28}))
    clock.advance(days=29)
    CommandBus(app).handle(CTX, RecordReview(
        patient_id=pid, episode=1, kind="day_5", outcome="did_not_attend"))
    last = CommandBus(app).handle(CTX, RecordReview(
        patient_id=pid, episode=1, kind="day_28", outcome="completed"))

    reopened = build_application(store_settings, clock)  # a new process on the same store
    record = reopened.get_record(pid)
    assert reopened.position() == last.position
    assert set(record.episode(1).reviews_done()) == {"day_5", "day_28"}
    assert record.episode(1).entries[0].value == Top("start", TopAnswers({"opiates_days": 28}))
    assert reopened.find_by_nhs_number(NhsNumber("9434765919")) == pid


def test_refused_commands_write_nothing(store_settings: Settings, clock: FakeClock) -> None:
    app = build_application(store_settings, clock)
    pid = CommandBus(app).handle(CTX, RegisterPatient(**fields(PERSON))).patient_id
    before = app.position()
    for attempt in (
        lambda: CommandBus(app).handle(CTX,
                                       RecordReview(patient_id=pid, episode=1, kind="day_5",
                                                    outcome="completed")),
        lambda: CommandBus(app).handle(CTX, Transfer(patient_id=pid, to_establishment="HMP Hull")),
        lambda: CommandBus(app).handle(CTX,
                                       RecordTop(patient_id=pid, episode=1, stage="start",
                                                 answers={"crack_days": 31})),
    ):
        try:
            attempt()
        except (IllegalStep, InvalidValue):
            pass
        else:
            raise AssertionError("command should have been refused")
    assert app.position() == before


def test_idempotent_retry_after_restart_writes_once(store_settings: Settings,
                                                    clock: FakeClock) -> None:
    ctx = replace(CTX, idempotency_key="retry-me")
    first = CommandBus(build_application(store_settings, clock)).handle(ctx, RegisterPatient(
        **fields(PERSON)))
    again = CommandBus(build_application(store_settings, clock)).handle(ctx, RegisterPatient(
        **fields(PERSON)))
    assert again.replayed
    assert again.patient_id == first.patient_id


def test_concurrent_updates_to_one_patient_both_land(store_settings: Settings,
                                                     clock: FakeClock) -> None:
    app = build_application(store_settings, clock)
    pid = CommandBus(app).handle(CTX, RegisterPatient(**fields(PERSON))).patient_id
    CommandBus(app).handle(CTX, ReceiveIntoPrison(patient_id=pid, establishment="HMP Leeds"))
    CommandBus(app).handle(CTX, ReferToSms(
        patient_id=pid, source="self", substances=["alcohol"], injecting_status="never",
        previously_treated=False))
    CommandBus(app).handle(CTX, RecordReferralOutcome(
        patient_id=pid, episode=1, outcome="accepted"))
    other = build_application(store_settings, clock)  # a second worker process
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def assess(application: object, level: str) -> None:
        barrier.wait()
        try:
            for _ in range(3):
                CommandBus(application).handle(CTX, AssessRisk(
                    patient_id=pid, episode=1, level=level, risks=[]))
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=assess, args=(a, lvl))
               for a, lvl in ((app, "low"), (other, "high"), (app, "medium"), (other, "low"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    entries = app.get_record(pid).episode(1).entries
    assert len(entries) == 12
    assert sorted(e.version for e in entries) == list(range(5, 17))


def test_encryption_and_compression_at_rest(store_settings: Settings, clock: FakeClock) -> None:
    key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="  # 32 bytes, test only
    secured = store_settings.model_copy(update={
        "cipher_key": __import__("pydantic").SecretStr(key), "compress": True})
    app = build_application(secured, clock)
    pid = CommandBus(app).handle(CTX, RegisterPatient(**fields(PERSON))).patient_id
    stored = list(app.recorder.select_events(pid))
    assert b"Kilner" not in stored[0].state
    assert app.get_record(pid).demographics.family_name == "Kilner"
