"""Who may open a record: the relationship window, break glass, and the same place."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from sonar.domain import Actor, Attribution, IllegalStep
from sonar.domain.access import (
    break_glass_until,
    decide,
    dissents_from,
    has_relationship,
    relationship_lasts,
    same_place,
)
from tests.strategies import BASE_TIME
from tests.unit.domain.builders import at, in_prison, new_record

DAYS = 90
HULL = Actor("hull-1", "prison_clinician", "HMP Hull Healthcare", "HMP Hull")
LEEDS = Actor("leeds-2", "prison_clinician", "HMP Leeds Healthcare", "HMP Leeds")


def by(actor: Actor, days: float) -> Attribution:
    return replace(at(days), actor=actor)


def test_a_relationship_lasts_n_days_from_the_departure_to_the_minute() -> None:
    left = BASE_TIME
    assert relationship_lasts(left, left + timedelta(days=DAYS), DAYS)
    assert not relationship_lasts(left, left + timedelta(days=DAYS, minutes=1), DAYS)


@pytest.mark.parametrize(("after", "related"), [
    (timedelta(days=DAYS), True),
    (timedelta(days=DAYS, minutes=1), False),
])
def test_staff_of_a_site_the_person_left_keep_the_relationship_for_the_window(
        after: timedelta, related: bool) -> None:
    record = in_prison()  # at HMP Leeds from day 0
    record.transfer("HMP Hull", at(10))
    left = at(10).occurred_at
    assert has_relationship(record, LEEDS, left + after, DAYS) is related
    assert has_relationship(record, HULL, left + after, DAYS)  # still there
    decision = decide(record, LEEDS, left + after, DAYS, reading=True)
    assert (decision.allowed, decision.rule) == (
        (True, "access.relationship") if related else (False, "access.no_relationship"))


def test_registering_at_a_site_starts_a_relationship_that_lasts_the_window() -> None:
    record = new_record()  # registered by a nurse at HMP Leeds, a day before BASE_TIME
    registered = record.registered_by.recorded_at
    assert has_relationship(record, LEEDS, registered + timedelta(days=DAYS), DAYS)
    assert not has_relationship(record, LEEDS, registered + timedelta(days=DAYS, minutes=1),
                                DAYS)


def test_break_glass_runs_until_the_moment_it_expires() -> None:
    record = in_prison()
    expires = record.break_glass("Unconscious on arrival, overdose suspected", by(HULL, 1),
                                 hours=4)
    assert break_glass_until(record, HULL, expires - timedelta(minutes=1)) == expires
    assert break_glass_until(record, HULL, expires) is None
    assert break_glass_until(record, LEEDS, expires - timedelta(minutes=1)) is None
    during = decide(record, HULL, expires - timedelta(minutes=1), DAYS, reading=True)
    assert (during.allowed, during.break_glass) == (True, True)
    after = decide(record, HULL, expires, DAYS, reading=True)
    assert (after.allowed, after.rule) == (False, "access.no_relationship")


def test_two_names_are_the_same_place_whatever_their_case_and_spacing() -> None:
    assert same_place("HMP  Leeds ", "hmp leeds")
    assert not same_place("HMP Leeds", "HMP Hull")
    assert not same_place(None, "HMP Leeds")


def test_dissent_names_an_organisation_as_places_are_named() -> None:
    record = in_prison()
    record.record_sharing_dissent("Leeds Housing Trust", at(1))
    with pytest.raises(IllegalStep) as caught:
        record.record_sharing_dissent("leeds  housing trust", at(2))
    assert caught.value.rule == "dissent.already_recorded"
    assert dissents_from(record, "LEEDS HOUSING TRUST")
    record.withdraw_sharing_dissent("leeds housing trust", at(3))
    assert record.sharing_dissents == ()
    assert not dissents_from(record, "Leeds Housing Trust")
