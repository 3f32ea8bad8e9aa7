"""Use cases on the in-memory store: idempotency, nothing written on refusal, uniqueness."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from uuid import uuid4

import pytest

from sonar.commands.context import CommandContext
from sonar.commands.errors import DuplicatePatient, IdempotencyKeyReused
from sonar.commands.journey import ReceiveIntoPrison
from sonar.commands.pathway import (
    AssessRisk,
    RecordReferralOutcome,
    RecordReview,
    RecordTop,
    ReferToSms,
)
from sonar.commands.pipeline import CommandBus
from sonar.commands.record import RegisterPatient, TraceNhsNumber
from sonar.domain import (
    Actor,
    Demographics,
    IllegalStep,
    InvalidValue,
    NhsNumber,
)
from sonar.eventstore.application import SonarApplication
from sonar.eventstore.errors import PatientNotFound
from tests.conftest import FakeClock
from tests.steps import fields

WORKER = Actor("sms-1", "sms_worker", "HMP Leeds Healthcare", "HMP Leeds")
CTX = CommandContext(actor=WORKER, correlation_id="corr")
PERSON = Demographics("Jo", "Marsden", date(1988, 2, 3), "female")



def test_register_returns_the_log_position_of_the_write(memory_app: SonarApplication) -> None:
    result = CommandBus(memory_app).handle(CTX, RegisterPatient(
        nhs_number="9434765919", **fields(PERSON)))
    assert result.position == memory_app.position()
    assert memory_app.find_by_nhs_number(NhsNumber("9434765919")) == result.patient_id


def test_a_second_record_with_the_same_nhs_number_is_refused(
        memory_app: SonarApplication) -> None:
    first = CommandBus(memory_app).handle(CTX, RegisterPatient(
        nhs_number="9434765919", **fields(PERSON)))
    before = memory_app.position()
    with pytest.raises(DuplicatePatient) as caught:
        CommandBus(memory_app).handle(CTX, RegisterPatient(
            nhs_number="9434765919", **fields(PERSON)))
    assert caught.value.existing_id == first.patient_id
    assert memory_app.position() == before


def test_a_traced_nhs_number_is_indexed_and_unique(memory_app: SonarApplication) -> None:
    a = CommandBus(memory_app).handle(CTX, RegisterPatient(**fields(PERSON))).patient_id
    b = CommandBus(memory_app).handle(CTX, RegisterPatient(**fields(PERSON))).patient_id
    CommandBus(memory_app).handle(CTX, TraceNhsNumber(patient_id=a, nhs_number="9434765919"))
    assert memory_app.find_by_nhs_number(NhsNumber("9434765919")) == a
    with pytest.raises(DuplicatePatient):
        CommandBus(memory_app).handle(CTX, TraceNhsNumber(patient_id=b, nhs_number="9434765919"))


def test_a_repeated_idempotency_key_writes_once(memory_app: SonarApplication) -> None:
    ctx = replace(CTX, idempotency_key="key-1")
    first = CommandBus(memory_app).handle(ctx, RegisterPatient(**fields(PERSON)))
    again = CommandBus(memory_app).handle(ctx, RegisterPatient(**fields(PERSON)))
    assert again.replayed
    assert again.patient_id == first.patient_id
    assert again.position >= first.position
    assert memory_app.position() == first.position


def test_an_idempotency_key_reused_for_another_request_is_refused(
        memory_app: SonarApplication) -> None:
    ctx = replace(CTX, idempotency_key="key-1")
    pid = CommandBus(memory_app).handle(CTX, RegisterPatient(**fields(PERSON))).patient_id
    CommandBus(memory_app).handle(ctx, ReceiveIntoPrison(patient_id=pid, establishment="HMP Leeds"))
    with pytest.raises(IdempotencyKeyReused):
        CommandBus(memory_app).handle(ctx, ReceiveIntoPrison(
            patient_id=pid, establishment="HMP Hull"))


def test_idempotency_keys_are_scoped_to_the_actor(memory_app: SonarApplication) -> None:
    mine = replace(CTX, idempotency_key="same")
    theirs = replace(mine, actor=replace(WORKER, actor_id="sms-2"))
    a = CommandBus(memory_app).handle(mine, RegisterPatient(**fields(PERSON)))
    b = CommandBus(memory_app).handle(theirs, RegisterPatient(**fields(PERSON)))
    assert a.patient_id != b.patient_id
    assert not b.replayed


def test_a_refused_command_writes_nothing(memory_app: SonarApplication,
                                          clock: FakeClock) -> None:
    pid = CommandBus(memory_app).handle(CTX, RegisterPatient(**fields(PERSON))).patient_id
    CommandBus(memory_app).handle(CTX, ReceiveIntoPrison(patient_id=pid, establishment="HMP Leeds"))
    before = memory_app.position()
    with pytest.raises(IllegalStep):
        CommandBus(memory_app).handle(CTX, RecordReview(
            patient_id=pid, episode=1, kind="day_5", outcome="completed"))
    with pytest.raises(InvalidValue):
        CommandBus(memory_app).handle(CTX, RecordTop(
            patient_id=pid, episode=1, stage="start", answers={"opiates_days": 99}))
    with pytest.raises(InvalidValue):
        CommandBus(memory_app).handle(CTX, AssessRisk(
            patient_id=pid, episode=1, level="low", risks=[],
            occurred_at=clock.now + timedelta(hours=1)))
    assert memory_app.position() == before
    assert memory_app.get_record(pid).version == 2


def test_an_unknown_patient_is_not_found(memory_app: SonarApplication) -> None:
    with pytest.raises(PatientNotFound):
        CommandBus(memory_app).handle(CTX, ReceiveIntoPrison(
            patient_id=uuid4(), establishment="HMP Leeds"))


def test_receipts_and_indexes_are_not_patients(memory_app: SonarApplication) -> None:
    from sonar.eventstore.receipts import NhsNumberIndex  # noqa: PLC0415

    CommandBus(memory_app).handle(CTX, RegisterPatient(nhs_number="9434765919", **fields(PERSON)))
    with pytest.raises(PatientNotFound):
        memory_app.get_record(NhsNumberIndex.id_for("9434765919"))


def test_late_entry_keeps_clinical_and_recorded_time_apart(memory_app: SonarApplication,
                                                           clock: FakeClock) -> None:
    pid = CommandBus(memory_app).handle(CTX, RegisterPatient(**fields(PERSON))).patient_id
    CommandBus(memory_app).handle(CTX, ReceiveIntoPrison(
        patient_id=pid, establishment="HMP Leeds", occurred_at=clock.now - timedelta(days=2)))
    CommandBus(memory_app).handle(CTX, ReferToSms(
        patient_id=pid, source="self", substances=["alcohol"], injecting_status="never",
        previously_treated=False))
    clock.advance(days=6)
    CommandBus(memory_app).handle(CTX, RecordReferralOutcome(
        patient_id=pid, episode=1, outcome="accepted", occurred_at=clock.now - timedelta(days=5)))
    episode = memory_app.get_record(pid).episode(1)
    assert episode.treatment_start == (clock.now - timedelta(days=5)).date()
    movement = memory_app.get_record(pid).journey.movements[0]
    assert movement.occurred_at == clock.now - timedelta(days=8)


def test_a_key_reused_with_another_clinical_time_is_refused(memory_app: SonarApplication,
                                                           clock: FakeClock) -> None:
    pid = CommandBus(memory_app).handle(CTX, RegisterPatient(**fields(PERSON))).patient_id
    keyed = replace(CTX, idempotency_key="k")
    CommandBus(memory_app).handle(keyed, ReceiveIntoPrison(
        patient_id=pid, establishment="HMP Leeds", occurred_at=clock.now - timedelta(days=3)))
    with pytest.raises(IdempotencyKeyReused):
        CommandBus(memory_app).handle(keyed, ReceiveIntoPrison(
            patient_id=pid, establishment="HMP Leeds", occurred_at=clock.now))
