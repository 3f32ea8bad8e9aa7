"""Clinical days: the date in England of a moment, whatever offset it was sent with."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sonar.domain.attribution import CLINICAL_TZ, before_birth, clinical_day, day_starts

OFFSETS = st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(
    lambda minutes: timezone(timedelta(minutes=minutes)))
MOMENTS = st.datetimes(datetime(1900, 1, 3), datetime(2100, 12, 29), timezones=OFFSETS)


@given(MOMENTS, st.dates(date(1900, 1, 1), date(2100, 12, 31)))
def test_before_birth_is_the_clinical_day_before_the_date_of_birth(
        moment: datetime, date_of_birth: date) -> None:
    assert before_birth(moment, date_of_birth) == (clinical_day(moment) < date_of_birth)


@st.composite
def near_midnight_in_england(draw: st.DrawFn) -> datetime:
    """Moments within a day and a half of midnight in England, sent with any offset: where
    the sender's date and the date in England differ."""
    day = draw(st.dates(date(1950, 1, 1), date(2090, 12, 31)))
    midnight = datetime(day.year, day.month, day.day, tzinfo=CLINICAL_TZ)
    minutes = draw(st.integers(-36 * 60, 36 * 60))
    return (midnight + timedelta(minutes=minutes)).astimezone(draw(OFFSETS))


@given(near_midnight_in_england(), st.integers(-3, 3))
def test_before_birth_near_the_birthday_uses_the_date_in_england(
        moment: datetime, days: int) -> None:
    """The cases the shortcut must not decide: a date of birth within days of the moment."""
    date_of_birth = clinical_day(moment) + timedelta(days=days)
    assert before_birth(moment, date_of_birth) == (clinical_day(moment) < date_of_birth)


def test_just_after_midnight_in_england_is_the_next_day_whatever_the_offset() -> None:
    moment = datetime(2026, 7, 1, 23, 30, tzinfo=UTC)  # 00:30 on 2 July in England
    assert not before_birth(moment, date(2026, 7, 2))
    assert before_birth(moment, date(2026, 7, 3))


def test_a_moment_sent_with_an_extreme_offset_can_be_two_days_from_the_date_in_england() -> None:
    """23:30 UTC on 1 July is 00:30 on 2 July in England, but 30 June at -23:59."""
    moment = datetime(2026, 7, 1, 23, 30, tzinfo=UTC).astimezone(
        timezone(-timedelta(hours=23, minutes=59)))
    assert moment.date() == date(2026, 6, 30)
    assert clinical_day(moment) == date(2026, 7, 2)
    assert not before_birth(moment, date(2026, 7, 2))


@pytest.mark.parametrize(("moment", "day"), [
    (datetime(2026, 1, 14, 23, 59, tzinfo=UTC), date(2026, 1, 14)),  # 23:59 GMT
    (datetime(2026, 1, 15, 0, 1, tzinfo=UTC), date(2026, 1, 15)),  # 00:01 GMT
    (datetime(2026, 7, 14, 22, 59, tzinfo=UTC), date(2026, 7, 14)),  # 23:59 BST
    (datetime(2026, 7, 14, 23, 1, tzinfo=UTC), date(2026, 7, 15)),  # 00:01 BST
    # British Summer Time starts at 01:00 UTC on 29 March 2026 and ends at 01:00 UTC on
    # 25 October 2026.
    (datetime(2026, 3, 28, 23, 59, tzinfo=UTC), date(2026, 3, 28)),  # 23:59 GMT
    (datetime(2026, 3, 29, 0, 1, tzinfo=UTC), date(2026, 3, 29)),  # 00:01 GMT
    (datetime(2026, 3, 29, 22, 59, tzinfo=UTC), date(2026, 3, 29)),  # 23:59 BST
    (datetime(2026, 3, 29, 23, 1, tzinfo=UTC), date(2026, 3, 30)),  # 00:01 BST
    (datetime(2026, 10, 24, 23, 1, tzinfo=UTC), date(2026, 10, 25)),  # 00:01 BST
    (datetime(2026, 10, 25, 23, 59, tzinfo=UTC), date(2026, 10, 25)),  # 23:59 GMT
])
def test_today_is_the_date_in_england_a_minute_either_side_of_midnight(
        moment: datetime, day: date) -> None:
    assert clinical_day(moment) == day


def test_a_clinical_day_starts_at_midnight_in_england_and_the_clock_change_day_is_short(
        ) -> None:
    assert day_starts(date(2026, 1, 15)) == datetime(2026, 1, 15, 0, 0, tzinfo=UTC)
    assert day_starts(date(2026, 7, 15)) == datetime(2026, 7, 14, 23, 0, tzinfo=UTC)
    change = date(2026, 3, 29)
    start, end = (day_starts(d).astimezone(UTC) for d in (change, change + timedelta(days=1)))
    assert end - start == timedelta(hours=23)
    assert clinical_day(start) == clinical_day(end - timedelta(minutes=1)) == change
    assert clinical_day(start - timedelta(minutes=1)) == change - timedelta(days=1)
    assert clinical_day(end) == change + timedelta(days=1)
