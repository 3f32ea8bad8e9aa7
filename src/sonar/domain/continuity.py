"""Continuity of care after release (../shared/DOMAIN.md): the rules every report of it
shares, so the continuity read model and the NDTMS extract agree.

A person released with a treatment need is engaged when their first community treatment is
within 21 calendar days of the day they left prison, in England's dates ("within 3 weeks"
is day 21 or earlier). Days, not hours: a release at 23:59 and one at 00:01 the next
morning are on different days, and the clock change moves no day.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sonar.domain.attribution import clinical_day
from sonar.domain.sms_episode import Episode

ENGAGED_WITHIN_DAYS = 21
REFERRED_ON_RELEASE_WITHIN = timedelta(days=1)


def within_calendar_days(first_day: date, day: date, days: int) -> bool:
    """Whether ``day`` is ``first_day`` or one of the ``days`` calendar days after it."""
    return 0 <= (day - first_day).days <= days


def days_after_release(released_at: datetime, moment: datetime) -> int:
    """Calendar days in England from the day of release to the day of ``moment`` (0: the
    same day)."""
    return (clinical_day(moment) - clinical_day(released_at)).days


def engaged_in_time(released_at: datetime, treatment_at: datetime) -> bool:
    """Whether community treatment at ``treatment_at`` is engagement in time after release."""
    return within_calendar_days(clinical_day(released_at), clinical_day(treatment_at),
                                ENGAGED_WITHIN_DAYS)


def awaiting_engagement(released_at: datetime, today: date) -> bool:
    """Whether someone not yet in community treatment can still engage in time: until the
    end of day 21 in England."""
    return within_calendar_days(clinical_day(released_at), today, ENGAGED_WITHIN_DAYS)


def referred_on_release(episode: Episode, released_at: datetime) -> bool:
    """Whether an episode of the custody stay was a referral on release: discharged
    "transferred - not in custody" before the release or within 24 hours after it."""
    return (episode.discharge is not None
            and episode.discharge.exit_reason == "transferred_not_in_custody"
            and episode.ended_at is not None
            and episode.ended_at <= released_at + REFERRED_ON_RELEASE_WITHIN)
