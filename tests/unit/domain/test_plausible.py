"""Every date and time is checked against one plausible window where it enters SONAR."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sonar.domain import plausible
from sonar.domain.errors import InvalidValue
from sonar.domain.reset import Appointment

PLUS_14 = timezone(timedelta(hours=14))
MINUS_12 = timezone(timedelta(hours=-12))


def test_the_window_is_1900_to_2199_inclusive() -> None:
    assert plausible.day_problem(date(1900, 1, 1), "d") is None
    assert plausible.day_problem(date(2199, 12, 31), "d") is None
    assert plausible.day_problem(date(1899, 12, 31), "d") is not None
    assert plausible.day_problem(date(2200, 1, 1), "d") is not None


def test_the_extremes_a_parser_accepts_are_refused_without_overflowing() -> None:
    for moment in (datetime(1, 1, 1, 0, 30, tzinfo=PLUS_14),
                   datetime(9999, 12, 31, 23, 0, tzinfo=MINUS_12),
                   datetime(1, 1, 1, tzinfo=MINUS_12), datetime(9999, 12, 31, tzinfo=PLUS_14)):
        problem = plausible.moment_problem(moment, "starts_at")
        assert problem is not None
        assert problem.rule == "time.out_of_range"
        assert problem.field == "starts_at"


def test_a_time_without_an_offset_is_refused() -> None:
    problem = plausible.moment_problem(datetime(2026, 1, 1), "occurred_at")
    assert problem is not None
    assert problem.rule == "time.timezone_required"


def test_looking_ahead_is_limited_to_two_years_from_when_it_is_recorded() -> None:
    now = datetime(2026, 12, 4, 10, tzinfo=UTC)
    latest = plausible.ahead_of(now)
    assert latest == now + timedelta(days=731)
    plausible.check_moment(latest, "starts_at", latest=latest)
    with pytest.raises(InvalidValue):
        plausible.check_moment(latest + timedelta(seconds=1), "starts_at", latest=latest)
    assert plausible.ahead_of(datetime(2199, 6, 1, tzinfo=UTC)) == plausible.LATEST


@given(st.datetimes(timezones=st.sampled_from([PLUS_14, MINUS_12, UTC])))
def test_any_accepted_time_converts_to_utc_and_takes_a_day_either_way(moment: datetime) -> None:
    if plausible.moment_problem(moment, "t") is None:
        moment.astimezone(UTC)
        moment + timedelta(days=1)
        moment - timedelta(days=1)


def test_an_appointment_in_year_one_is_refused_before_any_arithmetic() -> None:
    with pytest.raises(InvalidValue) as refused:
        Appointment("a1", "gp", "Surgery", None, datetime(1, 1, 1, 0, 30, tzinfo=PLUS_14),
                    datetime(1, 1, 1, 1, 30, tzinfo=PLUS_14), "Leeds")
    assert refused.value.rule == "time.out_of_range"
