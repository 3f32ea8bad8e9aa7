"""Who did what, for whom, when and why: the attribution every event carries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sonar.domain import codes, plausible
from sonar.domain.errors import InvalidValue
from sonar.domain.values import Immutable

# Clinical dates (treatment start, review due dates) are dates in England.
CLINICAL_TZ = ZoneInfo("Europe/London")


def clinical_day(moment: datetime) -> date:
    """The date in England of a moment, whatever offset it was sent with: "today" is the
    clinical day of the application's clock."""
    return moment.astimezone(CLINICAL_TZ).date()


def day_starts(day: date) -> datetime:
    """The moment a clinical day starts: midnight in England (GMT or BST, as on that day).
    A period of days ``first`` to ``last`` is ``day_starts(first)`` up to, not including,
    ``day_starts(last + 1 day)``."""
    return datetime.combine(day, time(), CLINICAL_TZ)


def before_birth(moment: datetime, date_of_birth: date) -> bool:
    """Whether a moment's date in England is before a date of birth. A UTC offset is less
    than a day either way, so that date is within two days of the moment's own date, and
    the time zone lookup is needed only near the birthday (it cost every command 2%)."""
    own = moment.date()
    if abs((own - date_of_birth).days) > 2:
        return own < date_of_birth
    return clinical_day(moment) < date_of_birth


@dataclass(frozen=True)
class Actor(Immutable):
    """The person (or system) acting, and the organisation and site they act for."""

    actor_id: str
    role: str
    organisation: str
    site: str

    def __post_init__(self) -> None:
        codes.ROLE.check(self.role, field="role")
        for field in ("actor_id", "organisation", "site"):
            value = getattr(self, field)
            if not value or len(value) > 100:
                raise InvalidValue(
                    f"{field} must have 1 to 100 characters.", rule="actor.length", field=field
                )


@dataclass(frozen=True)
class Attribution(Immutable):
    """Attribution of one clinical action.

    ``occurred_at`` is clinical time (may be in the past: a late entry); ``recorded_at`` is
    when SONAR stored it, read from the application's clock. Clinical time is never after
    recorded time.
    """

    actor: Actor
    purpose_of_use: str
    source: str
    correlation_id: str
    occurred_at: datetime
    recorded_at: datetime

    def __post_init__(self) -> None:
        codes.PURPOSE_OF_USE.check(self.purpose_of_use, field="purpose_of_use")
        codes.SOURCE.check(self.source, field="source")
        for field in ("occurred_at", "recorded_at"):
            plausible.check_moment(getattr(self, field), field)
        if self.occurred_at > self.recorded_at:
            raise InvalidValue(
                "Clinical time (occurred_at) cannot be in the future.",
                rule="occurred_at.not_in_future",
                field="occurred_at",
            )
