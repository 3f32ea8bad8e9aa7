"""The journey across settings and the attribution every event carries."""

from __future__ import annotations

import pytest

from sonar.domain import Attribution, IllegalStep, InvalidValue, PrisonNumber
from tests.unit.domain.builders import NURSE, at, in_prison, new_record, when


def test_custody_to_prison_to_community_and_recall() -> None:
    record = new_record()
    record.detain_in_police_custody("Leeds Custody Suite", None, at(0))
    record.release_from_police_custody("remanded_to_court", at(0.5))
    assert (record.journey.setting, record.journey.location) == ("police_custody", "court")
    record.receive_into_prison("HMP Leeds", PrisonNumber("A1234BC"), at(1))
    record.transfer("HMP Hull", at(10))
    record.release_from_prison("licence", "Leeds", at(60))
    record.recall_to_prison("fixed_term_28", "HMP Leeds", at(80))
    assert record.journey.setting == "prison"
    assert [m.kind for m in record.journey.movements] == [
        "detained_in_police_custody", "released_from_police_custody", "received_into_prison",
        "transferred_between_establishments", "released_from_prison", "recalled_to_prison"]
    assert record.identity.prison_number == PrisonNumber("A1234BC")


def test_a_transfer_needs_the_person_in_prison() -> None:
    with pytest.raises(IllegalStep) as caught:
        new_record().transfer("HMP Hull", at(1))
    assert caught.value.rule == "journey.transfer_not_allowed"


def test_a_second_reception_while_in_prison_is_a_transfer() -> None:
    with pytest.raises(IllegalStep, match="transfer"):
        in_prison().receive_into_prison("HMP Hull", None, at(1))


def test_recall_needs_a_release_on_licence() -> None:
    record = in_prison()
    record.release_from_prison("end_of_sentence", None, at(30))
    with pytest.raises(IllegalStep) as caught:
        record.recall_to_prison("standard", "HMP Leeds", at(40))
    assert caught.value.rule == "journey.recall_requires_licence"


def test_every_event_carries_its_attribution_and_recorded_time() -> None:
    record = in_prison()
    events = record.collect_events()
    assert all(e.attribution.actor == NURSE for e in events)  # type: ignore[attr-defined]
    assert events[-1].timestamp == at(0).recorded_at


def test_clinical_time_may_be_late_but_never_in_the_future() -> None:
    late = at(0, recorded_days=3)
    assert late.occurred_at < late.recorded_at
    with pytest.raises(InvalidValue) as caught:
        at(2, recorded_days=1)
    assert caught.value.rule == "occurred_at.not_in_future"


def test_naive_times_are_refused() -> None:
    aware = at(0)
    with pytest.raises(InvalidValue) as caught:
        Attribution(NURSE, "direct_care", "api", "c", aware.occurred_at.replace(tzinfo=None),
                    aware.recorded_at)
    assert caught.value.rule == "time.timezone_required"


def test_unknown_purpose_of_use_is_refused() -> None:
    with pytest.raises(InvalidValue, match="purpose_of_use"):
        Attribution(NURSE, "curiosity", "api", "c", at(0).occurred_at, at(0).recorded_at)


def test_reception_screen_needs_prison() -> None:
    from sonar.domain import ReceptionScreen  # noqa: PLC0415

    screen = ReceptionScreen(False, False, True, True, False, False, False)
    with pytest.raises(IllegalStep):
        new_record().record_reception_screen(screen, when(at(0).occurred_at))


def test_a_move_dated_before_the_previous_move_is_refused() -> None:
    record = in_prison()  # received at day 0
    with pytest.raises(IllegalStep) as caught:
        record.transfer("HMP Hull", at(-0.5, 1))
    assert caught.value.rule == "journey.out_of_order"


def test_nothing_happens_before_birth() -> None:
    from datetime import UTC, datetime  # noqa: PLC0415

    record = new_record()  # born 1990-05-01
    with pytest.raises(InvalidValue) as caught:
        record.receive_into_prison("HMP Leeds", None, when(datetime(1980, 1, 1, tzinfo=UTC)))
    assert caught.value.rule == "occurred_at.before_birth"
    with pytest.raises(InvalidValue) as absurd:
        when(datetime(1, 1, 1, 0, 30, tzinfo=UTC))
    assert absurd.value.rule == "time.out_of_range"


def test_identifiers_use_ascii_digits_only() -> None:
    with pytest.raises(InvalidValue):
        PrisonNumber("A\u0661\u0662\u0663\u0664BC")


@pytest.mark.parametrize("to", ["HMP Leeds", "hmp leeds", " HMP  Leeds "])
def test_a_transfer_to_the_same_establishment_by_any_spelling_is_refused(to: str) -> None:
    record = in_prison()  # at HMP Leeds
    with pytest.raises(IllegalStep) as caught:
        record.transfer(to, at(1))
    assert caught.value.rule == "journey.transfer_same_establishment"
