"""Use cases on the in-memory store: idempotency, nothing written on refusal, uniqueness."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from uuid import uuid4

import pytest

from sonar.commands.context import CommandContext
from sonar.domain import (
    Actor,
    Demographics,
    Identity,
    IllegalStep,
    InvalidValue,
    NhsNumber,
    Referral,
    ReferralOutcome,
    Review,
    RiskAssessment,
    Top,
    TopAnswers,
)
from sonar.eventstore.application import SonarApplication
from sonar.eventstore.errors import DuplicatePatient, IdempotencyKeyReused, PatientNotFound
from tests.conftest import FakeClock

WORKER = Actor("sms-1", "sms_worker", "HMP Leeds Healthcare", "HMP Leeds")
CTX = CommandContext(actor=WORKER, correlation_id="corr")
PERSON = Demographics("Jo", "Marsden", date(1988, 2, 3), "female")



def test_register_returns_the_log_position_of_the_write(memory_app: SonarApplication) -> None:
    result = memory_app.register_patient(CTX, Identity(NhsNumber("9434765919")), PERSON)
    assert result.position == memory_app.position()
    assert memory_app.find_by_nhs_number(NhsNumber("9434765919")) == result.patient_id


def test_a_second_record_with_the_same_nhs_number_is_refused(
        memory_app: SonarApplication) -> None:
    first = memory_app.register_patient(CTX, Identity(NhsNumber("9434765919")), PERSON)
    before = memory_app.position()
    with pytest.raises(DuplicatePatient) as caught:
        memory_app.register_patient(CTX, Identity(NhsNumber("9434765919")), PERSON)
    assert caught.value.existing_id == first.patient_id
    assert memory_app.position() == before


def test_a_traced_nhs_number_is_indexed_and_unique(memory_app: SonarApplication) -> None:
    a = memory_app.register_patient(CTX, Identity(), PERSON).patient_id
    b = memory_app.register_patient(CTX, Identity(), PERSON).patient_id
    memory_app.trace_nhs_number(CTX, a, NhsNumber("9434765919"))
    assert memory_app.find_by_nhs_number(NhsNumber("9434765919")) == a
    with pytest.raises(DuplicatePatient):
        memory_app.trace_nhs_number(CTX, b, NhsNumber("9434765919"))


def test_a_repeated_idempotency_key_writes_once(memory_app: SonarApplication) -> None:
    ctx = replace(CTX, idempotency_key="key-1")
    first = memory_app.register_patient(ctx, Identity(), PERSON)
    again = memory_app.register_patient(ctx, Identity(), PERSON)
    assert again.replayed
    assert again.patient_id == first.patient_id
    assert again.position >= first.position
    assert memory_app.position() == first.position


def test_an_idempotency_key_reused_for_another_request_is_refused(
        memory_app: SonarApplication) -> None:
    ctx = replace(CTX, idempotency_key="key-1")
    pid = memory_app.register_patient(CTX, Identity(), PERSON).patient_id
    memory_app.receive_into_prison(ctx, pid, "HMP Leeds", None)
    with pytest.raises(IdempotencyKeyReused):
        memory_app.receive_into_prison(ctx, pid, "HMP Hull", None)


def test_idempotency_keys_are_scoped_to_the_actor(memory_app: SonarApplication) -> None:
    mine = replace(CTX, idempotency_key="same")
    theirs = replace(mine, actor=replace(WORKER, actor_id="sms-2"))
    a = memory_app.register_patient(mine, Identity(), PERSON)
    b = memory_app.register_patient(theirs, Identity(), PERSON)
    assert a.patient_id != b.patient_id
    assert not b.replayed


def test_a_refused_command_writes_nothing(memory_app: SonarApplication,
                                          clock: FakeClock) -> None:
    pid = memory_app.register_patient(CTX, Identity(), PERSON).patient_id
    memory_app.receive_into_prison(CTX, pid, "HMP Leeds", None)
    before = memory_app.position()
    with pytest.raises(IllegalStep):
        memory_app.record_review(CTX, pid, 1, Review("day_5", "completed"))
    with pytest.raises(InvalidValue):
        memory_app.record_top(CTX, pid, 1, Top("start", TopAnswers({"opiates_days": 99})))
    with pytest.raises(InvalidValue):
        memory_app.assess_risk(replace(CTX, occurred_at=clock.now + timedelta(hours=1)), pid, 1,
                               RiskAssessment("low", ()))
    assert memory_app.position() == before
    assert memory_app.get_record(pid).version == 2


def test_an_unknown_patient_is_not_found(memory_app: SonarApplication) -> None:
    with pytest.raises(PatientNotFound):
        memory_app.receive_into_prison(CTX, uuid4(), "HMP Leeds", None)


def test_receipts_and_indexes_are_not_patients(memory_app: SonarApplication) -> None:
    from sonar.eventstore.receipts import NhsNumberIndex  # noqa: PLC0415

    memory_app.register_patient(CTX, Identity(NhsNumber("9434765919")), PERSON)
    with pytest.raises(PatientNotFound):
        memory_app.get_record(NhsNumberIndex.id_for("9434765919"))


def test_late_entry_keeps_clinical_and_recorded_time_apart(memory_app: SonarApplication,
                                                           clock: FakeClock) -> None:
    pid = memory_app.register_patient(CTX, Identity(), PERSON).patient_id
    memory_app.receive_into_prison(replace(CTX, occurred_at=clock.now - timedelta(days=2)), pid,
                                   "HMP Leeds", None)
    memory_app.refer_to_sms(CTX, pid, Referral("self", ("alcohol",), "never", False))
    clock.advance(days=6)
    memory_app.record_referral_outcome(replace(CTX, occurred_at=clock.now - timedelta(days=5)),
                                       pid, 1, ReferralOutcome("accepted"))
    episode = memory_app.get_record(pid).episode(1)
    assert episode.treatment_start == (clock.now - timedelta(days=5)).date()
    movement = memory_app.get_record(pid).journey.movements[0]
    assert movement.occurred_at == clock.now - timedelta(days=8)


def test_a_key_reused_with_another_clinical_time_is_refused(memory_app: SonarApplication,
                                                           clock: FakeClock) -> None:
    pid = memory_app.register_patient(CTX, Identity(), PERSON).patient_id
    keyed = replace(CTX, idempotency_key="k", occurred_at=clock.now - timedelta(days=3))
    memory_app.receive_into_prison(keyed, pid, "HMP Leeds", None)
    with pytest.raises(IdempotencyKeyReused):
        memory_app.receive_into_prison(replace(keyed, occurred_at=clock.now), pid,
                                       "HMP Leeds", None)
