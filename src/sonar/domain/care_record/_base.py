"""What every area of the care record shares: the record's state, its base event, the one way
an area records an event, and the checks on free text the areas take.

Each area (``identity``, ``journey``, ``pathway``, ``corrections``, ``access``, ``reset``,
``gp`` in this package) is a plain class holding that area's events and clinical verbs;
``CareRecord`` (``__init__.py``) composes them into the one aggregate.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import Aggregate

from sonar.domain import plausible
from sonar.domain.attribution import Attribution, before_birth, clinical_day
from sonar.domain.errors import InvalidValue

if TYPE_CHECKING:
    from sonar.domain.contacts import FamilyConsent, ReminderContact
    from sonar.domain.gp_record import GpRecord
    from sonar.domain.identity import Demographics, Identity
    from sonar.domain.journey import Journey
    from sonar.domain.reset import DiaryEntry, ReleasePlan
    from sonar.domain.sms_episode import Entry, Episode

    _Aggregate = Aggregate  # the areas run as parts of CareRecord, an Aggregate
else:
    _Aggregate = object


class RecordEvent(Aggregate.Event):
    """Base of every care-record event: each carries who, when, why and from where."""

    attribution: Attribution


class RecordArea(_Aggregate):
    """Base of the areas of ``CareRecord``: the state they read (set by its ``__init__``)
    and how they record an event.

    Verbs trigger ``self.<Event>``: on a ``CareRecord`` that is the composed class, which
    holds the stored topic ``sonar.domain.care_record:CareRecord.<Event>``.
    """

    identity: Identity
    demographics: Demographics
    registered_by: Attribution
    journey: Journey
    screens: list[Entry]
    episodes: list[Episode]
    gp_record: GpRecord
    break_glass_grants: dict[str, datetime]  # actor id → end of access
    family_notification_consents: dict[str, FamilyConsent]  # by member's name
    sharing_dissents: tuple[str, ...]  # organisations not to share with
    release_plans: tuple[ReleasePlan, ...]  # every revision, latest last
    diary: dict[str, DiaryEntry]  # appointment id → entry
    reminder_contact: ReminderContact | None

    def _record(self, event_class: type[RecordEvent], attribution: Attribution,
                **facts: Any) -> None:
        """Trigger the event with its facts, attributed and stamped with the recorded time."""
        self._check_clinical_time(attribution)
        self._trigger(event_class, attribution, **facts)

    def _check_clinical_time(self, attribution: Attribution) -> None:
        if before_birth(attribution.occurred_at, self.demographics.date_of_birth):
            raise InvalidValue("Clinical time is before the person's date of birth.",
                               rule="occurred_at.before_birth", field="occurred_at")

    def _trigger(self, event_class: type[RecordEvent], attribution: Attribution,
                 **facts: Any) -> None:
        self.trigger_event(event_class, attribution=attribution,
                           timestamp=attribution.recorded_at, **facts)


def place_name(value: str, field: str) -> str:
    """A name of a place or person (a site, an establishment, a worker): 1 to 100 printable
    characters once trimmed; returned trimmed."""
    text = value.strip()
    if not text or len(text) > 100:
        raise InvalidValue(f"{field} must have 1 to 100 characters.", rule="location.length",
                           field=field)
    if not text.isprintable():
        raise InvalidValue(f"{field} contains control characters.",
                           rule="text.control_characters", field=field)
    return text


def check_planned_day(value: date, field: str, attribution: Attribution, *,
                      rule: str, message: str) -> None:
    """A date planned by an action (a next review, an expected release): not before the
    action's clinical day (``rule``, ``message``), nor beyond the plausible horizon."""
    planned = clinical_day(attribution.occurred_at)
    if value < planned:
        raise InvalidValue(message, rule=rule, field=field)
    plausible.check_day(value, field, latest=plausible.ahead_of_day(planned))


def printable_text(value: str, field: str, limit: int, minimum: int = 1) -> str:
    """Free text of ``minimum`` to ``limit`` printable characters once trimmed; returned
    trimmed. The rule is ``<field>.length``."""
    text = value.strip()
    if not minimum <= len(text) <= limit or not text.isprintable():
        raise InvalidValue(f"{field} must have {minimum} to {limit} printable characters.",
                           rule=f"{field}.length", field=field)
    return text
