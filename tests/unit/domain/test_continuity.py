"""Continuity of care after release: the rules the continuity report and NDTMS share."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from sonar.domain import Discharge, Episode, Referral, ReferralOutcome
from sonar.domain.continuity import (
    awaiting_engagement,
    days_after_release,
    engaged_in_time,
    referred_on_release,
    within_calendar_days,
)

ENGLAND = ZoneInfo("Europe/London")
RELEASED = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)


def test_within_n_calendar_days_counts_the_first_day_as_day_0_and_day_n_as_within() -> None:
    first = date(2026, 6, 1)
    assert within_calendar_days(first, first, 21)
    assert within_calendar_days(first, date(2026, 6, 22), 21)
    assert not within_calendar_days(first, date(2026, 6, 23), 21)
    assert not within_calendar_days(first, date(2026, 5, 31), 21)


@pytest.mark.parametrize(("release", "treatment", "days", "engaged"), [
    # 21 days and 2 minutes later, but on day 22
    ((2026, 6, 1, 23, 59), (2026, 6, 23, 0, 1), 22, False),
    # 21 days and 23 hours 58 minutes later, on day 21
    ((2026, 6, 2, 0, 1), (2026, 6, 23, 23, 59), 21, True),
    # the same day
    ((2026, 6, 1, 0, 1), (2026, 6, 1, 23, 59), 0, True),
])
def test_engagement_counts_england_s_calendar_days_from_the_day_of_release(
        release: tuple[int, ...], treatment: tuple[int, ...], days: int, engaged: bool) -> None:
    released_at = datetime(*release, tzinfo=ENGLAND)
    treated_at = datetime(*treatment, tzinfo=ENGLAND)
    assert days_after_release(released_at, treated_at) == days
    assert engaged_in_time(released_at, treated_at) is engaged


def test_the_clock_change_moves_no_day() -> None:
    """British Summer Time starts at 01:00 UTC on 29 March 2026: 23:30 UTC on 18 April is
    00:30 on 19 April in England, day 22 after a release at 23:30 on 28 March."""
    released_at = datetime(2026, 3, 28, 23, 30, tzinfo=UTC)
    treated_at = datetime(2026, 4, 18, 23, 30, tzinfo=UTC)
    assert treated_at - released_at == timedelta(days=21)
    assert days_after_release(released_at, treated_at) == 22
    assert not engaged_in_time(released_at, treated_at)
    assert engaged_in_time(released_at, treated_at - timedelta(minutes=31))


def test_someone_not_yet_treated_can_engage_to_the_end_of_day_21_in_england() -> None:
    released_at = datetime(2026, 6, 1, 23, 30, tzinfo=UTC)  # 00:30 on 2 June in England
    assert awaiting_engagement(released_at, date(2026, 6, 23))
    assert not awaiting_engagement(released_at, date(2026, 6, 24))


def episode(exit_reason: str | None, ended: datetime | None) -> Episode:
    found = Episode(1, Referral("reception_screen", ("heroin",), "never", False),
                    RELEASED - timedelta(days=30))
    found.apply_outcome(ReferralOutcome("accepted"), RELEASED - timedelta(days=29))
    if exit_reason is not None and ended is not None:
        found.apply_discharge(Discharge(exit_reason), ended)
    return found


@pytest.mark.parametrize(("after", "referred"), [
    (timedelta(days=-3), True),
    (timedelta(0), True),
    (timedelta(days=1), True),
    (timedelta(days=1, minutes=1), False),
])
def test_a_transfer_to_the_community_is_a_referral_on_release_up_to_a_day_after_it(
        after: timedelta, referred: bool) -> None:
    assert referred_on_release(episode("transferred_not_in_custody", RELEASED + after),
                               RELEASED) is referred


def test_other_discharges_and_running_episodes_are_not_referrals_on_release() -> None:
    assert not referred_on_release(episode("completed", RELEASED), RELEASED)
    assert not referred_on_release(episode(None, None), RELEASED)
