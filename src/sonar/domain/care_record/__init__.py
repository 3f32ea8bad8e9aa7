"""The patient's care record: one event-sourced aggregate per person.

One stream per person is the consistency boundary: identity, the journey across settings
and every SMS episode change together, so one person's history is totally ordered, an
auditor replays a single stream, and Kafka keys by the same id. Public methods are
imperative clinical verbs; they validate and compute derived facts, then trigger a
past-tense event holding only facts. Events carry the attribution and use its recorded
time as their timestamp, so the domain never reads a clock.

The record is composed of one class per area, each in its own module of this package with
that area's events and verbs: ``identity``, ``journey``, ``pathway`` (reception screen and
SMS episodes), ``corrections``, ``access`` (break glass, consent, dissent), ``reset`` and
``gp``. eventsourcing's aggregate metaclass redefines every event class of a direct base on
the class it composes, named for it and in its module, so each event is
``CareRecord.<Event>`` (a subclass of the area's own class and of ``CareRecord.Event``)
and is stored with the topic ``sonar.domain.care_record:CareRecord.<Event>``. Event bases
an area shares between its events (``journey.Moved``, ``pathway.EpisodeEvent``,
``pathway.EntryRecorded``, ``reset.AppointmentOutcome``) are kept out of the area classes,
so only concrete events are composed; test by those bases, not by ``CareRecord.<Base>``.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import Aggregate

from sonar.domain import codes
from sonar.domain.attribution import Attribution
from sonar.domain.care_record._base import RecordEvent
from sonar.domain.care_record.access import AccessAndConsent
from sonar.domain.care_record.corrections import Corrections
from sonar.domain.care_record.gp import GpImport
from sonar.domain.care_record.identity import IdentitySteps
from sonar.domain.care_record.journey import JourneySteps
from sonar.domain.care_record.pathway import SmsPathway
from sonar.domain.care_record.reset import ReleaseSupport
from sonar.domain.contacts import FamilyConsent
from sonar.domain.errors import InvalidValue
from sonar.domain.gp_record import GpRecord
from sonar.domain.identity import Demographics, Identity
from sonar.domain.journey import Journey
from sonar.domain.sms_episode import Episode


class CareRecord(IdentitySteps, JourneySteps, SmsPathway, Corrections, AccessAndConsent,
                 ReleaseSupport, GpImport, Aggregate):
    """A person's shared care record across police custody, prison and the community.

    ``class_version`` versions the snapshot state: version 1 kept the access, GP and ReSet
    state under private keys that older snapshots lack; ``upcast_v1_v2`` brings such a
    snapshot up to the attributes every record now has from registration. Version 2's
    episodes lack their running counts of entries, which ``upcast_v2_v3`` sets.
    """

    class_version = 3

    class Event(RecordEvent):
        """Base of the record's events (every area's, as composed here)."""

    class Registered(Event, Aggregate.Created):
        identity: Identity
        demographics: Demographics

    def __init__(self, identity: Identity, demographics: Demographics,
                 attribution: Attribution) -> None:
        self.identity = identity
        self.demographics = demographics
        self.registered_by = attribution
        self.journey = Journey()
        self.screens = []
        self.episodes = []
        self.gp_record = GpRecord()
        self.break_glass_grants = {}
        self.family_notification_consents = {}
        self.sharing_dissents = ()
        self.release_plans = ()
        self.diary = {}
        self.reminder_contact = None

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """Version-1 snapshots: private keys (absent until first used) → attributes."""
        def held(key: str, kind: type | tuple[type, ...], default: Any) -> Any:
            value = state.pop(key, None)
            return value if isinstance(value, kind) else default

        state["gp_record"] = held("_gp_record", GpRecord, None) or GpRecord()
        state["break_glass_grants"] = dict(held("_break_glass", dict, {}))
        state["family_notification_consents"] = {
            member: FamilyConsent(str(rel), str(channel), None)
            for member, (rel, channel) in held("_family_consents", dict, {}).items()}
        state["sharing_dissents"] = tuple(held("_dissents", (tuple, list), ()))
        state["release_plans"] = tuple(held("_release_plans", (tuple, list), ()))
        state["diary"] = dict(held("_diary", dict, {}))
        state["reminder_contact"] = None

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        """Version-2 snapshots: episodes without running counts of their entries."""
        for episode in state.get("episodes", ()):
            if isinstance(episode, Episode):
                episode.recount()

    @classmethod
    def register(cls, identity: Identity, demographics: Demographics,
                 attribution: Attribution) -> CareRecord:
        codes.SEX.check(demographics.sex, field="sex")
        if demographics.date_of_birth > attribution.recorded_at.date():
            raise InvalidValue("Date of birth cannot be in the future.",
                               rule="date_of_birth.not_in_future", field="date_of_birth")
        return cls._create(cls.Registered, identity=identity, demographics=demographics,
                           attribution=attribution, timestamp=attribution.recorded_at)
