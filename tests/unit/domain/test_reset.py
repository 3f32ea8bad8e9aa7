"""ReSet rules in the domain: release planning in custody, the diary's state machine."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from sonar.domain import IllegalStep, InvalidValue
from sonar.domain.reset import Appointment, MedicineSupply, ReleasePlan
from tests.strategies import BASE_TIME
from tests.unit.domain.builders import at, in_prison, new_record, when

PLAN = ReleasePlan(date(2026, 4, 1), "Leeds", True, "Chapeltown", False, None, True,
                   (MedicineSupply("Methadone 60mg", 3),), True, True)


def appointment(days: float = 2, appointment_id: str = "a1") -> Appointment:
    start = BASE_TIME + timedelta(days=days)
    return Appointment(appointment_id, "probation", "Probation", None, start,
                       start + timedelta(hours=1), "Leeds")


def test_release_is_planned_in_prison_and_plans_are_kept() -> None:
    with pytest.raises(IllegalStep):
        new_record().plan_release(PLAN, at(0))
    record = in_prison()
    record.plan_release(PLAN, at(0))
    record.plan_release(PLAN, at(1))
    assert len(record.release_plans) == 2


def test_a_gp_registration_names_the_practice_and_supplies_are_bounded() -> None:
    with pytest.raises(InvalidValue) as caught:
        ReleasePlan(date(2026, 4, 1), "Leeds", True, None, False, None, False, (), False, False)
    assert caught.value.field == "gp_practice"
    with pytest.raises(InvalidValue):
        MedicineSupply("Methadone", 29)


def test_an_appointment_is_missed_only_after_its_end_and_grace() -> None:
    record = in_prison()
    record.book_appointment(appointment(2), at(0))
    with pytest.raises(IllegalStep) as caught:
        record.record_missed_appointment("a1", at(2.05))
    assert caught.value.rule == "appointment.not_yet_missed"
    record.record_missed_appointment("a1", at(2.2))
    assert record.diary["a1"].status == "missed"
    with pytest.raises(IllegalStep) as again:
        record.record_attendance("a1", "person", at(2.3))
    assert again.value.rule == "appointment.already_missed"


def test_attendance_cannot_be_recorded_long_before_the_appointment() -> None:
    record = in_prison()
    record.book_appointment(appointment(5), at(0))
    with pytest.raises(IllegalStep):
        record.record_attendance("a1", "agency", at(1))
    with pytest.raises(IllegalStep):
        record.book_appointment(appointment(5), at(0))


def test_a_cancellation_needs_a_reason_named_as_the_reason() -> None:
    record = new_record()
    record.book_appointment(appointment(), at(0))
    with pytest.raises(InvalidValue) as caught:
        record.cancel_appointment("a1", "   ", at(1))
    assert (caught.value.field, caught.value.rule) == ("reason", "reason.length")
    record.cancel_appointment("a1", " Rearranged by probation ", at(1))
    assert record.diary["a1"].reason == "Rearranged by probation"


def test_a_release_is_planned_for_today_or_later_in_england() -> None:
    record = in_prison()
    late = when(datetime(2026, 7, 1, 23, 30, tzinfo=UTC))  # 00:30 on 2 July in England
    with pytest.raises(InvalidValue) as caught:
        record.plan_release(replace(PLAN, expected_release_date=date(2026, 7, 1)), late)
    assert caught.value.rule == "release_plan.date_in_past"
    record.plan_release(replace(PLAN, expected_release_date=date(2026, 7, 2)), late)
    with pytest.raises(InvalidValue) as caught:
        record.plan_release(replace(PLAN, expected_release_date=date(2029, 1, 1)), late)
    assert caught.value.rule == "time.out_of_range"
