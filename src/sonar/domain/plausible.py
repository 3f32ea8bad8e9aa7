"""The window every clinical date and time must fall in where it enters SONAR.

A date outside it is a typing slip or an attack, never care: 0001-01-01 at +14:00 cannot be
converted to UTC at all, and a read model that cannot store a value stops. So every date
and time is checked where it enters, before any arithmetic is done on it:

- nothing before 1 January 1900 (no living person's care happened earlier);
- nothing after 31 December 2199 (far beyond any booking, and far from the calendar's end,
  so adding hours or days to an accepted time never overflows);
- dates that look ahead (appointments, next review, expected release, next dose) at most
  ``AHEAD`` after the moment they are recorded; dates of birth not after that day.

Comparisons of aware datetimes never overflow (Python compares them as if in UTC without
converting), so the checks are safe on any value a parser accepts.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sonar.domain.errors import InvalidValue

EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(2199, 12, 31)
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2199, 12, 31, 23, 59, 59, tzinfo=UTC)
AHEAD = timedelta(days=731)  # two years, a leap day included
RULE = "time.out_of_range"


def day_problem(value: date, field: str, *, latest: date = LATEST_DAY) -> InvalidValue | None:
    """Why ``value`` is not a plausible date (None if it is)."""
    if value < EARLIEST_DAY:
        return InvalidValue(f"{field} must be on or after 1 January 1900.", rule=RULE,
                            field=field)
    if value > latest:
        return InvalidValue(f"{field} must be on or before {latest:%-d %B %Y}.", rule=RULE,
                            field=field)
    return None


def moment_problem(value: datetime, field: str, *,
                   latest: datetime = LATEST) -> InvalidValue | None:
    """Why ``value`` (an aware datetime) is not a plausible time (None if it is)."""
    if value.tzinfo is None or value.utcoffset() is None:
        return InvalidValue(f"{field} must include a time zone offset.",
                            rule="time.timezone_required", field=field)
    if value < EARLIEST:
        return InvalidValue(f"{field} must be on or after 1 January 1900.", rule=RULE,
                            field=field)
    if value > latest:
        return InvalidValue(f"{field} must be on or before {latest:%-d %B %Y}.", rule=RULE,
                            field=field)
    return None


def check_day(value: date, field: str, *, latest: date = LATEST_DAY) -> None:
    problem = day_problem(value, field, latest=latest)
    if problem is not None:
        raise problem


def check_moment(value: datetime, field: str, *, latest: datetime = LATEST) -> None:
    problem = moment_problem(value, field, latest=latest)
    if problem is not None:
        raise problem


def ahead_of(recorded_at: datetime) -> datetime:
    """The latest plausible time for something booked or planned at ``recorded_at``."""
    return min(recorded_at + AHEAD, LATEST)


def ahead_of_day(day: date) -> date:
    """The latest plausible date for something planned on ``day``."""
    return min(day + AHEAD, LATEST_DAY)
